"""Intake use cases: an application from draft to submission (and resubmission after 补正).

The portal and the API call these; the portal never reaches the engine or the register directly, so the
internet zone can later be cut off from the back office along this seam (DESIGN.md §5)."""
from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Any

from sqlalchemy import inspect, select
from sqlalchemy.orm import Session

from app.casefile import consent, progress
from app.casefile.access import definition_of
from app.casefile.context import CaseContext
from app.casefile.models import Case, Party, Task
from app.casefile.status import DRAFT, SUBMITTED, status_for_outcome, status_for_stage
from app.casefile.storage import Storage
from app.cases import application_form, attorney, inbox
from app.cases.co_holders import typed_members
from app.cases.inquiry import unanswered
from app.cases.materials import checklist, missing_codes
from app.cases.numbers import next_business_no
from app.cases.signing import Signature, sign
from app.catalog.definitions import BusinessTypeDef, PartyRole
from app.catalog.forms import pii_fields, prefill_fields, validate_form_data
from app.catalog.service import current_version, version_definition
from app.clock import beijing_today
from app.db import utcnow
from app.engine.runtime import StepOutcome, WorkflowRuntime
from app.errors import Conflict, NotFound, PermissionDenied, RuleRefused, RuleRefusedInOffice, ValidationFailed
from app.identity.actor import Actor
from app.identity.institutions import require_port_open
from app.identity.models import Tenant, User
from app.integrations.answers import discard_if_waiting, read_once
from app.registry import rule_results
from app.registry.co_ownership import Quorum, quorum, register_members
from app.registry.fees import fees_for_case
from app.registry.rules import blocking, check_case
from app.registry.service import unit_with_rights
from app.security import audit
from app.security.masking import mask_name
from app.vocabulary import EDITABLE_STATUSES, CaseStatus, Channel, EventKind, Stage, TaskStatus

EDITABLE = (DRAFT,)
# What a party has done that survives an edit of the form as long as the party is the same person.
# Whether it still stands is app/casefile/consent.py's call (a change of the signed content voids it).
_KEPT_ON_EDIT = ("confirmed_at", "confirmed_by", "face_checked_at", "face_score", "signed_at", "signature_kind",
                 "signature_sha256", "signature_material_id", "signed_content_sha256", "confirmation_voided_at")


def _application_schema(definition: BusinessTypeDef) -> dict[str, Any]:
    return definition.application_schema


def prefill_for(session: Session, actor: Actor, schema: dict[str, Any]) -> dict[str, Any]:
    """The fields of a new application that the verified identity fills in (shown before anything is saved)."""
    return _prefill(session, actor.user_id, schema, {})


def _prefill(session: Session, user_id: str | None, schema: dict[str, Any], form: dict[str, Any]) -> dict[str, Any]:
    """Fill the form's empty x-prefill fields from the verified identity of user ``user_id`` — unless it is an
    organisation the form already names in another field: a bank filing a mortgage as the mortgagee (its USCC in
    ``mortgagee_uscc``) is not also the mortgagor the prefill annotations describe. (A person may well be named
    twice: the holder before and after a change of name.)"""
    sources = prefill_fields(schema)
    if not sources or not user_id:
        return form
    user = session.get(User, user_id)
    if user is None:
        return form
    own = (user.id_number or "").upper()
    if own and user.kind == "institution" and any(isinstance(value, str) and value.strip().upper() == own
                   for field, value in form.items() if field not in sources):
        return form
    identity = {"identity.real_name": user.real_name, "identity.id_number": user.id_number,
                "identity.phone": user.phone}
    filled = dict(form)
    for field, source in sources.items():
        if filled.get(field) in (None, "") and identity.get(source):
            filled[field] = identity[source]
    return filled


