"""The right types the register book keeps, with the Chinese names used on screens, certificates and in
rule messages. One table, so the importer, the rules and the certificates can never disagree.

``land_use`` is the 国有建设用地使用权 alone (a developer's parcel before the building's first registration);
``ownership`` is the combined 国有建设用地使用权/房屋所有权 that first registration creates (QLLX 4).
The rural rights of 条例 5 (DOMAIN.md §1.2) are types of their own, because what the law allows depends on
them (民法典 398/399: a homestead cannot be mortgaged, collective construction land only with its buildings),
not on a use someone typed: ``homestead`` 宅基地使用权 (5) and ``homestead_house`` with the house on it (6),
``collective_land`` 集体建设用地使用权 (7) and ``collective_house`` with the buildings on it (8),
``land_contract`` 土地承包经营权 (9). Keys fit ``Right.right_type`` (16 characters).
"""
from __future__ import annotations

RIGHT_TYPES: dict[str, str] = {
    "land_use": "国有建设用地使用权",
    "ownership": "国有建设用地使用权/房屋所有权",
    "homestead": "宅基地使用权",
    "homestead_house": "宅基地使用权/房屋所有权",
    "collective_land": "集体建设用地使用权",
    "collective_house": "集体建设用地使用权/房屋所有权",
    "land_contract": "土地承包经营权",
    "mortgage": "抵押权",
    "advance_notice": "预告登记",
    "advance_mortgage": "抵押预告登记",  # 预购商品房抵押预告 (细则 78): held by the bank, becomes a mortgage at 预转本
    "objection": "异议登记",
    "seizure": "查封登记",
}
# 权利类型 QLLX codes of the database standard (TD/T 1066; DOMAIN.md §1.2) for the title rights.
QLLX_CODES: dict[str, str] = {"land_use": "3", "ownership": "4", "homestead": "5", "homestead_house": "6",
                              "collective_land": "7", "collective_house": "8", "land_contract": "9"}
# Rights evidenced by a 不动产权证书 (a unit has at most one current one: its title); every other right gets
# a 不动产登记证明 (seizures get none).
TITLE_RIGHTS = frozenset(QLLX_CODES)
# Titles that include the building (房地一体): what the state-land ``ownership`` is for a rural unit.
BUILDING_TITLES = frozenset({"ownership", "homestead_house", "collective_house"})
# Titles that complete a unit's first registration: every title but the developer's state land right alone.
REGISTERED_TITLES = TITLE_RIGHTS - {"land_use"}
NO_CERTIFICATE_RIGHTS = frozenset({"seizure"})
# Status flags derived from current rights (DOMAIN.md §2.3).
FLAG_RIGHTS = {"mortgage": "mortgaged", "seizure": "seized", "advance_notice": "advance_noticed",
               "objection": "objection"}


def right_name(right_type: str | None) -> str:
    return RIGHT_TYPES.get(right_type or "", right_type or "权利")


# What a register entry records (``record.entry_kind`` of a type, else the right type it creates or ends;
# ``initial_<right>`` for the rights taken over from the old register by the importer).
ENTRY_KINDS: dict[str, str] = {
    "first_registration": "首次登记", "first_transfer": "首次转移登记", "holder_change": "变更登记",
    "correction": "更正登记", "mortgage_cancel": "抵押权注销登记", "seizure_release": "解封登记",
    "mortgage_change": "抵押权变更登记",
}


def entry_kind_name(kind: str) -> str:
    """A register entry's kind in words (found: ``initial_ownership`` on the case page)."""
    if kind in ENTRY_KINDS:
        return ENTRY_KINDS[kind]
    if kind.startswith("initial_"):
        return f"{right_name(kind.removeprefix('initial_'))}（存量登记）"
    if kind not in RIGHT_TYPES:
        return "登记"
    name = right_name(kind)
    return name if name.endswith("登记") else f"{name}登记"
