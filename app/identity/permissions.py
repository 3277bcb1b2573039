"""The catalogue of permission codes (``resource:action``) with their Chinese labels, grouped for the role
editor. A role may only be granted codes listed here, and a test checks that every code the application
enforces (``actor.require(...)`` / ``actor.has(...)``) and every grant in dictionaries/roles.yaml is listed,
so the catalogue is the one place an operator reads what a permission means.

Stage-level work (受理 / 审核 / 登簿 / 缮证) is granted by role: a BPMN lane names the role whose holders
see and complete that stage's tasks; ``task:*`` says what they may do with a task of their lane.
"""
from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Permission:
    code: str
    group: str
    label: str


_CATALOGUE = [
    ("申请（门户、机构）", [
        ("application:create", "提交登记申请、预约"),
        ("application:read_own", "查看本人的申请与证书"),
        ("unit:read_own", "查询本人名下的不动产"),
        ("court:entrust", "嘱托登记（查封、解封）"),
        ("institution:staff", "机构管理员：管理本机构的网点、经办人员账户（新增、停用、重置密码）"),
    ]),
    ("业务办理（工作台）", [
        ("case:read", "查看本辖区案件"),
        ("case:window_intake", "窗口受理（代录申请）"),
        ("consent:record", "核验并记录纸质书面同意（预告登记权利人、抵押权人）"),
        ("task:read", "查看待办任务"),
        ("task:claim", "领取任务"),
        ("task:complete", "办理任务（通过、退回、不予登记）"),
        ("task:assign", "分派、转办任务（科室负责人）"),
        ("unit:read", "查询登记簿"),
        ("pii:unmask", "查看完整个人信息（留痕）"),
    ]),
    ("电子档案", [
        ("archive:read", "档案检索、调阅（须填写调阅目的，留痕）"),
    ]),
    ("证书", [
        ("certificate:deliver", "发证（领证登记）"),
        ("certificate:void", "证书作废、补发"),
    ]),
    ("业务配置", [
        ("defs:read", "查看流程与业务定义"),
        ("defs:manage", "修改、发布流程与业务定义"),
        ("dict:manage", "维护数据字典"),
    ]),
    ("运维管理", [
        ("user:manage", "人员管理（新增、编辑、停用、重置密码、分配角色）"),
        ("user:sync", "从政务平台同步人员"),
        ("role:manage", "角色与权限管理"),
        ("org:manage", "组织机构管理"),
        ("tenant:manage", "辖区（租户）管理"),
        ("interface:read", "查看外部接口与调用记录"),
        ("interface:manage", "修改外部接口配置、测试调用、重置熔断"),
        ("audit:read", "查看操作日志、校验审计链"),
        ("log:read", "查询日志、业务追踪"),
        ("log:export", "导出日志"),
        ("stats:read", "查看统计分析"),
        ("stats:export", "导出统计数据"),
        ("calendar:manage", "录入年度节假日安排（工作日历）"),
        ("institution:supervise", "机构监管：查看机构办件统计，关闭、恢复机构申报端口"),
    ]),
]

# Platform-wide data that carries no district: the interfaces with their call log and outbox, and the audit
# chain (one chain over every district). Only a city-level account holds these; granted to an account bound
# to a district they have no effect (``actor_for``). Logs and statistics are not here: a district account
# granted log:* / stats:* sees its own district's rows (the queries are scoped like every list).
CITY_ONLY = frozenset({"interface:read", "interface:manage", "audit:read", "institution:supervise"})

PERMISSIONS: dict[str, Permission] = {code: Permission(code, group, label)
                                      for group, items in _CATALOGUE for code, label in items}


def groups() -> list[tuple[str, list[Permission]]]:
    """The catalogue in display order, for the role editor and the permission page."""
    return [(group, [PERMISSIONS[code] for code, _ in items]) for group, items in _CATALOGUE]


def label(code: str) -> str:
    return PERMISSIONS[code].label if code in PERMISSIONS else code


ROLE_CATEGORIES = {"business": "业务办理", "management": "管理", "external": "外部用户"}
ROLE_SCOPES = {"tenant": "本辖区", "city": "全市（跨辖区）", "public": "公众与机构"}