def _apply_form(session: Session, case: Case, definition: BusinessTypeDef, form: dict[str, Any],
                *, partial: bool) -> None:
    if definition.applicant_mode == "内部":  # the platform fills these itself (a 差评's follow-up, app/feedback)
        raise PermissionDenied("该事项由登记机构内部办理，不能申请", code="internal_type")
    schema = _application_schema(definition)
    data = validate_form_data(schema, form, partial=partial)
    secret = pii_fields(schema)
    case.form_data = data
    case.form_public = {k: v for k, v in data.items() if k not in secret}
    case.unit_code = data.get("unit_code")
    existing = {(p.role, p.id_number_bidx): p for p in case.parties}
    case.parties.clear()
    if inspect(case).persistent:  # an edit: the old parties are deleted before the new take their places
        session.flush()
    for role in definition.parties:
        party = Party(case_id=case.ensure_id(), tenant_id=case.tenant_id, position=len(case.parties),
                      role=role.role, label=role.label, kind=role.kind or "person")
        party.ensure_id()
        party.name = data.get(role.name_field)
        party.id_number = data.get(role.id_field)
        further = [*_register_members(session, case, definition, role, data, party),
                   *typed_members(case, role, data, party)]
        for member in [party, *further]:
            old = existing.get((member.role, member.id_number_bidx))
            if old is not None and old.name == member.name:
                for kept in _KEPT_ON_EDIT:
                    setattr(member, kept, getattr(old, kept))
            case.parties.append(member)


def _register_members(session: Session, case: Case, definition: BusinessTypeDef, role: PartyRole,
                      data: dict[str, Any], typed: Party) -> list[Party]:
    """A ``multiple`` role filled from the register: the form's entry (``typed``) takes its holder's share and
    mode, and every other current holder joins as a member of the role — the book says who holds."""
    if not role.multiple or role.from_register != "holders":
        return []
    holders = register_members(session, definition, role.role, data, typed.id_number_bidx)
    others: list[Party] = []
    for holder in holders:
        if holder.id_number_bidx == typed.id_number_bidx:
            typed.share, typed.share_mode = holder.share, holder.share_mode
            continue
        member = Party(case_id=case.id, tenant_id=case.tenant_id, position=typed.position + 1 + len(others),
                       role=typed.role, label=typed.label, kind=holder.kind, share=holder.share,
                       share_mode=holder.share_mode)
        member.ensure_id()
        member.name, member.id_number = holder.name, holder.id_number
        others.append(member)
    return others


def _tenant_for(session: Session, form: dict[str, Any], tenant_id: str | None) -> str:
    unit_code = str(form.get("unit_code") or "").replace(" ", "")
    if unit_code:
        # read once, with its rights: the register members and the rules need them too
        unit = unit_with_rights(session, unit_code, all_tenants=True)
        if unit is None:
            raise ValidationFailed("登记簿中没有该不动产单元，请核对不动产单元代码", field="unit_code")
        return unit.tenant_id
    tenant = session.get(Tenant, tenant_id) if tenant_id else None
    if tenant is None or tenant.level != "district":
        raise ValidationFailed("请选择办理辖区", field="tenant_id")
    return tenant.code


def create_application(session: Session, actor: Actor, business_type: str, form: dict[str, Any], *,
                       tenant_id: str | None = None, channel: Channel | None = None,
                       permission: str = "application:create", power_of_attorney_id: str | None = None,
                       origin: tuple[str, str] | None = None) -> Case:
    """``permission``: what the actor needs to open this kind of case (a court's 嘱托 needs court:entrust).
    ``channel`` (for statistics): by default ``institution`` when a bank, developer or agent applies through
    its account, else ``online``; window intake and court entrustment name theirs. An agent institution, not a
    party itself, files for its client under a recorded 授权委托书 (``power_of_attorney_id``,
    app/cases/attorney.py). An institution whose port an operator closed files nothing new
    (app/identity/institutions.py); its running cases go on. ``origin``: (platform code, its reference) when
    another platform sent the application or the applicant (issue 20): reported upward with every step."""
    actor.require(permission)
    if actor.kind == "institution":
        require_port_open(session, actor)
    channel = channel or (Channel.INSTITUTION if actor.kind == "institution" else Channel.ONLINE)
    version = current_version(session, business_type)
    definition = version_definition(version)
    # an agent types its client's particulars: its own identity fills nothing
    for_client = power_of_attorney_id is not None or attorney.is_agent(session, actor)
    if not for_client:
        form = _prefill(session, actor.user_id, _application_schema(definition), form)
    elif power_of_attorney_id is not None:
        form = attorney.with_agent(definition, form)  # the 授权委托书 and the agent's ID are asked for
    case = Case(business_type_code=business_type, process_version_id=version.id, status=DRAFT,
                channel=channel, applicant_id=actor.user_id, tenant_id=_tenant_for(session, form, tenant_id),
                origin_code=origin[0] if origin else None, origin_ref=origin[1] if origin else None)
    case.ensure_id()
    session.add(case)
    # The new case stays pending until the commit (issue 18): the register reads below would flush it early,
    # and then its parties were read back (none) and its first event's number written by a second UPDATE.
    with session.no_autoflush:
        _apply_form(session, case, definition, form, partial=True)
        if actor.id_number_bidx not in {p.id_number_bidx for p in case.parties}:
            if not for_client:
                raise PermissionDenied("您不是本申请的当事人，不能以本人名义申请", code="not_a_party")
            attorney.file_under_power_of_attorney(session, actor, case, power_of_attorney_id)
        progress.add_event(session, case, kind=EventKind.CREATED, actor=actor, message="申请已创建（草稿）")
    audit.record(session, actor_id=actor.user_id, action="case.create", object_type="case", object_id=case.id,
                 tenant_id=case.tenant_id, after={"business_type": business_type, "status": case.status})
    return case


