"""Co-owners acting together (细则 10; 民法典 301, 308): who holds the right a party role disposes of, and
whether the holders who apply are enough to dispose of it.

The register says who holds: a business.yaml party role with ``multiple: true`` and ``from_register:
holders`` gets one member per current holder of the right being disposed of (the unit's ownership — its
land-use right before first registration — or, for the role whose right a release ends, that right), each
with the share and mode written in the book. The applicant picks none by hand.

How many must apply (R7), one rule used at submission (who must still confirm) and by the register check:
- 共同共有 (joint): every joint owner;
- 按份共有 (by shares): holders of at least two thirds of the shares, or all of them;
- 其它共有 and anything else with several holders: by shares when the book records shares adding up to the
  whole (民法典 308 treats an undefined co-ownership as by shares), otherwise every holder — the book gives
  no basis for a smaller quorum.
"""
from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from fractions import Fraction
from typing import Any, Protocol

from sqlalchemy.orm import Session

from app.catalog.definitions import BusinessTypeDef
from app.registry.models import RightHolder
from app.registry.service import current_rights, unit_with_rights

TWO_THIRDS = Fraction(2, 3)
JOINT, BY_SHARES, OTHER, SOLE = "共同共有", "按份共有", "其它共有", "单独所有"


class Holding(Protocol):
    """A register holder or a party member filled from one: what the quorum reads."""

    @property
    def share(self) -> str | None: ...

    @property
    def share_mode(self) -> str | None: ...

    @property
    def id_number_bidx(self) -> str | None: ...


@dataclass(frozen=True)
class Quorum:
    met: bool
    mode: str  # 单独所有 | 共同共有 | 按份共有 | 其它共有
    holders: int
    applying: int
    share: Fraction  # the applying holders' shares (by-share modes)
    by_shares: bool

    def describe(self) -> str:
        """Chinese: what the applying holders amount to, for refusal and pass messages."""
        if self.by_shares:
            return f"申请处分的共有人份额合计 {self.share}"
        return f"登记簿记载 {self.holders} 人，申请中 {self.applying} 人"

    def requirement(self) -> str:
        """Chinese: who must still sign, for the submission check."""
        if self.by_shares:
            return (f"登记簿记载为{self.mode}，须份额合计三分之二以上（或全体）的共有人签名确认"
                    f"（已确认份额合计 {self.share}）")
        return f"登记簿记载为{self.mode}，须全体共有人签名确认（共 {self.holders} 人，已确认 {self.applying} 人）"


def parse_share(value: str | None) -> Fraction:
    """A 共有份额 as written in the register: "1/2", "0.5" or "50%"; unreadable counts as nothing."""
    text = (value or "").strip().replace("％", "%")
    try:
        return Fraction(text[:-1]) / 100 if text.endswith("%") else Fraction(text)
    except (ValueError, ZeroDivisionError):
        return Fraction(0)


def quorum(holders: Sequence[Holding], applying: Iterable[str | None]) -> Quorum:
    """Whether the holders whose blind index is in ``applying`` may dispose of the right ``holders`` hold."""
    wanted = {b for b in applying if b}
    matched = [h for h in holders if h.id_number_bidx in wanted]
    modes = {h.share_mode or SOLE for h in holders}
    mode = JOINT if JOINT in modes else BY_SHARES if BY_SHARES in modes else OTHER if len(holders) > 1 else SOLE
    shares = [parse_share(h.share) for h in holders]
    by_shares = mode == BY_SHARES or (mode == OTHER and all(shares) and sum(shares) == 1)
    share = sum((parse_share(h.share) for h in matched), Fraction(0))
    everyone = len(matched) == len(holders) and bool(holders)
    met = everyone or (by_shares and share >= TWO_THIRDS)
    return Quorum(met=met, mode=mode, holders=len(holders), applying=len(matched), share=share, by_shares=by_shares)


def register_members(session: Session, definition: BusinessTypeDef, role: str, form: dict[str, Any],
                     id_number_bidx: str | None) -> list[RightHolder]:
    """The current holders of the right ``role`` disposes of on the form's unit, when the form's own entry
    for the role (``id_number_bidx``) is one of them; otherwise none (the rules then refuse the stranger)."""
    unit_code = str(form.get("unit_code") or "").replace(" ", "")
    if not unit_code or not id_number_bidx:
        return []
    unit = unit_with_rights(session, unit_code, all_tenants=True)
    if unit is None:
        return []
    ends = (definition.record or {}).get("ends") or {}
    if ends.get("holder_role") == role:
        rights = current_rights(session, unit, ends["right_type"])
        number = str(form.get(ends.get("number_field") or "") or "").strip()
        if number:
            detail = ends.get("match_detail")
            rights = [r for r in rights
                      if (str((r.details or {}).get(detail) or "") if detail else (r.cert_no or "")).strip() == number]
    else:
        rights = current_rights(session, unit, "ownership") or current_rights(session, unit, "land_use")
    held = [r for r in rights if any(h.id_number_bidx == id_number_bidx for h in r.holders)]
    return list(held[0].holders) if len(held) == 1 else []
