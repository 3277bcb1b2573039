"""The right types the register book keeps, with the Chinese names used on screens, certificates and in
rule messages. One table, so the importer, the rules and the certificates can never disagree.

``land_use`` is the 国有建设用地使用权 alone (a developer's parcel before the building's first registration);
``ownership`` is the combined 国有建设用地使用权/房屋所有权 that first registration creates (QLLX 4).
"""
from __future__ import annotations

RIGHT_TYPES: dict[str, str] = {
    "land_use": "国有建设用地使用权",
    "ownership": "国有建设用地使用权/房屋所有权",
    "mortgage": "抵押权",
    "advance_notice": "预告登记",
    "objection": "异议登记",
    "seizure": "查封登记",
}
# Rights evidenced by a 不动产权证书; every other right gets a 不动产登记证明 (seizures get none).
TITLE_RIGHTS = frozenset({"ownership", "land_use"})
NO_CERTIFICATE_RIGHTS = frozenset({"seizure"})
# Status flags derived from current rights (DOMAIN.md §2.3).
FLAG_RIGHTS = {"mortgage": "mortgaged", "seizure": "seized", "advance_notice": "advance_noticed",
               "objection": "objection"}


def right_name(right_type: str | None) -> str:
    return RIGHT_TYPES.get(right_type or "", right_type or "权利")