def create_window_application(session: Session, actor: Actor, business_type: str | None, form: dict[str, Any], *,
                              appointment_code: str | None = None) -> Case:
    """线下一窗受理: a clerk enters a walk-in applicant's application at the office window. The case is the
    same as an online one (channel ``window``) and runs the same process once submitted."""
    actor.require("case:window_intake")
    appointment = None
    if appointment_code:  # 预约签到: the booking gives the type and the applicant's verified identity
        from app.cases.appointments import check_in

        try:
            appointment = check_in(session, actor, appointment_code)
        except (NotFound, Conflict) as exc:
            raise ValidationFailed(exc.message, field="appointment_code") from exc
        business_type = appointment.business_type_code
        schema = _application_schema(version_definition(current_version(session, business_type)))
        form = _prefill(session, appointment.user_id, schema, {k: v for k, v in form.items() if v not in (None, "")})
    if not business_type:
        raise ValidationFailed("请选择业务类型", field="business_type")
    version = current_version(session, business_type)
    if not actor.tenant_id:
        raise PermissionDenied("窗口受理须由区级登记机构的工作人员办理", code="forbidden")
    case = Case(business_type_code=business_type, process_version_id=version.id, status=DRAFT, channel=Channel.WINDOW,
                applicant_id=actor.user_id, tenant_id=actor.tenant_id)
    case.ensure_id()
    session.add(case)
    _apply_form(session, case, version_definition(version), form, partial=True)
    if case.unit_code and _tenant_for(session, form, None) != actor.tenant_id:
        raise ValidationFailed("该不动产单元不属于本登记机构辖区，请到不动产所在地登记机构办理", field="unit_code")
    progress.add_event(session, case, kind=EventKind.CREATED, actor=actor, message="窗口录入申请（草稿）")
    if appointment is not None:
        session.flush()  # the case's row first: no relationship tells the flush that the appointment refers to it
        appointment.case_id = case.id
    audit.record(session, actor_id=actor.user_id, action="case.create", object_type="case", object_id=case.id,
                 tenant_id=case.tenant_id, after={"business_type": business_type, "status": case.status,
                                                  "channel": "window", "appointment": bool(appointment_code)})
    return case


def submit_window_application(session: Session, actor: Actor, case: Case, *, today: date | None = None) -> Case:
    """The clerk has checked every applicant's identity documents and signatures in person: that is their
    confirmation (recorded as given by the clerk), then the case is submitted like an online one."""
    actor.require("case:window_intake")
    if case.channel != Channel.WINDOW or case.status != DRAFT:
        raise Conflict("只有窗口录入的草稿可以在窗口提交", code="case_not_editable")
    now, digest = utcnow(), consent.content_digest(case)
    for party in case.parties:
        if party.confirmed_at is None or party.signed_content_sha256 != digest:
            party.confirmed_at, party.confirmed_by = now, actor.user_id
            consent.mark_signed(party, digest)
    _make_application_form(session, actor, case, None, None)  # the parties signed the printed one in person
    return submit_application(session, actor, case, today=today)


