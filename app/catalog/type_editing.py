"""Editing a business type's metadata (name, time limit, applicant mode, guide, legal basis, FAQ, fees) and
its material checklist; each save is a new version through ``config.publish_changes``.

Values arrive as text from a page; they are converted here with Chinese messages keyed like the loader's
own (``fees[1].amount_yuan``, ``materials[0].max_size_mb``) so the page shows every problem next to its field.
"""
from __future__ import annotations

from pathlib import Path
from typing import Any

from sqlalchemy.orm import Session

from app.catalog.config import business_of, materials_of, publish_changes
from app.catalog.service import current_version
from app.errors import ValidationFailed
from app.identity.actor import Actor

EDITABLE_KEYS = ("name", "time_limit_days", "applicant_mode", "guide", "legal_basis", "faq", "fees",
                 "stage_permissions")
EXEMPTION_LABELS = {"none": "不可免交", "identity": "身份核验", "marriage": "婚姻登记信息",
                    "business_licence": "营业执照信息", "contract": "网签合同信息", "tax": "完税信息",
                    "notarial": "公证信息（授权委托书）"}
FILE_TYPES = ("pdf", "jpg", "png")


def business_for_edit(session: Session, code: str) -> dict[str, Any]:
    return business_of(current_version(session, code, unreleased=True))


def materials_for_edit(session: Session, code: str) -> list[dict[str, Any]]:
    return materials_of(current_version(session, code, unreleased=True))


def _int(value: Any, key: str, errors: dict[str, list[str]], label: str) -> Any:
    try:
        return int(str(value).strip())
    except (TypeError, ValueError):
        errors.setdefault(key, []).append(f"{label}应为整数")
        return value


def _float(value: Any, key: str, errors: dict[str, list[str]], label: str) -> Any:
    try:
        number = float(str(value).strip())
    except (TypeError, ValueError):
        errors.setdefault(key, []).append(f"{label}应为数字")
        return value
    return int(number) if number.is_integer() else number


def save_business(session: Session, actor: Actor, root: Path, code: str, changes: dict[str, Any]) -> str:
    """Apply the page's values to business.yaml and publish; text is converted, everything else is the
    loader's job (time limit ≤ 30, payer is a party, ``when`` only names application fields …)."""
    business = business_for_edit(session, code)
    errors: dict[str, list[str]] = {}
    data = {k: v for k, v in changes.items() if k in EDITABLE_KEYS}
    if "time_limit_days" in data:
        data["time_limit_days"] = _int(data["time_limit_days"], "time_limit_days", errors, "承诺时限")
    for i, fee in enumerate(data.get("fees", [])):
        fee["amount_yuan"] = _int(fee.get("amount_yuan"), f"fees[{i}].amount_yuan", errors, "金额")
        if not fee.get("when"):
            fee.pop("when", None)
    if errors:
        raise ValidationFailed("输入有误，未生成新版本", errors=errors)
    business.update(data)
    return publish_changes(session, actor, root, code, business=business, action="definition.business.save")[1]


def _names(text: Any) -> list[str]:
    """Field names typed as a list separated by spaces, commas or 、 (as analysts type them)."""
    if isinstance(text, list):
        return [str(n) for n in text]
    return [n for n in str(text or "").replace("、", " ").replace(",", " ").replace("，", " ").split() if n]


def save_stage_permissions(session: Session, actor: Actor, root: Path, code: str,
                           rows: list[dict[str, Any]]) -> str:
    """Replace the per-stage permissions (who may act, hidden / editable fields per role) and publish; the
    loader checks stages, roles and fields against the diagram and the application form."""
    business = business_for_edit(session, code)
    cleaned = []
    for row in rows:
        entry: dict[str, Any] = {"stage": str(row.get("stage", "")).strip(), "role": str(row.get("role", "")).strip()}
        if row.get("act"):
            entry["act"] = True
        for key in ("hidden", "editable"):
            names = _names(row.get(key))
            if names:
                entry[key] = names
        cleaned.append(entry)
    if cleaned:
        business["stage_permissions"] = cleaned
    else:
        business.pop("stage_permissions", None)
    return publish_changes(session, actor, root, code, business=business,
                           action="definition.stage_permissions.save")[1]


def report_lines(report: dict[str, Any]) -> str:
    """A report's rows as the page edits them: one ``标签 = 来源`` per line."""
    return "\n".join(f"{row['label']} = {row['value']}" for row in report.get("rows", []))


def save_reports(session: Session, actor: Actor, root: Path, code: str, reports: list[dict[str, Any]]) -> str:
    """Replace the report templates (``rows`` as ``标签 = 来源`` lines) and publish; sources are checked by the
    loader against the application form and the diagram's stages."""
    business = business_for_edit(session, code)
    errors: dict[str, list[str]] = {}
    cleaned = []
    for i, report in enumerate(reports):
        rows = []
        for line in str(report.get("rows") or "").splitlines():
            if not line.strip():
                continue
            label, sep, source = line.partition("=")
            if not sep or not label.strip() or not source.strip():
                errors.setdefault(f"reports[{i}].rows", []).append(f"“{line.strip()}”应写作“标签 = 来源”")
                continue
            rows.append({"label": label.strip(), "value": source.strip()})
        entry = {"code": str(report.get("code", "")).strip(), "title": str(report.get("title", "")).strip(),
                 "rows": rows}
        if str(report.get("text") or "").strip():
            entry["text"] = str(report["text"]).replace("\r\n", "\n").strip() + "\n"
        cleaned.append(entry)
    if errors:
        raise ValidationFailed("输入有误，未生成新版本", errors=errors)
    if cleaned:
        business["reports"] = cleaned
    else:
        business.pop("reports", None)
    return publish_changes(session, actor, root, code, business=business, action="definition.reports.save")[1]


def save_materials(session: Session, actor: Actor, root: Path, code: str, items: list[dict[str, Any]]) -> str:
    """Replace the checklist and publish (conditions are checked against the application form)."""
    errors: dict[str, list[str]] = {}
    cleaned = []
    for i, item in enumerate(items):
        entry = {k: v for k, v in item.items() if v not in (None, "")}
        entry["required"] = bool(item.get("required"))
        entry["max_size_mb"] = _float(item.get("max_size_mb"), f"materials[{i}].max_size_mb", errors, "大小上限")
        if not entry.get("accepted_types"):
            errors.setdefault(f"materials[{i}].accepted_types", []).append("至少选择一种文件类型")
        cleaned.append(entry)
    if errors:
        raise ValidationFailed("输入有误，未生成新版本", errors=errors)
    return publish_changes(session, actor, root, code, materials=cleaned, action="definition.materials.save")[1]
