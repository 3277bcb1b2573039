from __future__ import annotations

from typing import Any

from flask import Response, current_app, request
from flask_smorest import Blueprint
from marshmallow import Schema, fields, validate

from app.casefile import progress
from app.casefile.access import cases_of_applicant, definition_of, get_case
from app.cases import inquiry, intake, materials, notices
from app.cases.summary import case_summary, show_case
from app.errors import NotFound, PermissionDenied, RuleRefused, ValidationFailed
from app.registry.certificates import issuing_config
from app.vocabulary import RatingChannel
from app.web import current_actor, db_session, keep_writes_on_error, pdf_response, settings

blp = Blueprint("applications", __name__, url_prefix="/api/v1/applications", description="登记申请")


class CreateApplication(Schema):
    business_type = fields.String(required=True, validate=validate.Length(min=1, max=64))
    form = fields.Dict(required=True)
    tenant_id = fields.String(load_default=None)
    # an agent institution files for its client under a recorded 授权委托书 (/api/v1/powers-of-attorney)
    power_of_attorney_id = fields.String(load_default=None, validate=validate.Length(max=32))


class UpdateApplication(Schema):
    form = fields.Dict(required=True)


class ShowArgs(Schema):
    unmask = fields.Boolean(load_default=False)


def _show(case: Any, unmask: bool = False) -> dict[str, Any]:
    return show_case(db_session(), current_actor(), case, unmask=unmask)


@blp.get("")
def list_mine() -> dict[str, Any]:
    """我的申请"""
    actor = current_actor()
    actor.require("application:read_own")
    return {"items": [case_summary(db_session(), c) for c in cases_of_applicant(db_session(), actor)]}


@blp.post("")
@blp.arguments(CreateApplication)
@blp.response(201)
def create(body: dict[str, Any]) -> dict[str, Any]:
    """创建申请（草稿）"""
    case = intake.create_application(db_session(), current_actor(), body["business_type"], body["form"],
                                     tenant_id=body.get("tenant_id"),
                                     power_of_attorney_id=body.get("power_of_attorney_id"))
    return _show(case)


@blp.get("/<case_id>")
@blp.arguments(ShowArgs, location="query")
def show(args: dict[str, Any], case_id: str) -> dict[str, Any]:
    """申请详情（个人信息默认脱敏；unmask=1 需权限并留痕）"""
    return _show(get_case(db_session(), current_actor(), case_id), args["unmask"])


@blp.patch("/<case_id>")
@blp.arguments(UpdateApplication)
def update(body: dict[str, Any], case_id: str) -> dict[str, Any]:
    """修改草稿或补正中的申请"""
    actor = current_actor()
    case = get_case(db_session(), actor, case_id)
    return _show(intake.update_application(db_session(), actor, case, body["form"]))


@blp.patch("/<case_id>/fields")
@blp.arguments(UpdateApplication)
def correct_fields(body: dict[str, Any], case_id: str) -> dict[str, Any]:
    """办理环节更正申请信息（仅限本环节本角色可修改的字段；只读字段 403）"""
    from app.cases.field_access import correct_fields as correct

    actor = current_actor()
    return _show(correct(db_session(), actor, get_case(db_session(), actor, case_id), body["form"]))


@blp.post("/<case_id>/materials")
@blp.response(201)
def upload_material(case_id: str) -> dict[str, Any]:
    """上传申请材料（multipart：code、file；按文件内容识别类型）"""
    actor = current_actor()
    session = db_session()
    case = get_case(session, actor, case_id)
    code = request.form.get("code", "").strip()
    upload = request.files.get("file")
    if not code:
        raise ValidationFailed("请指定材料类型", field="code")
    if upload is None:
        raise ValidationFailed("请选择要上传的文件", field="file")
    content = upload.read(settings().max_upload_mb * 1024 * 1024 + 1)
    material = materials.add_material(session, current_app.extensions["storage"], actor, case,
                                      definition_of(session, case), code=code, filename=upload.filename or "",
                                      content=content)
    return {"id": material.id, "code": material.code, "content_type": material.content_type,
            "size": material.size, "sha256": material.sha256,
            "materials_missing": materials.missing_codes(definition_of(session, case), case)}