def update_application(session: Session, actor: Actor, case: Case, form: dict[str, Any]) -> Case:
    if case.status not in EDITABLE_STATUSES:
        raise Conflict("申请已提交，不能修改", code="case_not_editable")
    definition = definition_of(session, case)
    consent.require_may_edit(definition, actor, case)
    before = consent.snapshot(case)
    merged = {**before.form, **form}
    if case.power_of_attorney_id:  # filed under a 委托书: it stays a case with an agent
        merged = attorney.with_agent(definition, merged)
    _apply_form(session, case, definition, merged, partial=True)
    if case.power_of_attorney_id and actor.user_id == case.applicant_id:  # the agent stays within the 委托书
        attorney.file_under_power_of_attorney(session, actor, case, case.power_of_attorney_id)
    consent.record_change(session, actor, case, before, definition, source=consent.changed_by(actor, case))
    if case.unit_code and _tenant_for(session, merged, None) != case.tenant_id:
        raise ValidationFailed("不动产单元不属于本申请的办理辖区", field="unit_code")
    audit.record(session, actor_id=actor.user_id, action="case.update", object_type="case", object_id=case.id,
                 tenant_id=case.tenant_id, after={"fields": sorted(form)})
    return case


def confirm_application(session: Session, actor: Actor, case: Case, signature: Signature | None = None, *,
                        storage: Storage | None = None, font_path: Path | None = None) -> list[Party]:
    """A party reviews the application, pledges it is true and confirms it as theirs by signing
    (app/cases/signing.py): drawn or typed after a face check in the portal, the account signature for an
    API client (``signature`` None)."""
    mine = [p for p in case.parties if actor.id_number_bidx and p.id_number_bidx == actor.id_number_bidx]
    if not consent.may_reconfirm(case, mine):  # after submission only a voided confirmation is given again
        raise Conflict("申请已提交，无需确认", code="case_not_editable")
    if not mine:
        raise PermissionDenied("您不是本申请的当事人，不能确认", code="not_a_party")
    sign(session, storage, actor, case, signature or Signature(), font_path=font_path)
    now = utcnow()
    for party in mine:
        party.confirmed_at, party.confirmed_by = now, actor.user_id
    labels = "、".join(p.label for p in mine)
    if not _pending_confirmations(definition_of(session, case), case):  # the last signature: the 申请书
        application_form.request_form(session, case)  # rendered and signed after the commit
    # After the mark above: the UPDATE that numbers the event writes it too.
    progress.add_event(session, case, kind=EventKind.CONFIRMED, actor=actor, message=f"{labels}已签名确认申请")
    audit.record(session, actor_id=actor.user_id, action="case.confirm", object_type="case", object_id=case.id,
                 tenant_id=case.tenant_id, after={"roles": [p.role for p in mine]})
    return mine


def _make_application_form(session: Session, actor: Actor, case: Case, storage: Storage | None,
                           font_path: Path | None) -> None:
    """Generate the 申请书 (app/cases/application_form.py) with this app's storage and certificate font unless
    the caller passed its own."""
    from flask import current_app

    from app.registry.certificates import issuing_config

    application_form.regenerate(session, storage or current_app.extensions["storage"], actor, case,
                                font_path or issuing_config().font)


def _pending_confirmations(definition: BusinessTypeDef, case: Case) -> list[Party]:
    """Parties whose confirmation is still needed (a joint owner's not, once his co-owners who confirmed are
    enough to dispose of the right)."""
    confirm_roles = definition.confirm_roles  # None: every party confirms
    quorums = _member_quorums(case)
    return [p for p in case.parties if p.confirmed_at is None
            and (confirm_roles is None or p.role in confirm_roles)
            and not (p.role in quorums and quorums[p.role].met)]


