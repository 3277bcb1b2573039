"""Registration-type definitions on disk → checked, immutable dataclasses.

Why: registration types are data (processes/<code>/business.yaml, materials.yaml, process.bpmn and the
forms they name in forms/), so an analyst can add a type without a code change. Everything that could
break a running case is checked here, before any case sees the type, and every problem comes back as a
``DefinitionError`` carrying the file, the element (key path or BPMN id) and the line.

``content_sha256`` covers every file a type uses, so changing any of them yields a new process version
while running cases keep theirs.
"""
from __future__ import annotations

import ast
import hashlib
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from app.catalog.bpmn_conventions import UserTaskDef, Vocabulary, check_bpmn
from app.catalog.meta_schemas import BUSINESS_SCHEMA, MATERIALS_SCHEMA
from app.catalog.sources import load_form, read_yaml, yaml_error
from app.engine.connectors import service_operators_in
from app.errors import DefinitionError

__all__ = ["BusinessTypeDef", "FeeItem", "MaterialItem", "PartyRole", "UserTaskDef", "check_definitions",
           "load_all", "load_business_type", "vocabulary"]

BUSINESS_FILE, MATERIALS_FILE, BPMN_FILE = "business.yaml", "materials.yaml", "process.bpmn"
TYPE_FILES = (BUSINESS_FILE, MATERIALS_FILE, BPMN_FILE)
DEFAULT_DICTIONARIES = Path(__file__).resolve().parents[2] / "dictionaries"


@dataclass(frozen=True)
class MaterialItem:
    """One entry of the checklist; ``condition`` (over application fields) limits when it applies."""

    code: str
    name: str
    required: bool
    condition: str | None
    accepted_types: list[str]
    max_size_mb: float
    exemptible_by: str | None  # data-sharing source that makes an upload unnecessary; None = never
    description: str
    sample: str | None
    # The party whose verification waives the item (identity checks are per party); None = the case.
    exempt_party: str | None = None
    # What the platform makes this item from (``application_form``: the 申请书 from the answers and the
    # signatures); such an item is never asked for as an upload. None = uploaded by the applicant.
    generated: str | None = None


@dataclass(frozen=True)
class PartyRole:
    """A party of the application and the application fields that identify it."""

    role: str
    label: str
    kind: str  # person | org | either
    name_field: str
    id_field: str
    # Several persons act in this role together (co-owners, joint mortgagors …). With ``from_register:
    # holders`` the members are the register's current holders of the right being disposed of (never typed
    # by hand); the form's own entry for the role must be one of them (app/registry/co_ownership.py).
    multiple: bool = False
    from_register: str | None = None
    # Further members typed on the form (several buyers, each a new holder): an array field of {name,
    # id_number, share}, and the field with the form's own entry's share (app/cases/co_holders.py).
    members_field: str | None = None
    share_field: str | None = None


@dataclass(frozen=True)
class FeeItem:
    """A fee charged per 件 when ``when`` (over application fields) holds, or always without one."""

    code: str
    name: str
    amount_yuan: int
    basis: str
    payer_role: str
    when: str | None


@dataclass(frozen=True)
class BusinessTypeDef:
    """Everything the platform needs to offer, run and record one registration type."""

    code: str
    name: str
    category: str
    reg_class: str
    applicant_mode: str
    time_limit_days: int
    application_form: str
    parties: list[PartyRole]
    fees: list[FeeItem]
    legal_basis: list[str]
    guide: str
    faq: list[dict[str, str]]
    materials: list[MaterialItem]
    process_id: str
    bpmn: bytes
    bpmn_sha256: str
    forms: dict[str, dict[str, Any]]
    user_tasks: list[UserTaskDef]
    content_sha256: str
    record: dict[str, Any] | None = None  # what 登簿 writes (business.yaml ``record``; app/registry)
    confirm_roles: list[str] | None = None  # party roles that must confirm before submission (None: all)
    co_applicants_edit: bool = False  # others than the creator may edit (else read-only; app/casefile/consent.py)
    # Connector ids the diagram's service tasks call: tells which data-sharing checks this type runs, so
    # exemptible materials are deferred to them only where a check will actually happen.
    service_operators: list[str] | None = None
    inquiry: list[dict[str, Any]] | None = None  # 询问笔录 questions (app/cases/inquiry.py)
    contract: dict[str, Any] | None = None  # 交易合同 template (app/cases/contract.py)
    # Per-stage permissions (business.yaml ``stage_permissions``; read by app/cases/field_access.py).
    stage_permissions: list[dict[str, Any]] | None = None
    reports: list[dict[str, Any]] | None = None  # report templates (app/cases/reports.py)

    @property
    def application_schema(self) -> dict[str, Any]:
        """The application form's JSON schema (read in many places: one name for the two-step lookup)."""
        return self.forms[self.application_form]


