"""Dictionaries the analysts maintain: administrative divisions (GB/T 2260, from dictionaries/divisions.csv),
right types, right natures, uses, document types, material types and opinion templates.

Every change is audited, and a delete is refused — with a Chinese sentence naming what still refers to the
entry — while the register, the tenants, a child entry or a current definition uses it: an entry that is
no longer valid gets an end date (``effective_to``) instead, so old records stay readable.
"""
from __future__ import annotations

import csv
import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session

from app.catalog.definitions import BusinessTypeDef
from app.catalog.models import DictionaryEntry
from app.catalog.service import current_definitions
from app.errors import Conflict, NotFound, ValidationFailed
from app.identity.actor import Actor
from app.identity.models import Tenant
from app.right_types import RIGHT_TYPES
from app.security import audit


@dataclass(frozen=True)
class Kind:
    code: str
    label: str
    code_pattern: str
    has_dates: bool = False
    has_text: bool = False


KINDS = {k.code: k for k in (
    Kind("divisions", "行政区划（GB/T 2260）", r"^\d{6}$", has_dates=True),
    Kind("right_types", "权利类型", r"^[a-z][a-z0-9_]{0,63}$"),
    Kind("right_natures", "权利性质", r"^\d{1,8}$"),
    Kind("uses", "用途", r"^[a-z][a-z0-9_]{0,63}$"),
    Kind("document_types", "证件种类", r"^\d{1,8}$"),
    Kind("material_types", "材料类型", r"^[a-z][a-z0-9_]{0,63}$"),
    Kind("opinion_templates", "审批意见模板",
         r"^(accept|review|tax|record|certify|correct|other)_[a-z]+_[a-z0-9_]{1,40}$", has_text=True),
)}
# DOMAIN.md §1.2 (TD/T 1066 appendix dictionaries): 权利性质 QLXZ and 证件种类 ZJZL.
RIGHT_NATURES = {"101": "划拨", "102": "出让", "103": "作价出资（入股）", "104": "租赁", "105": "授权经营",
                 "201": "家庭承包", "202": "其它方式承包", "203": "批准拨用", "204": "入股", "205": "联营"}
DOCUMENT_TYPES = {"1": "身份证", "2": "港澳台身份证", "3": "护照", "4": "户口簿", "5": "军官证（士兵证）",
                  "6": "组织机构代码", "7": "营业执照", "8": "统一社会信用代码", "99": "其它"}
USES = {"residential": "住宅", "non_residential": "非住宅"}


def kind_of(code: str) -> Kind:
    if code not in KINDS:
        raise NotFound(f"未找到字典：{code}", code="dictionary_not_found")
    return KINDS[code]


def counts(session: Session) -> dict[str, int]:
    rows = session.execute(select(DictionaryEntry.kind, func.count()).group_by(DictionaryEntry.kind)).all()
    return {kind: n for kind, n in rows}


def entries(session: Session, kind: str, query: str = "", limit: int = 200) -> list[DictionaryEntry]:
    kind_of(kind)
    stmt = select(DictionaryEntry).where(DictionaryEntry.kind == kind)
    if query:
        like = f"%{query}%"
        stmt = stmt.where(or_(DictionaryEntry.code.like(like), DictionaryEntry.name.like(like)))
    return list(session.execute(stmt.order_by(DictionaryEntry.code).limit(limit)).scalars())


def get_entry(session: Session, kind: str, code: str) -> DictionaryEntry:
    entry = session.execute(select(DictionaryEntry).where(DictionaryEntry.kind == kind_of(kind).code,
                                                          DictionaryEntry.code == code)).scalar_one_or_none()
    if entry is None:
        raise NotFound(f"未找到字典项：{code}", code="dictionary_entry_not_found")
    return entry


def _snapshot(e: DictionaryEntry) -> dict[str, Any]:
    return {"code": e.code, "name": e.name, "parent_code": e.parent_code, "level": e.level, "text": e.text,
            "effective_from": e.effective_from.isoformat() if e.effective_from else None,
            "effective_to": e.effective_to.isoformat() if e.effective_to else None}


