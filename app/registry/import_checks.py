"""Validation of one register-import record (a unit with its current rights) into typed values.

Checks every identifier the way the rest of the register does (``app.identifiers``): unit code incl. its
division against the office, ID card / USCC check characters, right types, numbers, dates and co-ownership
shares. Every problem carries the file line it came from and a Chinese reason; validation never stops at the
first problem, so a clerk can fix a whole file in one pass.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from decimal import Decimal, InvalidOperation
from fractions import Fraction
from typing import Any

from app.clock import CHINA
from app.db import utcnow
from app.identifiers import InvalidIdentifier, check_id_card, check_unit_code, check_uscc, division_parent
from app.import_files import ImportProblem
from app.registry.unit_plan import OutlineError, parse_outline
from app.right_types import RIGHT_TYPES, TITLE_RIGHTS

ID_TYPES = {"身份证": "person", "统一社会信用代码": "org"}
SHARE_MODES = ("单独所有", "共同共有", "按份共有", "其它共有")  # GYFS 0–3
RIGHT_NATURES = {"101": "划拨", "102": "出让", "103": "作价出资（入股）", "104": "租赁", "105": "授权经营",
                 "201": "家庭承包", "202": "其它方式承包", "203": "批准拨用", "204": "入股", "205": "联营"}  # QLXZ


@dataclass
class HolderIn:
    name: str
    kind: str  # person | org
    id_number: str
    share: str | None
    share_mode: str


@dataclass
class RightIn:
    type: str
    business_no: str
    cert_no: str | None
    amount_yuan: Decimal | None
    registered_at: datetime
    details: dict[str, Any]
    holders: list[HolderIn] = field(default_factory=list)


@dataclass
class UnitIn:
    line: int
    unit_code: str
    tenant: str
    location: str
    use: str
    area_m2: Decimal
    right_nature: str | None
    land_term_end: str | None
    land_area_m2: Decimal | None = None  # 共有宗地面积
    outline: dict[str, Any] | None = None  # unit_plan's stored shape
    rights: list[RightIn] = field(default_factory=list)


class _Collector:
    def __init__(self, line: int) -> None:
        self.line = line
        self.problems: list[ImportProblem] = []

    def add(self, message: str, line: int | None = None) -> None:
        self.problems.append(ImportProblem(line or self.line, message))


def _text(value: Any, label: str, max_len: int, out: _Collector, line: int, *, required: bool) -> str | None:
    if value is None or (isinstance(value, str) and not value.strip()):
        if required:
            out.add(f"{label}不能为空", line)
        return None
    if not isinstance(value, str | int):
        out.add(f"{label}应为文本", line)
        return None
    text = str(value).strip()
    if len(text) > max_len:
        out.add(f"{label}不能超过 {max_len} 个字符", line)
        return None
    return text


def _number(value: Any, label: str, out: _Collector, line: int, *, max_digits: int,
            positive: bool) -> Decimal | None:
    if value is None or value == "":
        return None
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        out.add(f"{label}应为数字", line)
        return None
    try:
        number = Decimal(str(value).strip().replace(",", ""))
    except InvalidOperation:
        out.add(f"{label}应为数字，实为“{value}”", line)
        return None
    if not number.is_finite():
        out.add(f"{label}应为数字，实为“{value}”", line)
        return None
    if number < 0 or (positive and number == 0):
        out.add(f"{label}应{'大于' if positive else '不小于'} 0", line)
        return None
    if number != number.quantize(Decimal("0.01")):
        out.add(f"{label}最多保留两位小数", line)
        return None
    if number >= Decimal(10) ** (max_digits - 2):
        out.add(f"{label}超出范围", line)
        return None
    return number.quantize(Decimal("0.01"))


def _registered_at(value: Any, out: _Collector, line: int) -> datetime | None:
    if value in (None, ""):
        out.add("登记时间（registered_at）不能为空（如 2015-06-30 或 2015-06-30T10:00:00+08:00）", line)
        return None
    try:
        at = datetime.fromisoformat(str(value).strip())
    except ValueError:
        out.add(f"登记时间“{value}”格式不正确，应为 YYYY-MM-DD 或 ISO 8601 时间", line)
        return None
    at = at.replace(tzinfo=CHINA) if at.tzinfo is None else at
    if at > utcnow() or at.year < 1949:
        out.add(f"登记时间“{value}”无效（不能晚于今天或早于 1949 年）", line)
        return None
    return at.astimezone(CHINA).astimezone(UTC)


def _share(value: str | None) -> Fraction | None:
    text = (value or "").strip().replace("％", "%")
    try:
        return Fraction(text[:-1]) / 100 if text.endswith("%") else Fraction(text)
    except (ValueError, ZeroDivisionError):
        return None


def _holder(raw: Any, label: str, single: bool, out: _Collector, line: int) -> HolderIn | None:
    if not isinstance(raw, dict):
        out.add(f"{label}应为对象", line)
        return None
    line = raw.get("_line") or line
    name = _text(raw.get("name"), f"{label}姓名/名称", 100, out, line, required=True)
    id_type = raw.get("id_type")
    kind = ID_TYPES.get(str(id_type or "").strip())
    id_number = None
    if kind is None:
        out.add(f"{label}证件种类“{id_type or ''}”无效，应为 身份证 或 统一社会信用代码", line)
    elif not raw.get("id_number"):
        out.add(f"{label}证件号码不能为空", line)
    else:
        try:
            id_number = (check_id_card if kind == "person" else check_uscc)(str(raw["id_number"]))
        except InvalidIdentifier as exc:
            out.add(f"{label}证件号码：{exc.message}", line)
    mode = str(raw.get("share_mode") or "").strip() or ("单独所有" if single else None)
    if mode is None:
        out.add(f"{label}共有方式不能为空（多个权利人时应为 共同共有、按份共有 或 其它共有）", line)
    elif mode not in SHARE_MODES:
        out.add(f"{label}共有方式“{mode}”无效，应为 {'、'.join(SHARE_MODES)}", line)
        mode = None
    elif mode == "单独所有" and not single:
        out.add(f"{label}共有方式为单独所有，但该权利有多个权利人", line)
    share = _text(raw.get("share"), f"{label}份额", 16, out, line, required=mode == "按份共有")
    if share is not None and mode == "按份共有" and not (0 < (_share(share) or 0) <= 1):
        out.add(f"{label}份额“{share}”无效，应为 1/2、0.5 或 50% 这样的值", line)
    if name is None or kind is None or id_number is None or mode is None:
        return None
    return HolderIn(name=name, kind=kind, id_number=id_number, share=share, share_mode=mode)


def _right(raw: Any, n: int, out: _Collector, line: int) -> RightIn | None:
    if not isinstance(raw, dict):
        out.add(f"权利{n}应为对象", line)
        return None
    line = raw.get("_line") or line
    label = f"权利{n}"
    right_type = raw.get("type")
    if right_type not in RIGHT_TYPES:
        out.add(f"{label}类型“{right_type or ''}”无效，应为 {'、'.join(f'{k}（{v}）' for k, v in RIGHT_TYPES.items())}",
                line)
    business_no = _text(raw.get("business_no"), f"{label}业务号", 32, out, line, required=True)
    label = f"{label}（业务号 {business_no}）" if business_no else label
    cert_no = _text(raw.get("cert_no"), f"{label}证书/证明号", 64, out, line, required=False)
    amount = _number(raw.get("amount_yuan"), f"{label}金额（amount_yuan）", out, line, max_digits=16,
                     positive=right_type == "mortgage")
    if right_type == "mortgage" and amount is None and raw.get("amount_yuan") in (None, ""):
        out.add(f"{label}为抵押权，被担保主债权数额（amount_yuan）不能为空", line)
    at = _registered_at(raw.get("registered_at"), out, line)
    details = raw.get("details") if raw.get("details") is not None else {}
    if not isinstance(details, dict):
        out.add(f"{label}附记（details）应为 JSON 对象", line)
    holders_raw = raw.get("holders")
    if not isinstance(holders_raw, list) or not holders_raw:
        out.add(f"{label}至少应有一个权利人（holders）", line)
        holders_raw = []
    single = len(holders_raw) == 1
    holders = [_holder(h, f"{label}权利人{i}", single, out, line) for i, h in enumerate(holders_raw, start=1)]
    if holders and all(h is not None and h.share_mode == "按份共有" for h in holders):
        total = sum((_share(h.share) or Fraction(0) for h in holders if h), Fraction(0))
        if total != 1:
            out.add(f"{label}按份共有的份额合计为 {total}，应为 1", line)
    if right_type not in RIGHT_TYPES or business_no is None or at is None or not isinstance(details, dict) \
            or not holders or any(h is None for h in holders):
        return None
    return RightIn(type=right_type, business_no=business_no, cert_no=cert_no, amount_yuan=amount,
                   registered_at=at, details=details, holders=[h for h in holders if h])


def _in_office(division: str, tenant: str) -> bool:
    code: str | None = division
    while code:
        if code == tenant:
            return True
        code = division_parent(code)
    return False


def _date(value: Any, label: str, out: _Collector) -> str | None:
    text = _text(value, label, 10, out, out.line, required=False)
    if text is None:
        return None
    try:
        if not re.fullmatch(r"\d{4}-\d{2}-\d{2}", text):
            raise ValueError
        date.fromisoformat(text)
    except ValueError:
        out.add(f"{label}“{text}”应为 YYYY-MM-DD 格式的日期")
        return None
    return text


def validate_record(raw: dict[str, Any], offices: set[str]) -> tuple[UnitIn | None, list[ImportProblem]]:
    """One unit record → (typed unit, []) or (None, every problem found). ``offices``: known tenant codes."""
    out = _Collector(int(raw.get("_line") or 0))
    unit_code = None
    if not raw.get("unit_code"):
        out.add("不动产单元代码（unit_code）不能为空")
    else:
        try:
            unit_code = check_unit_code(str(raw["unit_code"]))
        except InvalidIdentifier as exc:
            out.add(f"不动产单元代码“{raw['unit_code']}”：{exc.message}")
    tenant = _text(raw.get("tenant"), "登记机构（tenant）", 12, out, out.line, required=True)
    if tenant is not None and tenant not in offices:
        out.add(f"登记机构 {tenant} 不存在（应为已建立的登记机构的行政区划代码）")
    elif tenant is not None and unit_code is not None and not _in_office(unit_code[:6], tenant):
        out.add(f"不动产单元代码前6位 {unit_code[:6]} 不在登记机构 {tenant} 的辖区内")
    location = _text(raw.get("location"), "坐落（location）", 200, out, out.line, required=True)
    use = _text(raw.get("use"), "用途（use）", 16, out, out.line, required=True)
    area = _number(raw.get("area_m2"), "面积（area_m2）", out, out.line, max_digits=12, positive=True)
    if area is None and raw.get("area_m2") in (None, ""):
        out.add("面积（area_m2）不能为空")
    nature = _text(raw.get("right_nature"), "权利性质（right_nature）", 16, out, out.line, required=False)
    if nature is not None:
        nature = RIGHT_NATURES.get(nature, nature)
        if nature not in RIGHT_NATURES.values():
            out.add(f"权利性质“{nature}”无效，应为 {'、'.join(RIGHT_NATURES.values())} 或其代码")
            nature = None
    term_end = _date(raw.get("land_term_end"), "土地使用期限（land_term_end）", out)
    land_area = _number(raw.get("land_area_m2"), "共有宗地面积（land_area_m2）", out, out.line, max_digits=12,
                        positive=True)
    outline = None
    try:
        outline = parse_outline(raw.get("parcel_outline"), raw.get("building_outline"))
    except OutlineError as exc:
        out.add(str(exc))
    rights_raw = raw.get("rights") if raw.get("rights") is not None else []
    if not isinstance(rights_raw, list):
        out.add("权利（rights）应为数组")
        rights_raw = []
    rights = [_right(r, n, out, out.line) for n, r in enumerate(rights_raw, start=1)]
    seen: dict[str, int] = {}
    for n, right in enumerate(rights, start=1):
        if right is not None and right.business_no in seen:
            out.add(f"权利{n}的业务号 {right.business_no} 与权利{seen[right.business_no]}重复")
        elif right is not None:
            seen[right.business_no] = n
    titles = [r.type for r in rights if r is not None and r.type in TITLE_RIGHTS]
    if len(titles) > 1:
        out.add("一个不动产单元只能有一项现势所有权或国有建设用地使用权（共有人请写在同一权利的 holders 中；"
                "首次登记后的房屋所有权已包含国有建设用地使用权）")
    if out.problems:
        return None, out.problems
    assert unit_code and tenant and location and use and area is not None
    return UnitIn(line=out.line, unit_code=unit_code, tenant=tenant, location=location, use=use, area_m2=area,
                  right_nature=nature, land_term_end=term_end, land_area_m2=land_area, outline=outline,
                  rights=[r for r in rights if r]), []