def load_business_type(type_dir: Path, forms_dir: Path, operators: set[str] | None = None,
                       roles: Iterable[str] = ()) -> BusinessTypeDef:
    """Load one type; raise the first ``DefinitionError`` (all of them in ``.errors["definitions"]``)."""
    definition, errors = _Run(Path(forms_dir), operators, roles).inspect(Path(type_dir))
    if errors or definition is None:
        raise _summary(errors)
    return definition


def load_all(root: Path, operators: set[str] | None = None, roles: Iterable[str] = ()) -> list[BusinessTypeDef]:
    """Every type under ``root/processes``, or ``DefinitionError`` if any definition has a problem."""
    definitions, errors = _check_root(Path(root), operators, roles)
    if errors:
        raise _summary(errors)
    return definitions


def check_definitions(root: Path, only: Path | None = None,
                      operators: set[str] | None = None, roles: Iterable[str] = ()) -> list[DefinitionError]:
    """Every problem found; ``only`` narrows to a root, a processes/<code> directory or a single file.

    ``operators`` are the service-task operator ids to accept (None: the connector registry); ``roles`` are
    lane roles beyond roles.yaml (those operators created at run time, app.identity.roles.role_names).
    """
    root = Path(root)
    target = Path(only) if only is not None else root
    if target.is_dir() and (target / "processes").is_dir():
        return _check_root(target, operators, roles)[1]
    run = _Run(root / "forms", operators, roles)
    if target.is_dir():
        if not (target / BUSINESS_FILE).is_file():
            return [DefinitionError("不是业务类型目录（缺少 business.yaml）", file=run.name(target))]
        return _dedupe(run.inspect(target)[1])
    if target.suffix == ".json":
        return run.form(target)[2]
    if target.name in TYPE_FILES:
        file = run.name(target)
        return [e for e in _dedupe(run.inspect(target.parent)[1]) if e.file == file]
    return [DefinitionError("无法识别的定义文件（应为 business.yaml、materials.yaml、process.bpmn 或 forms/*.json）",
                            file=run.name(target))]


def _check_root(root: Path, operators: set[str] | None,
                roles: Iterable[str] = ()) -> tuple[list[BusinessTypeDef], list[DefinitionError]]:
    run = _Run(root / "forms", operators, roles)
    definitions: list[BusinessTypeDef] = []
    errors: list[DefinitionError] = []
    processes = root / "processes"
    type_dirs = sorted(p for p in processes.iterdir() if p.is_dir() and not p.name.startswith((".", "_"))) \
        if processes.is_dir() else []
    for type_dir in type_dirs:
        definition, found = run.inspect(type_dir)
        errors += found
        if definition is not None:
            definitions.append(definition)
    for path in sorted(run.forms_dir.glob("*.json")):  # unreferenced forms are checked too
        errors += run.form(path)[2]
    owners: dict[str, str] = {}
    for d in definitions:
        if d.process_id in owners:
            errors.append(DefinitionError(f"流程 id “{d.process_id}” 与业务类型 {owners[d.process_id]} 重复",
                                          file=run.name(processes / d.code / BPMN_FILE), element=d.process_id))
        owners.setdefault(d.process_id, d.code)
    return definitions, _dedupe(errors)


