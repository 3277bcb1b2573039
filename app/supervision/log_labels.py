"""The Chinese words for what the logs record: every audit and access action, the object types, the keys of
an entry's details and the small closed vocabularies their values come from. One place, so the log pages,
the trace and the exports never show a code (found: ``definition.publish``, ``seller_identity``, JSON keys).

The codes stay what is stored and filtered on; only the display is translated. Names that live in the data
(business types, roles, materials, tasks, party roles, interfaces) are looked up by ``code_names``.
"""
from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.casefile.status import status_label
from app.catalog.models import BusinessType
from app.catalog.service import current_definitions
from app.identity.models import Role
from app.integrations.models import Interface
from app.right_types import RIGHT_TYPES

ACTIONS: dict[str, str] = {
    # applications and cases
    "case.create": "创建申请", "case.update": "修改申请", "case.submit": "提交申请",
    "case.resubmit": "补正后重新提交",
    "case.confirm": "确认申请", "case.sign": "签名确认", "case.consent": "书面同意", "case.invite": "邀请共同申请人",
    "case.invitation_opened": "查看申请邀请", "case.inquiry": "询问笔录作答", "case.face_check": "人脸核验",
    "case.consent_face_check": "同意人人脸核验", "case.delivery_choice": "选择领证方式",
    "case.content_changed": "申请内容变更", "case.change_proposed": "提出变更", "case.change_decided": "处理变更",
    "case.fields.correct": "更正申请信息", "case.rule_refused": "登记规则拒绝",
    "case.migrate_version": "案件迁移流程版本",
    "case.progress": "办理进度通知",
    "case.file_as_agent": "代理机构受托申请", "power_of_attorney.record": "备案授权委托书",
    "power_of_attorney.revoke": "撤销授权委托书",
    "building.first_registration": "整幢申请首次登记",
    "material.upload": "上传材料", "material.remove": "删除材料", "material.view": "查看材料",
    "material.generate": "系统生成申请书",
    "verification.record": "部门共享核验", "verification.recheck": "重新核验",
    "tax.push": "推送税务", "tax.paid": "完税", "payment.start": "发起缴费", "payment.paid": "缴费完成",
    "task.claim": "领取任务", "task.release": "退回任务", "task.assign": "分派任务", "task.complete": "办理任务",
    "workflow.timer": "流程定时事件", "pii.unmask": "查看完整个人信息",
    "archive.build": "电子档案归档", "archive.consult": "档案调阅", "archive.document": "调阅档案文件",
    "archive.export": "档案移交档案系统", "archive.fixity_failed": "档案完整性校验发现变化",
    "archive.fixity_restored": "档案完整性校验恢复正常",
    "feedback.rate": "好差评评价", "feedback.follow_up_open": "差评整改立案",
    "feedback.answer_texted": "差评答复短信告知",
    "appointment.book": "预约办理", "appointment.cancel": "取消预约", "appointment.check_in": "预约签到",
    # register and certificates
    "register.record": "登簿", "register.lapse": "权利到期注销", "register.import": "存量登记数据导入",
    "certificate.issue": "缮证", "certificate.render": "制证", "certificate.deliver": "发证",
    "certificate.void": "证书作废",
    "certificate.no_property_query": "无房证明查询",
    "query.unit": "查询登记簿", "query.unit_search": "检索不动产单元", "query.own_units": "查询本人名下不动产",
    "query.track_case": "办件进度查询",
    # definitions and configuration
    "definition.publish": "发布流程版本", "definition.publish_diagram": "发布流程图",
    "definition.release": "上线业务类型",
    "definition.type_create": "新建业务类型", "definition.draft.save": "保存流程草稿",
    "definition.business.save": "保存业务配置", "definition.materials.save": "保存材料清单",
    "definition.form.save": "保存表单", "definition.reports.save": "保存打印报表",
    "definition.stage_permissions.save": "保存环节权限", "definition.foreign_import": "导入外部流程",
    "definition.export": "导出业务定义", "definition.migrate_cases": "迁移在办案件",
    "dictionary.create": "新增字典项", "dictionary.update": "修改字典项", "dictionary.delete": "删除字典项",
    "calendar.plan_entered": "录入节假日安排", "calendar.due_dates_recounted": "重算办理期限",
    # people and platform
    "user.create": "新增人员", "user.update": "修改人员", "user.enable": "启用账户", "user.disable": "停用账户",
    "user.unlock": "解除登录限制", "user.password_reset": "重置密码", "user.totp_enabled": "启用动态验证码",
    "user.totp_reset": "重置动态验证码", "user.sync": "同步人员", "user.sync_update": "同步更新人员",
    "user.sign_up": "注册账户", "user.sms_login": "短信验证码登录", "user.sign_in_delayed": "登录失败延迟",
    "user.identity_checked": "公安身份核验通过", "user.identity_check_failed": "公安身份核验未通过",
    "user.face_check_failed": "人脸核验未通过", "user.real_name_verified": "完成实名认证",
    "user.organisation_check_failed": "单位信息核验未通过",
    "user.sign_in_refused": "拒绝登录（网络区域）",
    "role.create": "新增角色", "role.update": "修改角色", "role.delete": "删除角色", "org.create": "新增组织机构",
    "tenant.create": "新增辖区", "tenant.enable": "启用辖区",
    # institution channel (issue 19)
    "institution.create": "新增机构", "institution.port_close": "关闭机构申报端口",
    "institution.port_open": "恢复机构申报端口", "institution.staff_create": "机构管理员新增本机构账户",
    "institution.batch_open": "机构批量申报", "institution.batch_item_refused": "批量申报项不予接收",
    "interface.update": "修改接口配置", "interface.test_call": "接口测试调用", "interface.breaker_reset": "重置熔断",
    "outbox.retry": "重发消息", "outbox.prune": "清理已送达消息", "log.export": "导出日志", "log.purge": "清理过期日志",
    "federation.peer_added": "添加对接平台", "federation.peer_removed": "移除对接平台",
    "federation.identity_arrived": "经上级平台身份认证进入",
    "federation.navigation_started": "全国平台导航去办理", "federation.navigation_passed_on": "省级平台转至办理地平台",
    "federation.definition_published": "发布业务定义包", "federation.definition_adopted": "采用省级业务定义包",
    "federation.definition_overridden": "业务定义设为本地覆盖",
    "federation.definition_override_cleared": "取消业务定义本地覆盖",
    "federation.application_accepted": "受理上级平台转来的申请", "federation.application_routed": "转送申请至市级平台",
    "federation.application_filed": "经全国平台提交申请", "federation.report_received": "接收下级平台上报的办理进度",
    "federation.checkpoint_collected": "归集市级平台登记簿检查点",
    # zones: one-way export and offline return (docs/ferry.md)
    "ferry.package_exported": "写出内网摆渡包", "ferry.package_imported": "导入外网摆渡包",
    "ferry.review_recorded": "记录空间审核结果", "ferry.return_written": "写出空间审核回传文件",
    "ferry.return_imported": "导入内网空间审核结果",
    "federation.no_property_answered": "答复省级平台无房查询",
    "federation.province_no_property_query": "全省无房证明查询",
}