def _clean(session: Session, kind: Kind, values: dict[str, str], creating: bool) -> dict[str, Any]:
    errors: dict[str, list[str]] = {}
    code, name = (values.get("code") or "").strip(), (values.get("name") or "").strip()
    if creating and not re.match(kind.code_pattern, code):
        hint = {"divisions": "（6 位数字）", "opinion_templates": "（环节_结论_序号，如 review_approve_1）"}
        errors["code"] = ["代码格式不正确" + hint.get(kind.code, "")]
    elif creating and session.execute(select(DictionaryEntry.id).where(
            DictionaryEntry.kind == kind.code, DictionaryEntry.code == code)).first():
        errors["code"] = [f"代码 {code} 已存在"]
    if not name or len(name) > 200:
        errors["name"] = ["名称必填，不超过 200 字"]
    data: dict[str, Any] = {"name": name}
    if kind.has_text:
        data["text"] = (values.get("text") or "").strip() or None
        if not data["text"]:
            errors["text"] = ["模板内容必填"]
    if kind.has_dates:
        for key in ("effective_from", "effective_to"):
            raw = (values.get(key) or "").strip()
            try:
                data[key] = date.fromisoformat(raw) if raw else None
            except ValueError:
                errors[key] = ["日期格式应为 YYYY-MM-DD"]
        if data.get("effective_from") and data.get("effective_to") and data["effective_to"] < data["effective_from"]:
            errors["effective_to"] = ["停用日期不能早于启用日期"]
        parent = (values.get("parent_code") or "").strip() or None
        if parent and not session.execute(select(DictionaryEntry.id).where(
                DictionaryEntry.kind == kind.code, DictionaryEntry.code == parent)).first():
            errors["parent_code"] = [f"上级区划 {parent} 不存在"]
        data["parent_code"] = parent
        data["level"] = (values.get("level") or "").strip() or None
    if errors:
        raise ValidationFailed("输入有误，请按提示修改", errors=errors)
    if creating:
        data["code"] = code
    return data


def create_entry(session: Session, actor: Actor, kind: str, values: dict[str, str]) -> DictionaryEntry:
    actor.require("dict:manage")
    entry = DictionaryEntry(kind=kind, **_clean(session, kind_of(kind), values, creating=True))
    entry.ensure_id()
    session.add(entry)
    session.flush()
    audit.record(session, actor_id=actor.user_id, action="dictionary.create", object_type=f"dictionary:{kind}",
                 object_id=entry.code, after=_snapshot(entry))
    return entry


def update_entry(session: Session, actor: Actor, kind: str, code: str, values: dict[str, str]) -> DictionaryEntry:
    actor.require("dict:manage")
    entry = get_entry(session, kind, code)
    before = _snapshot(entry)
    for key, value in _clean(session, kind_of(kind), values, creating=False).items():
        setattr(entry, key, value)
    session.flush()
    audit.record(session, actor_id=actor.user_id, action="dictionary.update", object_type=f"dictionary:{kind}",
                 object_id=code, before=before, after=_snapshot(entry))
    return entry


BookUses = Callable[[Session, DictionaryEntry], list[str]]


def delete_entry(session: Session, actor: Actor, kind: str, code: str, book_uses: BookUses) -> None:
    """Refused (409, in Chinese) while anything refers to the entry. ``book_uses``: what the register book
    holds that uses it (app/registry/dictionary_uses.py), passed in by the caller: the catalog sits below the
    register and reads only definitions and districts."""
    actor.require("dict:manage")
    entry = get_entry(session, kind, code)
    users = [*references(session, entry), *book_uses(session, entry)]
    if users:
        raise Conflict(f"“{entry.name}”（{code}）仍被引用，不能删除：{'；'.join(users)}。如已停用，请设置停用日期。",
                       code="dictionary_entry_in_use")
    audit.record(session, actor_id=actor.user_id, action="dictionary.delete", object_type=f"dictionary:{kind}",
                 object_id=code, before=_snapshot(entry))
    session.delete(entry)


