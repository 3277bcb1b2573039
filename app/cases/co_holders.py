"""Several new holders named on the application (several buyers; 细则 第十条, 民法典 第二百九十八条):
the form's own entry for the role plus the further members it lists, each a party of the role who confirms.

Why here and not in co_ownership.py: the co-owners who dispose of a right come from the register (who holds
today); the persons who will hold come from the application, and what the form must say for the register to
record them — a 共有方式 for the whole side and, for 按份共有, shares adding up to exactly 1 — is checked when
the form is saved, so a wrong split never reaches 登簿. A party role opts in with ``members_field`` (an array
field of {name, id_number, share}) and ``share_field`` (the share of the form's own entry) in business.yaml.

Members keep ``share_mode`` None on the party: that marker means "filled from the register" and lets a
two-thirds quorum act for the others (app/cases/intake.py), whereas every buyer must confirm. The mode is the
form's ``share_mode``, which 登簿 writes for every holder (app/registry/service.py).
"""
from __future__ import annotations

from fractions import Fraction
from typing import Any

from app.casefile.models import Case, Party
from app.catalog.definitions import PartyRole
from app.errors import ValidationFailed
from app.registry.co_ownership import BY_SHARES, SOLE, parse_share

SHARE_MODE_FIELD = "share_mode"


def typed_members(case: Case, role: PartyRole, data: dict[str, Any], typed: Party) -> list[Party]:
    """The further members ``data`` lists for ``role`` as parties after ``typed`` (the form's own entry),
    with their shares when the side holds by shares; raises ValidationFailed when the shares do not add up."""
    field = role.members_field
    if not field:
        return []
    listed = [m for m in data.get(field) or [] if isinstance(m, dict)]
    mode = str(data.get(SHARE_MODE_FIELD) or SOLE)
    by_shares = mode == BY_SHARES and bool(listed)
    own_share = str(data.get(role.share_field or "") or "").strip() or None
    typed.share = own_share if by_shares else None
    members: list[Party] = []
    for item in listed:
        member = Party(case_id=case.id, tenant_id=case.tenant_id, position=typed.position + 1 + len(members),
                       role=typed.role, label=typed.label, kind=typed.kind,
                       share=(str(item.get("share") or "").strip() or None) if by_shares else None)
        member.ensure_id()
        member.name, member.id_number = item.get("name"), item.get("id_number")
        members.append(member)
    _check(role, data, mode, typed, members)
    return members


def _check(role: PartyRole, data: dict[str, Any], mode: str, typed: Party, members: list[Party]) -> None:
    field = str(role.members_field)
    if not members:
        return
    if mode == SOLE:
        raise ValidationFailed(f"{role.label}有多人时，共有方式不能为单独所有，请选择共同共有或按份共有",
                               field=SHARE_MODE_FIELD)
    bidx = [p.id_number_bidx for p in (typed, *members) if p.id_number_bidx]
    if len(set(bidx)) != len(bidx):
        raise ValidationFailed(f"{role.label}中有人重复列出（身份证号相同）", field=field)
    if mode != BY_SHARES:
        return
    share_field = str(role.share_field or field)
    if not typed.share or parse_share(typed.share) <= 0:
        raise ValidationFailed(f"按份共有时须填写{role.label}（{typed.name or '本人'}）的份额，如 1/2",
                               field=share_field)
    shares = [parse_share(p.share) for p in members]
    if not all(s > 0 for s in shares):
        raise ValidationFailed(f"按份共有时须填写每位{role.label}的份额，如 1/2", field=field)
    total = parse_share(typed.share) + sum(shares, Fraction(0))
    if total != 1:
        raise ValidationFailed(f"按份共有的{role.label}份额合计应为 1，当前合计为 {total}", field=field)