OBJECT_TYPES: dict[str, str] = {
    "federated_case": "跨层级申请", "collected_checkpoint": "归集的登记簿检查点",
    "case": "案件", "task": "任务", "user": "用户", "role": "角色", "tenant": "辖区", "org_unit": "组织机构",
    "business_type": "业务类型", "process_version": "流程版本", "process_draft": "流程草稿", "form": "表单",
    "dictionary": "字典", "realty_unit": "不动产单元", "register_import": "存量数据导入", "certificate": "证书",
    "appointment": "预约", "interface": "接口", "outbox": "外发消息", "outbox_message": "外发消息", "log": "日志",
    "calendar": "工作日历", "holiday_plan": "节假日安排", "material": "材料",
    "power_of_attorney": "授权委托书", "building": "幢", "archive_package": "档案封装包",
    "institution": "机构", "institution_batch": "批量申报批次", "federation_peer": "对接平台",
    "federation_navigation": "导航记录",
    "ferry_package": "摆渡包", "ferry_review": "空间审核结果", "ferry_return": "审核结果回传文件",
}

DETAIL_KEYS: dict[str, str] = {
    "before": "变更前", "after": "变更后", "status": "状态", "business_no": "业务号", "business_type": "业务类型",
    "code": "项目", "name": "名称", "version_no": "版本号", "sha256": "摘要", "content_sha256": "内容摘要",
    "username": "用户名", "roles": "角色", "role": "角色", "kind": "类别", "material_id": "材料编号",
    "size": "大小（字节）",
    "type": "类型", "snapshot_id": "核验记录编号", "source": "来源", "result": "结果", "retry_state": "重新核验",
    "tax_case_no": "税务案件号", "via": "方式", "voucher_no": "完税凭证号", "task": "任务", "decision": "决定",
    "entry_seq": "登簿序号", "created": "新设权利", "ended": "注销权利", "right_id": "权利编号", "details": "详情",
    "holders": "权利人", "number": "证号", "unit_code": "不动产单元号", "unit_id": "不动产单元", "rows": "行数",
    "filters": "查询条件", "skipped": "跳过", "rights": "权利数", "http_status": "HTTP 状态",
    "latency_ms": "耗时（毫秒）",
    "power_of_attorney": "授权委托书", "notarised": "经公证", "revoked_by": "撤销人", "business_types": "委托事项",
    "units": "单元数", "converted": "预转本转换的权利",
    "archive_no": "档号", "retention": "保管期限", "receipt": "接收回执", "problems": "问题",
    "consultation": "调阅登记", "purpose": "调阅目的", "token": "时间戳摘要", "directory": "目录移交",
    "seq": "序号", "rating": "评价编号", "follow_up": "差评整改件",
    "valid_until": "委托期限至", "already_registered": "已登记跳过",
    "error": "错误", "key": "消息键", "last_error": "最近错误", "path": "路径", "fingerprint": "指纹",
    "reason": "原因",
    "level": "认证级别", "score": "比对分值", "uscc": "统一社会信用代码", "field": "字段", "day": "日期",
    "half": "时段",
    "fields": "字段", "from": "起", "to": "止", "user": "用户", "tenant": "辖区", "count": "数量", "cutoff": "截止",
    "retention_days": "保留天数", "deleted": "删除", "task_id": "任务编号", "assignee": "办理人", "opinion": "意见",
    "method": "方式", "at": "时间", "items": "事项", "page": "页", "q": "关键词", "permissions": "权限",
    "scope": "范围", "category": "类别", "enabled": "启用", "parent_code": "上级", "process_version": "流程版本",
    "process_version_id": "流程版本", "released": "上线", "holidays": "放假", "workdays": "调休上班",
    "year": "年度", "before_due": "原期限", "after_due": "新期限", "cases": "案件数", "topic": "主题",
    "channel": "渠道", "amount_yuan": "金额（元）", "order_no": "订单号", "receipt_no": "票据号",
    "delivery": "领证方式", "address": "地址", "phone": "电话", "tracking_no": "运单号", "kind_label": "类别",
    "interface_code": "接口", "operation": "操作", "outcome": "结果", "party": "当事人", "label": "名称",
    "port_open": "端口开放", "institution": "机构", "position": "序号", "branch": "网点", "by": "操作方",
    "issuer": "签发平台", "issuer_level": "上级平台认证方式", "account_created": "新建账户",
    "verification_level": "本平台认证方式", "base_url": "平台地址", "public_key": "公钥",
    # link navigation and definition packages (issue 20)
    "target": "办理地区", "province": "省份", "city": "市", "origin": "发起平台", "ref": "导航编号",
    "navigation": "导航", "version": "版本", "forced": "强制采用",
    # the internet zone (docs/zones.md)
    "zone": "网络区域",
}