def _current_definitions(session: Session) -> list[tuple[str, BusinessTypeDef]]:
    return [(bt.name, d) for bt, d in current_definitions(session)]


def _count(session: Session, stmt: Any) -> int:
    return int(session.execute(stmt).scalar() or 0)


def _division_refs(session: Session, e: DictionaryEntry) -> list[str]:
    out = []
    children = _count(session, select(func.count()).select_from(DictionaryEntry).where(
        DictionaryEntry.kind == "divisions", DictionaryEntry.parent_code == e.code))
    if children:
        out.append(f"{children} 个下级区划")
    tenants = session.execute(select(Tenant.name).where(Tenant.code == e.code)).scalars().all()
    out += [f"登记机构“{t}”" for t in tenants]
    return out


def _right_type_refs(session: Session, e: DictionaryEntry) -> list[str]:
    out = []
    for name, d in _current_definitions(session):
        record = d.record or {}
        if e.code in (record.get("right_type"), record.get("replaces"), (record.get("ends") or {}).get("right_type")):
            out.append(f"业务类型“{name}”的登簿规则")
    return out


def _use_refs(session: Session, e: DictionaryEntry) -> list[str]:
    out = []
    for name, d in _current_definitions(session):
        for form_name, schema in d.forms.items():
            if any(e.name in (p.get("enum") or []) for p in schema.get("properties", {}).values()):
                out.append(f"业务类型“{name}”的表单 {form_name}")
    return list(dict.fromkeys(out))


def _material_refs(session: Session, e: DictionaryEntry) -> list[str]:
    return [f"业务类型“{name}”的材料清单" for name, d in _current_definitions(session)
            if any(m.code == e.code for m in d.materials)]


_REFERENCES: dict[str, Callable[[Session, DictionaryEntry], list[str]]] = {
    "divisions": _division_refs, "right_types": _right_type_refs,
    "uses": _use_refs, "material_types": _material_refs,
}


def references(session: Session, entry: DictionaryEntry) -> list[str]:
    """What among the definitions and districts still refers to an entry, in Chinese (the register book's
    uses are app/registry/dictionary_uses.py's)."""
    check = _REFERENCES.get(entry.kind)
    return check(session, entry) if check else []


def seed_dictionaries(session: Session, root: Path) -> dict[str, int]:
    """Add the shipped entries that are missing (idempotent; never overwrites an analyst's edit)."""
    have = {(k, c) for k, c in session.execute(select(DictionaryEntry.kind, DictionaryEntry.code)).all()}
    added: dict[str, int] = {}

    def add(kind: str, code: str, name: str, **extra: Any) -> None:
        if (kind, code) not in have:
            session.add(DictionaryEntry(kind=kind, code=code, name=name, **extra))
            have.add((kind, code))
            added[kind] = added.get(kind, 0) + 1

    with (root / "dictionaries" / "divisions.csv").open(encoding="utf-8", newline="") as fh:
        for row in csv.DictReader(fh):
            add("divisions", row["code"], row["name"], level=row["level"], parent_code=row["parent"] or None,
                effective_from=date.fromisoformat(row["effective_from"]) if row["effective_from"] else None,
                effective_to=date.fromisoformat(row["effective_to"]) if row["effective_to"] else None)
    for kind, table in (("right_types", RIGHT_TYPES), ("right_natures", RIGHT_NATURES),
                        ("document_types", DOCUMENT_TYPES), ("uses", USES)):
        for code, name in table.items():
            add(kind, code, name)
    for _, d in _current_definitions(session):
        for m in d.materials:
            add("material_types", m.code, m.name)
    from app.catalog.opinion_templates import dictionary_rows  # the shipped 常用意见

    for code, name, text in dictionary_rows(root / "dictionaries" / "opinion_templates.yaml"):
        add("opinion_templates", code, name, text=text)
    session.flush()
    return added