@blp.delete("/<case_id>/materials/<material_id>")
@blp.response(204)
def delete_material(case_id: str, material_id: str) -> None:
    """删除已上传的材料"""
    actor = current_actor()
    case = get_case(db_session(), actor, case_id)
    materials.remove_material(db_session(), current_app.extensions["storage"], actor, case, material_id)


@blp.post("/<case_id>/confirm")
def confirm(case_id: str) -> dict[str, Any]:
    """当事人确认申请（以账户电子签名确认；双方申请须各方确认后方可提交）"""
    actor = current_actor()
    case = get_case(db_session(), actor, case_id)
    intake.confirm_application(db_session(), actor, case)
    return _show(case)


@blp.post("/<case_id>/proposals")
@blp.arguments(UpdateApplication)
@blp.response(201)
def propose(body: dict[str, Any], case_id: str) -> dict[str, Any]:
    """共同申请人提出修改建议（由创建人采纳或不采纳；采纳即修改，各方须重新签名确认）"""
    from app.cases.proposals import propose as make_proposal

    actor = current_actor()
    proposal = make_proposal(db_session(), actor, get_case(db_session(), actor, case_id), body["form"])
    return {"id": proposal.id, "status": proposal.status}


@blp.get("/<case_id>/proposals")
def list_proposals(case_id: str) -> dict[str, Any]:
    """修改建议（创建人可见建议的内容）"""
    from app.cases.proposals import proposals_of

    actor = current_actor()
    return {"items": proposals_of(db_session(), actor, get_case(db_session(), actor, case_id))}


def _decide(case_id: str, proposal_id: str, *, accept: bool) -> dict[str, Any]:
    from app.cases.proposals import decide

    actor = current_actor()
    case = get_case(db_session(), actor, case_id)
    decide(db_session(), actor, case, proposal_id, accept=accept)
    return _show(case)


@blp.post("/<case_id>/proposals/<proposal_id>/accept")
def accept_proposal(case_id: str, proposal_id: str) -> dict[str, Any]:
    """创建人采纳修改建议（即修改申请；各方须重新签名确认）"""
    return _decide(case_id, proposal_id, accept=True)


@blp.post("/<case_id>/proposals/<proposal_id>/decline")
def decline_proposal(case_id: str, proposal_id: str) -> dict[str, Any]:
    """创建人不采纳修改建议"""
    return _decide(case_id, proposal_id, accept=False)


class InviteArgs(Schema):
    phone = fields.String(required=True, validate=validate.Length(min=1, max=20))
    party_role = fields.String(required=True, validate=validate.Length(min=1, max=32))


@blp.post("/<case_id>/invitations")
@blp.arguments(InviteArgs)
@blp.response(201)
def invite(args: dict[str, Any], case_id: str) -> dict[str, Any]:
    """邀请其他当事人确认：短信发送签名链接（对方登录、实名认证后查看并确认）"""
    from app.cases.invitations import invite as send_invitation

    actor = current_actor()
    case = get_case(db_session(), actor, case_id)
    sent = send_invitation(db_session(), actor, case, phone=args["phone"], party_role=args["party_role"],
                           secret=settings().secret_key, base_url=settings().public_base_url)
    return {"id": sent.invitation.id, "party_role": sent.invitation.party_role,
            "expires_at": sent.invitation.expires_at.isoformat()}


class InquiryAnswers(Schema):
    answers = fields.Dict(keys=fields.String(), values=fields.String(), required=True)


@blp.put("/<case_id>/inquiry")
@blp.arguments(InquiryAnswers)
def answer_inquiry(body: dict[str, Any], case_id: str) -> dict[str, Any]:
    """回答询问笔录（业务定义中的询问事项）"""
    actor = current_actor()
    case = get_case(db_session(), actor, case_id)
    inquiry.answer(db_session(), actor, case, body["answers"])
    return {"items": inquiry.record(definition_of(db_session(), case), case)}