class _Run:
    """One checking pass: the vocabulary to check against and a cache so shared forms load once."""

    def __init__(self, forms_dir: Path, operators: set[str] | None, roles: Iterable[str] = ()) -> None:
        self.forms_dir = forms_dir
        self.root = forms_dir.parent
        self.vocab = _vocabulary(self.root, operators, roles)
        self._forms: dict[Path, tuple[dict[str, Any] | None, bytes, list[DefinitionError]]] = {}

    def name(self, path: Path) -> str:
        """File names in errors are relative to the definitions root, as analysts know them."""
        try:
            return path.resolve().relative_to(self.root.resolve()).as_posix()
        except ValueError:
            return str(path)

    def form(self, path: Path) -> tuple[dict[str, Any] | None, bytes, list[DefinitionError]]:
        key = path.resolve()
        if key not in self._forms:
            self._forms[key] = load_form(path, self.name(path))
        return self._forms[key]

    def inspect(self, type_dir: Path) -> tuple[BusinessTypeDef | None, list[DefinitionError]]:
        files = {n: type_dir / n for n in TYPE_FILES}
        names = {n: self.name(p) for n, p in files.items()}
        business, b_raw, errors = read_yaml(files[BUSINESS_FILE], names[BUSINESS_FILE], BUSINESS_SCHEMA)
        materials, m_raw, m_errors = read_yaml(files[MATERIALS_FILE], names[MATERIALS_FILE], MATERIALS_SCHEMA)
        errors += m_errors
        code = business["code"] if business else type_dir.name
        if business and code != type_dir.name:
            errors.append(yaml_error(b_raw, names[BUSINESS_FILE], ["code"],
                                     f"code “{code}” 应与目录名 “{type_dir.name}” 一致"))
        if not files[BPMN_FILE].is_file():
            return None, errors + [DefinitionError("缺少流程文件", file=names[BPMN_FILE])]
        bpmn = files[BPMN_FILE].read_bytes()
        facts, bpmn_errors = check_bpmn(bpmn, file=names[BPMN_FILE], code=code, forms_dir=self.forms_dir,
                                        vocab=self.vocab)
        errors += bpmn_errors
        form_names = ([business["application_form"]] if business else []) + facts.form_keys
        forms: dict[str, dict[str, Any]] = {}
        hashed = [(BUSINESS_FILE, b_raw), (MATERIALS_FILE, m_raw), (BPMN_FILE, bpmn)]
        for form_name in dict.fromkeys(form_names):
            path = self.forms_dir / f"{form_name}.json"
            if not path.is_file():
                continue  # reported where it is referenced (business.yaml below, the BPMN task above)
            schema, raw, form_errors = self.form(path)
            errors += form_errors
            hashed.append((f"forms/{form_name}.json", raw))
            if schema is not None:
                forms[form_name] = schema
        if business:
            errors += _business_problems(business, b_raw, names[BUSINESS_FILE], forms, self.forms_dir)
            # Checked against the diagram's stages only when the diagram itself is sound (a broken task would
            # make every row naming its stage look wrong too).
            errors += _stage_and_report_problems(business, b_raw, names[BUSINESS_FILE], forms,
                                                 None if bpmn_errors else facts.user_tasks, self.vocab.roles)
        if business and materials is not None:
            fields = set(forms.get(business["application_form"], {}).get("properties", {}))
            errors += _material_problems(materials, m_raw, names[MATERIALS_FILE], fields)
            contract = business.get("contract") or {}
            if contract and contract.get("material") not in {m.get("code") for m in materials}:
                errors.append(yaml_error(b_raw, names[BUSINESS_FILE], ["contract", "material"],
                                         f"合同模板所附材料 {contract.get('material')} 不在材料清单中"))
        if errors or business is None or materials is None or facts.process_id is None:
            return None, errors
        return _build(business, materials, facts.process_id, bpmn, forms, facts.user_tasks, hashed), []