# Interface operations (app/integrations/adapters) and outbox topics.
OPERATIONS: dict[str, str] = {
    "identity.verify": "身份核验", "household.query": "户籍查询", "marriage.query": "婚姻登记查询",
    "licence.query": "营业执照查询", "contract.query": "网签备案查询", "document.query": "法律文书查询",
    "vital_certificate.query": "出生医学证明查询", "financial_licence.query": "金融许可证查询",
    "notarial.query": "公证书查询", "tax_case.push": "推送税务案件", "tax_case.query": "查询完税",
    "sms.send": "发送短信", "face.verify": "人脸比对", "payment.create": "创建缴费订单",
    "express.ship": "寄件", "express.track": "查询物流", "timestamp": "可信时间戳",
    "case.progress": "办理进度", "certificate.issued": "证书签发", "certificate.status": "证书状态",
    "registration.result": "登记结果", "sms.appointment": "预约短信", "tax.case": "税务案件",
    "interface.probe": "接口探测",
}

# Closed vocabularies a value may come from (the names in the data are added by ``code_names``).
FIXED_VALUES: dict[str, str] = {
    "staff": "工作人员", "applicant": "申请人", "institution": "机构", "system": "系统",
    "person": "个人", "org": "单位", "title": "不动产权证书", "proof": "不动产登记证明",
    "drawn": "手写签名", "typed": "输入姓名签名", "account": "账户电子签名", "paper": "纸质",
    "approve": "通过", "reject": "不予登记", "return": "退回", "correct": "补正", "refuse": "不予受理",
    "identity": "公安身份核验", "marriage": "民政婚姻登记信息", "contract": "住建网签备案", "tax": "税务",
    "business_licence": "市场监管营业执照", "callback": "税务回调", "poll": "主动查询", "demo": "演示数据",
    "import": "导入", "pending": "待处理", "resolved": "已重新核验", "pushed": "已推送", "paid": "已缴",
    "ok": "成功", "error": "失败", "timeout": "超时", "face": "人脸核验", "organisation": "单位核验",
    "pdf": "PDF", "jpg": "JPG", "png": "PNG", "not_found": "未查到", "name_mismatch": "姓名不一致",
    "sent": "已发送", "failed": "失败", "dead": "放弃重试",
    "internet": "互联网区",
}


