"""JSON Schemas for the hand-written YAML files of a registration type (business.yaml, materials.yaml).

Why schemas and not ad-hoc checks: an analyst editing YAML gets every mistake at once, each with the
key path (``fees[1].amount_yuan``), and the accepted shape is documented in one readable place.
Names that become file names (``application_form``) are restricted to a safe pattern so a definition
can never point outside ``forms/``.
"""
from __future__ import annotations

from typing import Any

from app.right_types import RIGHT_TYPES

CATEGORIES = ["首次", "转移", "变更", "注销", "更正", "异议", "预告", "查封", "其他"]
APPLICANT_MODES = ["单方", "双方", "嘱托", "内部"]
PARTY_KINDS = ["person", "org", "either"]
FILE_TYPES = ["pdf", "jpg", "png"]
EXEMPTION_SOURCES = ["identity", "marriage", "business_licence", "contract", "tax", "notarial", "none"]
GENERATED_KINDS = ["application_form"]  # material items the platform produces itself

CODE_PATTERN = "^[a-z][a-z0-9_]{1,63}$"
FORM_NAME_PATTERN = "^[a-z][a-z0-9_]{0,63}$"

_TEXT: dict[str, Any] = {"type": "string", "minLength": 1}
_CODE: dict[str, Any] = {"type": "string", "pattern": CODE_PATTERN}
_FIELD: dict[str, Any] = {"type": "string", "pattern": "^[A-Za-z_][A-Za-z0-9_]*$"}

_PARTY: dict[str, Any] = {
    "type": "object",
    "additionalProperties": False,
    "required": ["role", "label", "kind", "name_field", "id_field"],
    "properties": {
        "role": _CODE,
        "label": _TEXT,
        "kind": {"enum": PARTY_KINDS},
        "name_field": _FIELD,
        "id_field": _FIELD,
        # Several members act in this role together; ``from_register: holders`` fills them from the register.
        "multiple": {"type": "boolean"},
        "from_register": {"enum": ["holders", None]},
        # Further members typed on the form (the new holders: several buyers): an array field of
        # {name, id_number, share}; ``share_field`` holds the form's own entry's share (app/cases/co_holders.py).
        "members_field": {"anyOf": [_FIELD, {"type": "null"}]},
        "share_field": {"anyOf": [_FIELD, {"type": "null"}]},
    },
}

_FEE: dict[str, Any] = {
    "type": "object",
    "additionalProperties": False,
    "required": ["code", "name", "amount_yuan", "basis", "payer_role"],
    "properties": {
        "code": _CODE,
        "name": _TEXT,
        "amount_yuan": {"type": "integer", "minimum": 0},
        "basis": _TEXT,
        "payer_role": _CODE,
        "when": _TEXT,
    },
}

_FAQ: dict[str, Any] = {
    "type": "object",
    "additionalProperties": False,
    "required": ["q", "a"],
    "properties": {"q": _TEXT, "a": _TEXT},
}