def _build(b: dict[str, Any], materials: list[dict[str, Any]], process_id: str, bpmn: bytes,
           forms: dict[str, dict[str, Any]], user_tasks: list[UserTaskDef],
           hashed: list[tuple[str, bytes]]) -> BusinessTypeDef:
    digest = hashlib.sha256()
    for name, raw in sorted(hashed):  # name, length and bytes: no two file sets hash alike
        digest.update(f"{name}\0{len(raw)}\0".encode())
        digest.update(raw)
    exempt = {None, "none"}
    return BusinessTypeDef(
        code=b["code"], name=b["name"], category=b["category"], reg_class=b["reg_class"],
        applicant_mode=b["applicant_mode"], time_limit_days=b["time_limit_days"],
        application_form=b["application_form"], parties=[PartyRole(**p) for p in b["parties"]],
        fees=[FeeItem(**{"when": None, **f}) for f in b["fees"]], legal_basis=list(b["legal_basis"]),
        guide=b["guide"], faq=[dict(x) for x in b["faq"]],
        materials=[MaterialItem(
            code=m["code"], name=m["name"], required=m["required"], condition=m.get("condition"),
            accepted_types=list(m["accepted_types"]), max_size_mb=m["max_size_mb"],
            exemptible_by=None if m.get("exemptible_by") in exempt else m["exemptible_by"],
            description=m["description"], sample=m.get("sample"), exempt_party=m.get("exempt_party"),
            generated=m.get("generated"))
            for m in materials],
        process_id=process_id, bpmn=bpmn, bpmn_sha256=hashlib.sha256(bpmn).hexdigest(), forms=forms,
        user_tasks=list(user_tasks), content_sha256=digest.hexdigest(), record=b.get("record"),
        confirm_roles=b.get("confirm_roles"), co_applicants_edit=bool(b.get("co_applicants_edit")),
        inquiry=[dict(q) for q in b.get("inquiry") or []] or None,
        contract=dict(b["contract"]) if b.get("contract") else None, stage_permissions=b.get("stage_permissions"),
        reports=b.get("reports"),
        service_operators=[op for _, op, _ in service_operators_in(bpmn)])


def _business_problems(b: dict[str, Any], raw: bytes, file: str, forms: dict[str, dict[str, Any]],
                       forms_dir: Path) -> list[DefinitionError]:
    errors: list[DefinitionError] = []
    app_form = b["application_form"]
    if not (forms_dir / f"{app_form}.json").is_file():
        return [yaml_error(raw, file, ["application_form"], f"申请表单 forms/{app_form}.json 不存在")]
    fields = set(forms.get(app_form, {}).get("properties", {}))
    roles = [p["role"] for p in b["parties"]]
    for i, party in enumerate(b["parties"]):
        if party["role"] in roles[:i]:
            errors.append(yaml_error(raw, file, ["parties", i, "role"], f"当事人角色 {party['role']} 重复"))
        for key in ("name_field", "id_field", "members_field", "share_field"):
            if fields and party.get(key) is not None and party[key] not in fields:
                errors.append(yaml_error(raw, file, ["parties", i, key],
                                          f"申请表单 {app_form} 中没有字段 {party[key]}"))
    holder_roles = set((b.get("record") or {}).get("holder_roles", []))
    for i, party in enumerate(b["parties"]):
        if party.get("from_register") and not party.get("multiple"):
            errors.append(yaml_error(raw, file, ["parties", i, "from_register"],
                                     "from_register 只能用于 multiple: true 的当事人角色"))
        if party.get("from_register") and party["role"] in holder_roles:
            errors.append(yaml_error(raw, file, ["parties", i, "from_register"],
                                     f"当事人角色 {party['role']} 是登簿后的权利人，不能从登记簿带出"))
        if party.get("members_field") and party.get("from_register"):
            errors.append(yaml_error(raw, file, ["parties", i, "members_field"],
                                     "members_field 与 from_register 不能同时使用"))
    for i, fee in enumerate(b["fees"]):
        if fee["payer_role"] not in roles:
            errors.append(yaml_error(raw, file, ["fees", i, "payer_role"],
                                      f"缴费人 {fee['payer_role']} 不是本业务的当事人角色（{'、'.join(roles)}）"))
        if "when" in fee and (reason := _expression_problem(fee["when"], fields)):
            errors.append(yaml_error(raw, file, ["fees", i, "when"], f"收费条件无效：{reason}"))
    record = b.get("record") or {}
    for role in record.get("holder_roles", []):
        if role not in roles:
            errors.append(yaml_error(raw, file, ["record", "holder_roles"],
                                     f"权利人角色 {role} 不是本业务的当事人角色"))
    if not record.get("right_type") and (record.get("holder_roles") or record.get("replaces")):
        errors.append(yaml_error(raw, file, ["record"],
                                 "登簿规则未设定形成的权利（right_type），不能指定权利人或被替代的权利"))
    ends = record.get("ends") or {}
    if ends and ends.get("holder_role") not in roles:
        errors.append(yaml_error(raw, file, ["record", "ends", "holder_role"],
                                 f"注销权利的持有人角色 {ends.get('holder_role')} 不是本业务的当事人角色"))
    if record.get("carries") and (not ends or ends.get("right_type") != record.get("right_type")):
        errors.append(yaml_error(raw, file, ["record", "carries"],
                                 "carries 只能用于注销并重新记载同一类权利的登簿规则"
                                 "（ends 的 right_type 须与 right_type 相同）"))
    converts = record.get("converts") or {}
    if converts and not ends:
        errors.append(yaml_error(raw, file, ["record", "converts"],
                                 "converts 须与 ends 同时使用：转换的是以本次注销的权利证明号为依据的权利"))
    for field in [record.get("amount_field"), *record.get("detail_fields", []), ends.get("number_field")]:
        if field and fields and field not in fields:
            errors.append(yaml_error(raw, file, ["record"], f"登簿规则引用了申请表单中没有的字段 {field}"))
    questions = [q["code"] for q in b.get("inquiry") or []]
    for i, code in enumerate(questions):
        if code in questions[:i]:
            errors.append(yaml_error(raw, file, ["inquiry", i, "code"], f"询问事项编码 {code} 重复"))
    for i, role in enumerate(b.get("confirm_roles") or []):
        if role not in roles:
            errors.append(yaml_error(raw, file, ["confirm_roles", i], f"须确认的角色 {role} 不是本业务的当事人角色"))
    return errors