def code_names(session: Session) -> dict[str, str]:
    """Codes the data names, with their names: business types, roles, interfaces, and per current definition
    its materials, tasks and party roles (a later type's word for a shared code wins; they agree)."""
    names: dict[str, str] = dict(RIGHT_TYPES)
    names.update(OPERATIONS)
    names.update(FIXED_VALUES)
    for _, definition in current_definitions(session):
        names.update({p.role: p.label for p in definition.parties})
        names.update({t.id: t.name for t in definition.user_tasks})
        names.update({m.code: m.name for m in definition.materials})
    names.update({c: n for c, n in session.execute(select(Role.code, Role.name))})
    names.update({c: n for c, n in session.execute(select(Interface.code, Interface.name))})
    names.update({c: n for c, n in session.execute(select(BusinessType.code, BusinessType.name))})
    return names


def action_label(action: str) -> str:
    return ACTIONS.get(action) or OBJECT_TYPES.get(action.split(".", 1)[0], "其他") + "操作"


def actions_named(text: str) -> set[str]:
    """The action codes whose Chinese name contains ``text`` (the type filter takes either: 提交 or case.)."""
    text = text.strip()
    return {code for code, label in ACTIONS.items() if text and text in label} if not text.isascii() else set()


def object_label(object_type: str) -> str:
    return OBJECT_TYPES.get(object_type, "其他")


def value_label(value: Any, names: Mapping[str, str]) -> str:
    """A detail's value in words: a code by its name, a status by its label, a list joined by 、."""
    if isinstance(value, bool):
        return "是" if value else "否"
    if isinstance(value, (list, tuple)):
        return "、".join(value_label(v, names) for v in value) or "无"
    if isinstance(value, dict):
        return describe(value, names)
    if value is None:
        return "—"
    text = str(value)
    if text in names:
        return names[text]
    if text in ACTIONS:
        return ACTIONS[text]
    label = status_label(text)
    return label if label != text else text


def describe(detail: Mapping[str, Any] | None, names: Mapping[str, str]) -> str:
    """``{"before": {"status": "draft"}, "after": {...}}`` → “变更前：状态 草稿；变更后：…” (an unknown key keeps
    its place under 其他, so nothing recorded is hidden)."""
    if not detail:
        return ""
    parts = []
    for key, value in detail.items():
        label = DETAIL_KEYS.get(key, "其他")
        shown = value_label(value, names)
        parts.append(f"{label}（{shown}）" if isinstance(value, dict) else f"{label} {shown}")
    return "；".join(parts)