# What 登簿 writes (read by app/registry/service.py): the right created, its holders, the right it ends.
_RIGHT_TYPE: dict[str, Any] = {"enum": sorted(RIGHT_TYPES)}
_UNIT_FIELDS = ["location", "area_m2", "use"]
_ENDS: dict[str, Any] = {
    "type": "object",
    "additionalProperties": False,
    "required": ["right_type", "holder_role"],
    "properties": {
        "right_type": _RIGHT_TYPE,  # end the current rights of this type …
        "holder_role": _CODE,  # … held by this party (e.g. the mortgagee cancelling its mortgage)
        "number_field": _FIELD,  # optional form field naming the certificate / proof number of the right
        "match_detail": _FIELD,  # compare that number with this detail instead (e.g. a court's court_doc)
        "number_label": _TEXT,  # what the number is called in messages (default 不动产登记证明号)
        "optional": {"type": "boolean"},  # nothing to end is fine (e.g. 预转本 when there was no 预告)
    },
}
_RECORD: dict[str, Any] = {
    "type": "object",
    "additionalProperties": False,
    "properties": {
        "right_type": {"anyOf": [_RIGHT_TYPE, {"type": "null"}]},  # null / absent: 登簿 creates no right
        "replaces": _RIGHT_TYPE,
        "holder_roles": {"type": "array", "items": _CODE},
        "amount_field": _FIELD,
        "detail_fields": {"type": "array", "items": _FIELD},
        "entry_kind": {"type": "string", "pattern": "^[a-z][a-z_]{0,31}$"},
        "ends": _ENDS,
        # 更正: unit particular → the form field holding its corrected value
        "corrects_unit": {"type": "object", "minProperties": 1, "additionalProperties": False,
                          "properties": {k: _FIELD for k in _UNIT_FIELDS}},
        "reissues": _RIGHT_TYPE,  # revoke and reissue the certificate of the unit's current right of this type
        "keeps_co_holders": {"type": "boolean"},  # 变更: carry the other holders of the replaced right over
        # 变更 of one right found by its number (``ends``): what the new right takes from the one it ends when
        # the form leaves it empty — detail keys (``accepted_at`` keeps a mortgage's rank) or ``amount``
        "carries": {"type": "array", "items": {"type": "string", "pattern": "^[a-z][a-z0-9_]{0,63}$"}},
        # 预转本 (细则 78): the unit's current rights of ``from`` whose detail ``by_detail`` is the number of a
        # right this record ends become rights of ``to`` (same holders, amount, details; a new proof is issued)
        "converts": {"type": "object", "additionalProperties": False, "required": ["from", "to", "by_detail"],
                     "properties": {"from": _RIGHT_TYPE, "to": _RIGHT_TYPE, "by_detail": _FIELD}},
    },
    # A created right needs holders; a record that creates nothing must end or correct something.
    "anyOf": [
        {"required": ["right_type", "holder_roles"],
         "properties": {"right_type": _RIGHT_TYPE, "holder_roles": {"minItems": 1}}},
        {"required": ["ends"]},
        {"required": ["corrects_unit"]},
    ],
}

INQUIRY_KINDS = ["yes_no", "choice", "text"]
# 询问笔录: one question the applicant answers before submission; rendered as Q&A for the clerk and as a PDF.
_QUESTION: dict[str, Any] = {
    "type": "object",
    "additionalProperties": False,
    "required": ["code", "q", "kind"],
    "properties": {
        "code": _CODE,
        "q": _TEXT,
        "kind": {"enum": INQUIRY_KINDS},
        "options": {"type": "array", "minItems": 2, "items": _TEXT},  # for kind: choice
        "expect": _TEXT,  # the answer a clean case gives (another answer is flagged to the clerk)
        "help": _TEXT,
    },
    "if": {"properties": {"kind": {"const": "choice"}}},
    "then": {"required": ["options"]},
}
# 交易合同 template: downloadable blank or filled online from the form; the filled PDF becomes ``material``.
_CONTRACT: dict[str, Any] = {
    "type": "object",
    "additionalProperties": False,
    "required": ["title", "material", "clauses"],
    "properties": {
        "title": _TEXT,
        "material": _CODE,  # the checklist item the filled contract is attached as
        "clauses": {"type": "array", "minItems": 1, "items": _TEXT},  # may name form fields as {field}
    },
}

# Per-stage permissions (issue 7): one row per stage and staff role. ``act``: the role may claim and complete
# the stage's tasks (the lane's role always may); ``hidden``: application fields the role does not see while
# the case is at that stage; ``editable``: fields the role's assignee may correct there. Unlisted fields are
# shown read-only, as for roles without a row.
_STAGE_PERMISSION: dict[str, Any] = {
    "type": "object",
    "additionalProperties": False,
    "required": ["stage", "role"],
    "properties": {
        "stage": _TEXT,
        "role": _CODE,
        "act": {"type": "boolean"},
        "hidden": {"type": "array", "uniqueItems": True, "items": _FIELD},
        "editable": {"type": "array", "uniqueItems": True, "items": _FIELD},
    },
}