def _stage_and_report_problems(b: dict[str, Any], raw: bytes, file: str, forms: dict[str, dict[str, Any]],
                               user_tasks: list[UserTaskDef] | None, roles: frozenset[str]) -> list[DefinitionError]:
    """Rows name a stage of the diagram, a known role and application fields; a stage that lists who may act
    includes the lane's role (else its inbox would offer tasks nobody may complete); parties' identity and the
    unit are never editable at a stage (they change only through 补正, which re-confirms). Report rows name
    application fields and stages of the diagram."""
    errors: list[DefinitionError] = []
    fields = set(forms.get(b["application_form"], {}).get("properties", {}))
    fixed = {"unit_code"} | {p[k] for p in b["parties"] for k in ("name_field", "id_field")}
    lanes: dict[str, set[str]] = {}
    for task in user_tasks or []:
        lanes.setdefault(task.stage, set()).add(task.role)
    known_stages = set(lanes) if user_tasks is not None else {r["stage"] for r in b.get("stage_permissions") or []}
    seen: set[tuple[str, str]] = set()
    rows = b.get("stage_permissions") or []
    for i, row in enumerate(rows):
        where = ["stage_permissions", i]
        if row["stage"] not in known_stages:
            errors.append(yaml_error(raw, file, [*where, "stage"], f"流程中没有“{row['stage']}”阶段的办理任务"))
        if row["role"] not in roles:
            errors.append(yaml_error(raw, file, [*where, "role"], f"角色 {row['role']} 不存在"))
        if (row["stage"], row["role"]) in seen:
            errors.append(yaml_error(raw, file, where, f"“{row['stage']}”阶段的角色 {row['role']} 重复设置"))
        seen.add((row["stage"], row["role"]))
        for key in ("hidden", "editable"):
            unknown = [f for f in row.get(key, []) if fields and f not in fields]
            if unknown:
                errors.append(yaml_error(raw, file, [*where, key], f"申请表单中没有字段 {'、'.join(unknown)}"))
        both = set(row.get("hidden", [])) & set(row.get("editable", []))
        if both:
            errors.append(yaml_error(raw, file, [*where, "editable"],
                                     f"字段 {'、'.join(sorted(both))} 不能既隐藏又可修改"))
        locked = sorted(fixed & set(row.get("editable", [])))
        if locked:
            errors.append(yaml_error(raw, file, [*where, "editable"],
                                     f"当事人身份和不动产单元字段（{'、'.join(locked)}）不能在办理环节修改，须通过补正"))
    for i, report in enumerate(b.get("reports") or []):
        if report["code"] in [r["code"] for r in (b.get("reports") or [])[:i]]:
            errors.append(yaml_error(raw, file, ["reports", i, "code"], f"报表代码 {report['code']} 重复"))
        for j, row in enumerate(report["rows"]):
            kind, _, rest = row["value"].partition(".")
            if kind == "form" and fields and rest not in fields:
                errors.append(yaml_error(raw, file, ["reports", i, "rows", j, "value"], f"申请表单中没有字段 {rest}"))
            if kind == "stage" and user_tasks is not None and rest.split(".")[0] not in lanes:
                errors.append(yaml_error(raw, file, ["reports", i, "rows", j, "value"],
                                         f"流程中没有“{rest.split('.')[0]}”阶段的办理任务"))
    for stage, lane_roles in lanes.items():
        acting = {r["role"] for r in rows if r["stage"] == stage and r.get("act")}
        missing = sorted(lane_roles - acting)
        if acting and missing:
            errors.append(yaml_error(raw, file, ["stage_permissions"],
                                     f"“{stage}”阶段可办理的角色须包含流程泳道的角色 {'、'.join(missing)}"))
    return errors