@blp.get("/<case_id>/inquiry")
def show_inquiry(case_id: str) -> dict[str, Any]:
    """询问笔录（问答；与预期不符的回答标记 flag）"""
    case = get_case(db_session(), current_actor(), case_id)
    return {"items": inquiry.record(definition_of(db_session(), case), case)}


@blp.post("/<case_id>/submit")
def submit(case_id: str) -> dict[str, Any]:
    """提交申请；补正中的申请再次提交即完成补正"""
    actor = current_actor()
    case = get_case(db_session(), actor, case_id)
    if actor.kind == "staff":
        raise PermissionDenied("工作人员不能代替申请人提交网上申请", code="forbidden")
    try:
        intake.submit_application(db_session(), actor, case)
    except RuleRefused:
        keep_writes_on_error()  # the refusal (rule results, audit entry) stays on the draft
        raise
    return _show(case)


@blp.get("/<case_id>/progress")
def show_progress(case_id: str) -> dict[str, Any]:
    """办理进度（时间线）"""
    case = get_case(db_session(), current_actor(), case_id)
    return {"business_no": case.business_no, "status": case.status,
            "events": progress.timeline(db_session(), case)}


@blp.get("/<case_id>/notices")
def list_notices(case_id: str) -> dict[str, Any]:
    """告知文书：受理通知书、不予受理告知书、补正材料通知书（当事人与经办人员可下载 PDF）"""
    case = get_case(db_session(), current_actor(), case_id)
    return {"items": [{"kind": n.kind, "title": n.title, "decided_at": n.task.completed_at.isoformat()
                       if n.task.completed_at else None, "pdf": f"/api/v1/applications/{case.id}/notices/{n.kind}.pdf"}
                      for n in notices.notices_of_case(db_session(), case)]}


@blp.get("/<case_id>/notices/<kind>.pdf")
def notice_pdf(case_id: str, kind: str) -> Response:
    """下载告知文书 PDF（kind：acceptance / rejection / correction）"""
    if kind not in notices.KINDS:
        raise NotFound("没有此类通知书", code="notice_not_found")
    case = get_case(db_session(), current_actor(), case_id)
    pdf = notices.render_notice(db_session(), case, kind, issuing_config().font)
    return pdf_response(pdf, f"{kind}-{case.business_no}.pdf", inline=False)


class RatingArgs(Schema):
    # Raw: a value off the scale gets the use case's own message naming ``level`` (not a type error)
    level = fields.Raw(required=True, metadata={
        "description": "5 非常满意 / 4 满意 / 3 基本满意 / 2 不满意 / 1 非常不满意，或其中文名称"})
    comment = fields.String(load_default="", metadata={"description": "评价意见（选填，不超过 500 字）"})


@blp.post("/<case_id>/rating")
@blp.arguments(RatingArgs)
@blp.response(201)
def rate(args: dict[str, Any], case_id: str) -> dict[str, Any]:
    """好差评：业务办结（或不予受理、不予登记、撤回）后，当事人评价一次；差评开启整改并答复"""
    from app.feedback.service import rate_case

    actor = current_actor()
    case = get_case(db_session(), actor, case_id)
    rating = rate_case(db_session(), actor, case, level=args["level"], comment=args["comment"],
                       channel=RatingChannel.API)
    return {"id": rating.id, "level": rating.level, "follow_up": rating.follow_up_case_id is not None}


@blp.get("/<case_id>/rating")
def rating(case_id: str) -> dict[str, Any]:
    """本人对该业务的评价：可否评价、已给的评价，差评的整改进度和答复"""
    from app.feedback.service import rating_panel

    actor = current_actor()
    panel = rating_panel(db_session(), actor, get_case(db_session(), actor, case_id))
    if panel is None:
        return {"may_rate": False, "rated": False}
    panel.pop("levels", None)
    if panel.get("at"):
        panel["at"] = panel["at"].isoformat()
    follow_up = panel.get("follow_up")
    if follow_up and follow_up.get("answered_at"):
        follow_up["answered_at"] = follow_up["answered_at"].isoformat()
    return {**panel, "rated": not panel["may_rate"]}
