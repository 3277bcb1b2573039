"""Identifier checks for the register (DOMAIN.md §3) and generators for fictional demo/test data.

Every check normalises first (NFKC turns full-width digits into ASCII, spaces go, letters go upper-case)
because applicants paste identifiers from PDFs and phones; a check returns the normalised value so the
database only ever holds one spelling of an identifier.
"""
from __future__ import annotations

import csv
import re
import unicodedata
from datetime import date
from functools import cache
from pathlib import Path
from typing import NamedTuple

from app.clock import beijing_today

DIVISIONS_CSV = Path(__file__).resolve().parents[1] / "dictionaries" / "divisions.csv"


class InvalidIdentifier(ValueError):
    """An identifier failed a format or check rule; ``message`` is the Chinese reason shown to users."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


def _normalise(value: str | None) -> str:
    text = unicodedata.normalize("NFKC", value or "")
    return re.sub(r"\s+", "", text).upper()


# ---------------------------------------------------------------- administrative divisions (GB/T 2260)

class Division(NamedTuple):
    code: str
    name: str
    level: str  # province / prefecture / county
    parent: str | None
    effective_from: str
    effective_to: str | None


@cache
def _divisions() -> dict[str, Division]:
    # Immutable shipped data: read once per process. Current rows win over historical ones.
    table: dict[str, Division] = {}
    with DIVISIONS_CSV.open(encoding="utf-8", newline="") as fh:
        for row in csv.DictReader(fh):
            div = Division(row["code"], row["name"], row["level"], row["parent"] or None,
                           row["effective_from"], row["effective_to"] or None)
            old = table.get(div.code)
            if old is None or old.effective_to is not None:
                table[div.code] = div
    return table


@cache
def _prefectures_with_counties() -> frozenset[str]:
    return frozenset(d.parent for d in _divisions().values() if d.level == "county" and d.parent)


def _current(code: str) -> Division | None:
    div = _divisions().get(code)
    return div if div is not None and div.effective_to is None else None


def division_name(code: str) -> str | None:
    div = _divisions().get(_normalise(code))
    return div.name if div else None


def division_parent(code: str) -> str | None:
    div = _divisions().get(_normalise(code))
    return div.parent if div else None


def divisions_under(code: str) -> list[Division]:
    """The current divisions whose parent is ``code`` (a province's cities, a city's counties), by code: what
    the national entrance offers to choose from."""
    parent = _normalise(code)
    return sorted((d for d in _divisions().values() if d.parent == parent and d.effective_to is None),
                  key=lambda d: d.code)


def division_level(code: str) -> str | None:
    div = _current(_normalise(code))
    return div.level if div else None


def check_division_code(value: str) -> str:
    code = _normalise(value)
    if not re.fullmatch(r"\d{6}", code):
        raise InvalidIdentifier("行政区划代码应为6位数字")
    if _current(code) is None:
        raise InvalidIdentifier(f"行政区划代码 {code} 不在现行行政区划代码表中")
    return code


def _is_unit_division(code: str) -> bool:
    # Prefecture-level cities without counties (东莞、中山、儋州、嘉峪关) register units under their own code.
    div = _current(code)
    if div is None:
        return False
    return div.level == "county" or (div.level == "prefecture" and code not in _prefectures_with_counties())


# ---------------------------------------------------------------- 居民身份证号 (GB 11643)

_ID_WEIGHTS = [pow(2, 17 - i, 11) for i in range(17)]
_ID_CHECK = "10X98765432"
_PERMIT_PREFIXES = ("810000", "820000", "830000")  # 港澳台居民居住证 share the resident-ID layout


def _id_check_char(body17: str) -> str:
    return _ID_CHECK[sum(int(c) * w for c, w in zip(body17, _ID_WEIGHTS, strict=True)) % 11]


def check_id_card(value: str, *, today: date | None = None) -> str:
    v = _normalise(value)
    if len(v) != 18:
        raise InvalidIdentifier("身份证号应为18位")
    if not re.fullmatch(r"\d{17}[\dX]", v):
        raise InvalidIdentifier("身份证号格式不正确")
    try:
        birth = id_card_birth_date(v)
    except ValueError:
        raise InvalidIdentifier("身份证号出生日期无效") from None
    if birth > (today or beijing_today()) or birth.year < 1900:
        raise InvalidIdentifier("身份证号出生日期无效")
    if _id_check_char(v[:17]) != v[17]:
        raise InvalidIdentifier("身份证号校验位错误")
    # The address code is the one valid when the number was issued, possibly long abolished, so it is
    # never a reason to reject; use id_card_address_known() to warn instead.
    return v


def is_id_card(value: str | None) -> bool:
    """Whether the value is a valid resident ID number (for parties that may be a person or an organisation)."""
    try:
        check_id_card(value or "")
    except InvalidIdentifier:
        return False
    return True


def check_party_id(value: str) -> str:
    """The identifier of a party that may be a person (身份证号) or an organisation (统一社会信用代码), e.g. a
    mortgagor that is a village collective. A valid ID number is taken as one; anything else must be a USCC."""
    v = _normalise(value)
    if is_id_card(v):
        return v
    try:
        return check_uscc(v)
    except InvalidIdentifier as exc:
        if re.fullmatch(r"\d{17}[\dX]", v):
            raise InvalidIdentifier("证件号码既不是有效的身份证号，也不是有效的统一社会信用代码") from None
        raise exc


def check_mobile(value: str) -> str:
    """A mainland mobile number (11 digits, 1[3-9]…); a +86/0086 prefix, spaces and hyphens are dropped."""
    v = re.sub(r"[-()（）]", "", _normalise(value))
    v = re.sub(r"^(\+86|0086)", "", v)
    if not v:
        raise InvalidIdentifier("请填写手机号码")
    if not re.fullmatch(r"\d+", v):
        raise InvalidIdentifier("手机号码只能包含数字")
    if len(v) != 11:
        raise InvalidIdentifier("手机号码应为11位")
    if not re.fullmatch(r"1[3-9]\d{9}", v):
        raise InvalidIdentifier("手机号码格式不正确，应以13–19开头")
    return v


def id_card_address_known(value: str) -> bool:
    """Soft check for UIs: False means "unusual address code, double-check", never "invalid"."""
    v = _normalise(value)
    return v[:6] in _PERMIT_PREFIXES or v[:1] == "9" or v[:6] in _divisions()


def id_card_birth_date(v: str) -> date:
    s = _normalise(v)
    return date(int(s[6:10]), int(s[10:12]), int(s[12:14]))


def id_card_sex(v: str) -> str:
    return "男" if int(_normalise(v)[16]) % 2 else "女"


def make_id_card(division: str, birth: date, seq: int) -> str:
    if not re.fullmatch(r"\d{6}", division) or not 0 <= seq <= 999:
        raise ValueError("division must be 6 digits and seq 0..999")
    body = f"{division}{birth:%Y%m%d}{seq:03d}"
    return body + _id_check_char(body)


# ---------------------------------------------------------------- 统一社会信用代码 (GB 32100)

_USCC_ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY"
_USCC_WEIGHTS = [pow(3, i, 31) for i in range(17)]
_ORG_WEIGHTS = [3, 7, 9, 10, 5, 8, 4, 2]
_ORG_BODY = re.compile(r"[0-9A-Z]{8}")


def _uscc_check_char(body17: str) -> str:
    total = sum(_USCC_ALPHABET.index(c) * w for c, w in zip(body17, _USCC_WEIGHTS, strict=True))
    return _USCC_ALPHABET[(31 - total % 31) % 31]


def _org_check_char(body8: str) -> str:
    # GB 11714: digits are 0-9 and letters A=10 … Z=35 (int(c, 36) does exactly that).
    c = 11 - sum(int(ch, 36) * w for ch, w in zip(body8, _ORG_WEIGHTS, strict=True)) % 11
    return {10: "X", 11: "0"}.get(c, str(c))


# GB 32100 appendix A: 登记管理部门代码 (1st char) → its 机构类别代码 (2nd char). The 主体标识码 (chars 9–17) is
# an organisation code under GB 11714 for the authorities that took it over from the old 组织机构代码 system;
# the 农业农村 (N, rural collective economic organisations) and 其他 (Y) authorities assign their own, so its
# 17th character is not a GB 11714 check character and must not be tested as one.
USCC_AUTHORITIES: dict[str, tuple[str, dict[str, str]]] = {
    "1": ("机构编制", {"1": "机关", "2": "事业单位", "3": "中央编办直接管理机构编制的群众团体", "9": "其他"}),
    "2": ("外交", {"1": "外国常驻新闻机构", "9": "其他"}),
    "3": ("司法行政", {"1": "律师执业机构", "2": "公证处", "3": "基层法律服务所", "4": "司法鉴定机构",
                    "5": "仲裁委员会", "9": "其他"}),
    "4": ("文化", {"1": "外国在华文化中心", "9": "其他"}),
    "5": ("民政", {"1": "社会团体", "2": "民办非企业单位", "3": "基金会", "9": "其他"}),
    "6": ("旅游", {"1": "外国旅游部门常驻代表机构", "2": "港澳台地区旅游部门常驻内地（大陆）代表机构", "9": "其他"}),
    "7": ("宗教", {"1": "宗教活动场所", "2": "宗教院校", "9": "其他"}),
    "8": ("工会", {"1": "基层工会", "9": "其他"}),
    "9": ("市场监管", {"1": "企业", "2": "个体工商户", "3": "农民专业合作社"}),
    "A": ("中央军委改革和编制办公室", {"1": "军队事业单位", "9": "其他"}),
    "N": ("农业农村", {"1": "组级集体经济组织", "2": "村级集体经济组织", "3": "乡镇级集体经济组织", "9": "其他"}),
    "Y": ("其他", {"1": "其他"}),
}
# Authorities whose 主体标识码 is not a GB 11714 organisation code (no embedded check character).
OWN_SUBJECT_CODE_AUTHORITIES = frozenset({"N", "Y"})


def uscc_embeds_org_code(code: str) -> bool:
    """Whether chars 9–17 of a (normalised) code are a GB 11714 organisation code with its own check."""
    return code[:1] not in OWN_SUBJECT_CODE_AUTHORITIES


def uscc_entity_type(code: str) -> str | None:
    """"农业农村·村级集体经济组织" for a known authority/type pair, None otherwise (for display only)."""
    v = _normalise(code)
    authority = USCC_AUTHORITIES.get(v[:1])
    kind = authority[1].get(v[1:2]) if authority else None
    return f"{authority[0]}·{kind}" if authority and kind else None


def check_uscc(value: str, *, check_org_code: bool = True) -> str:
    """A GB 32100 code: alphabet, region digits and the final check character always; the embedded GB 11714
    check only where the registering authority issues organisation codes (not N 农业农村 or Y 其他), so a
    village collective's ``N2…`` code is accepted everywhere a 91… company code is.
    ``check_org_code=False`` skips the embedded check for every authority (local policy)."""
    v = _normalise(value)
    if len(v) != 18:
        raise InvalidIdentifier("统一社会信用代码应为18位")
    if any(c not in _USCC_ALPHABET for c in v):
        raise InvalidIdentifier("统一社会信用代码含有无效字符（不使用 I、O、S、V、Z）")
    if not v[2:8].isdigit():
        raise InvalidIdentifier("统一社会信用代码第3至8位应为行政区划代码")
    if check_org_code and uscc_embeds_org_code(v) and _org_check_char(v[8:16]) != v[16]:
        raise InvalidIdentifier("统一社会信用代码中的组织机构代码校验位错误")
    if _uscc_check_char(v[:17]) != v[17]:
        raise InvalidIdentifier("统一社会信用代码校验位错误")
    return v


def make_uscc(prefix2: str, division: str, org_body8: str, *, subject_check: str | None = None) -> str:
    """A valid code for fictional data. ``subject_check`` is the 9th character of the 主体标识码 for
    authorities that assign their own (N, Y); by default it is the GB 11714 check character."""
    prefix2, org_body8 = prefix2.upper(), org_body8.upper()
    if len(prefix2) != 2 or any(c not in _USCC_ALPHABET for c in prefix2 + org_body8 + (subject_check or "")):
        raise ValueError("prefix2 and org_body8 must use the USCC alphabet")
    if not re.fullmatch(r"\d{6}", division) or not _ORG_BODY.fullmatch(org_body8):
        raise ValueError("division must be 6 digits and org_body8 8 characters")
    body = prefix2 + division + org_body8 + (subject_check or _org_check_char(org_body8))
    return check_uscc(body + _uscc_check_char(body))


# ---------------------------------------------------------------- 不动产单元代码 (GB/T 37346)

_UNIT_RE = re.compile(r"\d{6}\d{3}\d{3}[GJZ][ABSXCDEFHGWY]\d{5}[FLQW]\d{8}")
_COLLECTIVE_ONLY = {"A": "集体土地所有权宗地", "C": "宅基地"}
_STATE_ONLY = {"H": "海域使用权宗海", "G": "无居民海岛"}


def check_unit_code(value: str, *, allow_virtual: bool = False) -> str:
    """``allow_virtual`` admits legacy codes with 地籍区+子区 ``000000`` (units never surveyed)."""
    v = _normalise(value)
    if len(v) != 28:
        raise InvalidIdentifier("不动产单元代码应为28位")
    if not _UNIT_RE.fullmatch(v):
        raise InvalidIdentifier("不动产单元代码格式不正确")
    if not _is_unit_division(v[:6]):
        raise InvalidIdentifier(f"不动产单元代码前6位 {v[:6]} 不是现行县级行政区划代码")
    if v[6:12] == "000000":
        if not allow_virtual:
            raise InvalidIdentifier("不动产单元代码的地籍区、地籍子区不能为000000（虚拟单元代码）")
    elif "000" in (v[6:9], v[9:12]):
        raise InvalidIdentifier("不动产单元代码的地籍区、地籍子区应为001至999")
    owner, use = v[12], v[13]
    if use in _COLLECTIVE_ONLY and owner != "J":
        raise InvalidIdentifier(f"宗地特征码 {owner}{use} 无效：{_COLLECTIVE_ONLY[use]}只能为集体所有（J）")
    if use in _STATE_ONLY and owner != "G":
        raise InvalidIdentifier(f"宗地特征码 {owner}{use} 无效：{_STATE_ONLY[use]}只能为国家所有（G）")
    if v[14:19] == "00000":
        raise InvalidIdentifier("不动产单元代码的宗地顺序号应为00001至99999")
    if v[19] == "W" and v[20:] != "00000000":
        raise InvalidIdentifier("定着物特征码为W（无定着物）时，定着物单元号应为00000000")
    return v


def format_unit_code(v: str) -> str:
    s = check_unit_code(v, allow_virtual=True)
    return f"{s[:6]} {s[6:12]} {s[12:19]} {s[19:]}"


def unit_code_division(v: str) -> str:
    return check_unit_code(v, allow_virtual=True)[:6]


def make_unit_code(division: str, cadastral_district: int, sub_district: int, parcel_kind: str,
                   parcel_seq: int, building: int, room: int, *, fixture: str = "F") -> str:
    code = (f"{division}{cadastral_district:03d}{sub_district:03d}{parcel_kind.upper()}"
            f"{parcel_seq:05d}{fixture.upper()}{building:04d}{room:04d}")
    return check_unit_code(code)