def submission_problems(session: Session, case: Case) -> dict[str, list[str]]:
    definition = definition_of(session, case)
    problems: dict[str, list[str]] = {}
    try:
        validate_form_data(_application_schema(definition), case.form_data)
    except ValidationFailed as exc:
        problems.update(exc.errors)
    names = {m.code: m.name for m in checklist(definition)}
    missing = missing_codes(definition, case)
    if missing:
        problems["materials"] = [f"请上传：{names.get(c, c)}" for c in missing]
    quorums = _member_quorums(case)
    pending = _pending_confirmations(definition, case)
    if pending:
        problems["confirmations"] = [f"待{_signer_label(case, p)}确认申请并签名" for p in pending]
        labels = {p.role: p.label for p in case.parties}
        problems["confirmations"] += [f"{labels[role]}：{q.requirement()}" for role, q in quorums.items()
                                      if not q.met and q.holders > 1]
    return problems


def _member_quorums(case: Case) -> dict[str, Quorum]:
    """Per role filled from the register: whether its members who confirmed are enough to dispose of the
    right (all joint owners, ≥ 2/3 of the shares …); once they are, the others need not confirm."""
    members: dict[str, list[Party]] = {}
    for p in case.parties:
        if p.share_mode is not None:
            members.setdefault(p.role, []).append(p)
    return {role: quorum(ps, [p.id_number_bidx for p in ps if p.confirmed_at is not None])
            for role, ps in members.items()}


def _signer_label(case: Case, party: Party) -> str:
    """The role's label, with the masked name when several persons act in the role."""
    if sum(p.role == party.role for p in case.parties) > 1:
        return f"{party.label}（{mask_name(party.name)}）"
    return party.label


def submit_application(session: Session, actor: Actor, case: Case, *, today: date | None = None,
                       require_inquiry: bool = False) -> Case:
    """``require_inquiry``: the portal asks the 询问笔录 online and refuses submission without it; other
    channels leave it to the 受理 clerk, who asks at acceptance (细则 第十五条)."""
    if case.status == CaseStatus.CORRECTING:
        return _resubmit(session, actor, case, today)
    if case.status != DRAFT:
        raise Conflict("该申请已提交", code="already_submitted")
    consent.require_current(definition_of(session, case), case, only_voided=True)
    problems = submission_problems(session, case)
    if require_inquiry and (missing := unanswered(definition_of(session, case), case)):
        problems["inquiry"] = [f"请完成询问笔录（尚有 {len(missing)} 项未回答）"]
    if problems:
        raise ValidationFailed("申请尚不能提交：" + "；".join(m for ms in problems.values() for m in ms),
                               code="not_ready", errors=problems)
    office = read_once(session, Tenant, case.tenant_id)  # not read again by the pass that stands
    if office is not None and not office.enabled:
        raise Conflict(f"{office.name}登记机构已停用，暂不受理新的申请", code="tenant_disabled")
    definition = definition_of(session, case)
    results = _check_register_rules(session, case, definition, actor, keep=False)
    # The number before the first write: a pass that has written nothing takes it at once and goes on to
    # collect its department calls (app/integrations/answers.py reserved).
    business_no = next_business_no(session, case.tenant_id, (today or beijing_today()).year, definition.reg_class)
    case.rule_results = results
    case.business_no, case.submitted_at, case.status = business_no, utcnow(), SUBMITTED
    case.fee_items = fees_for_case(session, definition, case)  # written with the above, in one UPDATE
    # A pass that wants department answers ends once the engine has run, before its state is written: the
    # calls are made and the submission run again with their answers.
    context = CaseContext(session, case, actor)
    attorney.check_notarial(context)  # a 委托书's 公证, with the diagram's department checks (司法 down: it waits)
    runtime = WorkflowRuntime(session, context, before_save=lambda: discard_if_waiting(session))
    data = {"case_id": case.id, "business_type": case.business_type_code, **case.form_public}
    outcome = runtime.start(case.id, case.process_version_id, data)
    apply_outcome(session, case, outcome, today, [])  # a draft has no task rows: none to read
    progress.add_event(session, case, kind=EventKind.SUBMITTED, actor=actor,
                       message=f"申请已提交，业务号 {case.business_no}")
    audit.record(session, actor_id=actor.user_id, action="case.submit", object_type="case", object_id=case.id,
                 tenant_id=case.tenant_id, before={"status": DRAFT},
                 after={"status": case.status, "business_no": case.business_no})
    return case