def _material_problems(items: list[dict[str, Any]], raw: bytes, file: str, fields: set[str]) -> list[DefinitionError]:
    errors: list[DefinitionError] = []
    seen: set[str] = set()
    for i, item in enumerate(items):
        if item["code"] in seen:
            errors.append(yaml_error(raw, file, [i, "code"], f"材料代码 {item['code']} 重复"))
        seen.add(item["code"])
        if "condition" in item and (reason := _expression_problem(item["condition"], fields)):
            errors.append(yaml_error(raw, file, [i, "condition"], f"材料“{item['name']}”的适用条件无效：{reason}"))
    return errors


def _expression_problem(text: str, fields: set[str]) -> str | None:
    """Unsafe syntax, or a name that is not an application field (a typo would silently be False)."""
    # Imported lazily: the engine package owns the expression language and imports more than we need.
    from app.engine.expressions import check_expression

    reason = check_expression(text)
    if reason or not fields:
        return reason
    tree = ast.parse(text.strip(), mode="eval")
    called = {id(n.func) for n in ast.walk(tree) if isinstance(n, ast.Call)}
    unknown = [n.id for n in ast.walk(tree) if isinstance(n, ast.Name) and id(n) not in called and n.id not in fields]
    if not unknown:
        return None
    hint = "（布尔值请写 True / False）" if {"true", "false"} & set(unknown) else ""
    return f"引用了申请表单中没有的字段 {'、'.join(dict.fromkeys(unknown))}{hint}"


def vocabulary(root: Path, roles: Iterable[str] = ()) -> Vocabulary:
    """Roles, stages, outcomes and registered connectors a diagram under ``root`` is checked against."""
    return _vocabulary(Path(root), None, roles)


def _vocabulary(root: Path, operators: set[str] | None, extra_roles: Iterable[str] = ()) -> Vocabulary:
    folder = root / "dictionaries" if (root / "dictionaries").is_dir() else DEFAULT_DICTIONARIES
    roles = yaml.safe_load((folder / "roles.yaml").read_text(encoding="utf-8"))["roles"]
    stages = yaml.safe_load((folder / "stages.yaml").read_text(encoding="utf-8"))
    if operators is None:
        # Imported lazily: integrations register their operators when the app imports them.
        from app.engine.connectors import known_operators

        operators = known_operators()
    return Vocabulary(roles=frozenset(r["code"] for r in roles) | frozenset(extra_roles),
                      stages=tuple(s["code"] for s in stages["stages"]),
                      outcomes=frozenset(stages["outcomes"]), operators=frozenset(operators))


def _dedupe(errors: list[DefinitionError]) -> list[DefinitionError]:
    """Shared forms are checked once per type that uses them; report each problem once."""
    seen: dict[tuple[Any, ...], DefinitionError] = {}
    for e in errors:
        seen.setdefault((e.file, e.element, e.line, e.reason), e)
    return list(seen.values())


def _summary(errors: list[DefinitionError]) -> DefinitionError:
    first = errors[0] if errors else DefinitionError("定义无法加载")
    first.errors["definitions"] = [e.message for e in errors]
    return first