# Report templates (审批表, 审核意见表 …; app/cases/reports.py): rows of a label and a source —
# ``case.<business_no|type_name|unit_code|parties|submitted_at|status>``, ``form.<application field>`` or
# ``stage.<stage>.<opinion|decision|by|at>`` — and free text printed under the table.
REPORT_SOURCE_PATTERN = (r"^(case\.(business_no|type_name|unit_code|parties|submitted_at|status)"
                         r"|form\.[A-Za-z_][A-Za-z0-9_]*|stage\.[^.]{1,8}\.(opinion|decision|by|at))$")
_REPORT: dict[str, Any] = {
    "type": "object",
    "additionalProperties": False,
    "required": ["code", "title", "rows"],
    "properties": {
        "code": _CODE,
        "title": _TEXT,
        "rows": {"type": "array", "minItems": 1, "items": {
            "type": "object", "additionalProperties": False, "required": ["label", "value"],
            "properties": {"label": _TEXT, "value": {"type": "string", "pattern": REPORT_SOURCE_PATTERN}}}},
        "text": {"type": "string"},
    },
}

BUSINESS_SCHEMA: dict[str, Any] = {
    "type": "object",
    "additionalProperties": False,
    "required": ["code", "name", "category", "reg_class", "applicant_mode", "time_limit_days",
                 "application_form", "parties", "fees", "legal_basis", "guide", "faq"],
    "properties": {
        "code": _CODE,
        "name": {"type": "string", "minLength": 2, "maxLength": 100},
        "category": {"enum": CATEGORIES},
        "reg_class": {"type": "string", "pattern": "^[0-9]{2}$"},
        "applicant_mode": {"enum": APPLICANT_MODES},
        # 条例 20: 30 working days is the statutory ceiling; a promise beyond it is a typo.
        "time_limit_days": {"type": "integer", "minimum": 1, "maximum": 30},
        "application_form": {"type": "string", "pattern": FORM_NAME_PATTERN},
        "parties": {"type": "array", "minItems": 1, "items": _PARTY},
        "fees": {"type": "array", "items": _FEE},
        "legal_basis": {"type": "array", "items": _TEXT},
        "guide": {"type": "string", "minLength": 10},
        "faq": {"type": "array", "items": _FAQ},
        "record": _RECORD,
        # Party roles whose confirmation submission needs (default: every party).
        "confirm_roles": {"type": "array", "minItems": 1, "items": _CODE},
        # Parties other than the creator may edit the application too (default: they see it read-only).
        "co_applicants_edit": {"type": "boolean"},
        "inquiry": {"type": "array", "items": _QUESTION},
        "contract": _CONTRACT,
        "stage_permissions": {"type": "array", "items": _STAGE_PERMISSION},
        "reports": {"type": "array", "items": _REPORT},
    },
}

_MATERIAL: dict[str, Any] = {
    "type": "object",
    "additionalProperties": False,
    "required": ["code", "name", "required", "accepted_types", "max_size_mb", "description"],
    "properties": {
        "code": _CODE,
        "name": _TEXT,
        "required": {"type": "boolean"},
        "condition": _TEXT,
        "accepted_types": {"type": "array", "minItems": 1, "uniqueItems": True,
                           "items": {"enum": FILE_TYPES}},
        "max_size_mb": {"type": "number", "exclusiveMinimum": 0, "maximum": 200},
        "exemptible_by": {"enum": EXEMPTION_SOURCES},
        "exempt_party": _CODE,
        # Made by the platform, never uploaded: ``application_form`` = the 申请书 generated from the answers
        # and the parties' signatures once they have all signed (app/cases/application_form.py).
        "generated": {"enum": GENERATED_KINDS},
        "description": _TEXT,
        "sample": _TEXT,
    },
}

MATERIALS_SCHEMA: dict[str, Any] = {"type": "array", "minItems": 1, "items": _MATERIAL}