def _check_register_rules(session: Session, case: Case, definition: BusinessTypeDef, actor: Actor | None = None,
                          *, code: str = "rule_blocked", error: type[RuleRefused] = RuleRefused,
                          keep: bool = True) -> dict[str, Any] | list[Any]:
    """R1–R9 against the register book (app/registry/rules.py); results are kept with the case (``keep``
    False: returned for the caller to keep, the case left unchanged unless refused). A refusal is audited
    and leaves ``rule_results`` on the case: a skin that lets the refusal's writes stand
    (``web.keep_writes_on_error``) keeps it on the draft for the applicant and the clerk to see."""
    results = check_case(session, case, definition)
    kept = rule_results.pack(results)  # the passing texts are not stored again
    refused = blocking(results)
    if keep or refused:
        case.rule_results = kept
    if refused:
        audit.record(session, actor_id=actor.user_id if actor else None, action="case.rule_refused",
                     object_type="case", object_id=case.id, tenant_id=case.tenant_id,
                     after={"status": case.status, "rules": [r.code for r in refused]})
        messages = [r.message for r in refused]
        raise error("该不动产单元当前不能办理此业务：" + "；".join(messages), code=code,
                    refusals=[r.as_dict() for r in refused], errors={"unit_code": messages})
    return kept


def check_rules_at_acceptance(session: Session, actor: Actor, case: Case, definition: BusinessTypeDef) -> None:
    """受理 re-checks the rules: the register may have changed since submission, and a paper consent
    uploaded with the application counts only once the clerk has recorded whose consent it is."""
    _check_register_rules(session, case, definition, actor, code="rule_blocked_at_acceptance",
                          error=RuleRefusedInOffice)


def _resubmit(session: Session, actor: Actor, case: Case, today: date | None) -> Case:
    """Every party that must confirm signs the corrected application again (consent.require_current)."""
    consent.require_current(definition_of(session, case), case)
    problems = submission_problems(session, case)
    problems.pop("confirmations", None)
    if problems:
        raise ValidationFailed("补正尚未完成：" + "；".join(m for ms in problems.values() for m in ms),
                               code="not_ready", errors=problems)
    task = session.execute(select(Task).where(Task.case_id == case.id, Task.status == TaskStatus.OPEN,
                                              Task.role == "applicant")).scalars().first()
    if task is None:
        raise Conflict("没有待补正的事项", code="nothing_to_correct")
    _check_register_rules(session, case, definition_of(session, case), actor)  # the register may have changed since
    runtime = WorkflowRuntime(session, CaseContext(session, case, actor),
                              before_save=lambda: discard_if_waiting(session))
    outcome = runtime.complete(case.id, task.spiff_task_id, {"decision": "approve"})
    task.status, task.completed_at = TaskStatus.COMPLETED, utcnow()
    task.completed_by, task.decision = actor.user_id, "approve"
    case.correction_items = []
    case.fee_items = fees_for_case(session, definition_of(session, case), case)
    apply_outcome(session, case, outcome, today)
    progress.add_event(session, case, kind=EventKind.RESUBMITTED, actor=actor, stage=Stage.CORRECT, decision="approve",
                       actor_role="applicant", message="申请人已补正并重新提交")
    audit.record(session, actor_id=actor.user_id, action="case.resubmit", object_type="case", object_id=case.id,
                 tenant_id=case.tenant_id, before={"status": CaseStatus.CORRECTING}, after={"status": case.status})
    return case


def apply_outcome(session: Session, case: Case, outcome: StepOutcome, today: date | None = None,
                  open_rows: list[Task] | None = None) -> None:
    """Mirror the engine's new state into the inbox and the case status (``open_rows``: see inbox.sync_tasks)."""
    inbox.sync_tasks(session, case, outcome.ready, today, open_rows)
    if outcome.finished:
        case.status = status_for_outcome(outcome.end_event)
        case.completed_at = utcnow()
    elif outcome.ready:
        case.status = status_for_stage(outcome.ready[0].properties.get("stage", ""))
        from app.cases.sharing.rechecks import mark_waiting

        mark_waiting(session, case)  # at 受理 with a department check still unanswered: 等待部门核验
