"""Registration rules checked against the register book (DOMAIN.md §2.2): what the current rights on a
unit allow a case to do. Run at submission (受理) and again inside the recording transaction (登簿),
because the register may change in between (a seizure served after acceptance still takes effect, R1).

Which rules apply is decided from the business type's ``record`` rule, not from its code: a type that
replaces the ownership is a transfer (a 变更 category one is a change of the holder's particulars); a type
that records a mortgage is a mortgage (transfer and mortgage are disposals); a type that only ends a right
(``record.ends``, e.g. 抵押权注销) is a release, checked only for the applicant holding that right.
"""
from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

from sqlalchemy import inspect as sa_inspect
from sqlalchemy import select
from sqlalchemy.orm import Session

from app.casefile.models import Case, Consent, Party
from app.catalog.definitions import BusinessTypeDef
from app.registry.co_ownership import parse_share, quorum  # noqa: F401 (parse_share re-exported)
from app.registry.models import RealtyUnit, Right
from app.registry.rule_results import BASIS, passed_text
from app.registry.service import current_rights, unit_with_rights
from app.right_types import REGISTERED_TITLES, right_name
from app.vocabulary import EDITABLE_STATUSES, RightStatus

Severity = Literal["block", "warn", "pass"]
TRANSFER, MORTGAGE, CHANGE, RELEASE = "transfer", "mortgage", "change", "release"
FIRST, ADVANCE, SEIZURE, CORRECTION, OBJECTION = "first", "advance", "seizure", "correction", "objection"
ADVANCE_MORTGAGE = "advance_mortgage"  # 预购商品房抵押预告: the buyer mortgages what his advance notice secures
DISPOSALS = frozenset({TRANSFER, MORTGAGE})
# 民法典 399(三): public-welfare facilities of schools, hospitals and elderly care (a recorded use of the
# unit). Homestead and contract land are refused by their right type (NON_MORTGAGEABLE_RIGHTS).
NON_MORTGAGEABLE_USES = frozenset({"教育", "医疗", "养老"})
# 民法典 399(二): 宅基地、自留地、自留山等集体所有土地的使用权 cannot be mortgaged unless a law allows it.
NON_MORTGAGEABLE_RIGHTS = {
    "homestead": ("《民法典》第三百九十九条第二项", "宅基地使用权依法不得抵押"),
    "homestead_house": ("《民法典》第三百九十九条第二项", "宅基地使用权依法不得抵押（农村村民住宅不得连同宅基地抵押）"),
    "land_contract": ("《民法典》第三百九十九条第二项、第三百四十二条；《农村土地承包法》第四十七条",
                      "土地承包经营权依法不得抵押；承包方可以承包地的土地经营权向金融机构融资担保"),
}
# 民法典 398: collective construction land of township/village enterprises is not mortgaged alone, only with
# its buildings (collective_house); 土地管理法 63: operating land obtained by 出让 may be mortgaged.
COLLECTIVE_LAND_BASIS = "《民法典》第三百九十八条；《土地管理法》第六十三条"
ADVANCE_NOTICE_CONSENT = "advance_notice_consent"
OBJECTION_RISK_STATEMENT = "objection_risk_statement"
MORTGAGEE_CONSENT = "mortgagee_consent"


@dataclass(frozen=True)
class RuleResult:
    code: str
    severity: Severity
    message: str
    basis: str
    # A standard passing result (``passed``): the values of its text, so the case stores only these
    # (app/registry/rule_results.py). Not part of the result's value.
    args: dict[str, str] | None = field(default=None, compare=False, repr=False)

    def as_dict(self) -> dict[str, str]:
        return {"code": self.code, "severity": self.severity, "message": self.message, "basis": self.basis}


@dataclass(frozen=True)
class RuleContext:
    case: Case
    unit: RealtyUnit
    kind: str | None  # transfer | mortgage | change | release | None
    business_name: str
    rights: dict[str, list[Right]]
    disposers: list[Party]  # the parties giving up or burdening the right (seller, mortgagor)
    material_codes: frozenset[str]
    session: Session
    ends: dict[str, Any] | None = None  # the record rule's ``ends`` (release types)
    consents: tuple[Consent, ...] = ()  # recorded consents of holders of rights on the unit (R2, R6)

    @property
    def unit_label(self) -> str:
        return f"不动产单元 {self.unit.unit_code}（{self.unit.location}）"

    def current(self, right_type: str) -> list[Right]:
        return self.rights.get(right_type, [])

    def titles(self) -> list[Right]:
        """The unit's current title once its first registration is done (state or rural right types)."""
        return [r for t in sorted(REGISTERED_TITLES) for r in self.current(t)]


def business_kind(definition: BusinessTypeDef) -> str | None:
    record = definition.record or {}
    if record.get("ends") and not record.get("right_type"):
        return RELEASE
    if record.get("right_type") == "seizure":
        return SEIZURE
    if record.get("replaces") == "land_use":
        return FIRST
    if definition.category == "更正":
        return CORRECTION
    if record.get("right_type") == "advance_notice":
        return ADVANCE
    if record.get("right_type") == "advance_mortgage":
        return ADVANCE_MORTGAGE
    if record.get("right_type") == "objection":
        return OBJECTION
    if record.get("replaces") == "ownership":
        return CHANGE if definition.category == "变更" else TRANSFER
    if record.get("right_type") == "mortgage":
        return MORTGAGE
    return None


def _truthy(value: Any) -> bool:
    return value is True or str(value).strip().lower() in {"true", "1", "yes", "是"}


Rule = Callable[[RuleContext], RuleResult | None]


def passed(ctx: RuleContext, code: str, basis: str | None = None, **args: str) -> RuleResult:
    """The rule's standard passing result (its text: rule_results.PASSED)."""
    values = {"unit": ctx.unit_label, **args}
    return RuleResult(code, "pass", passed_text(code, ctx.unit_label, args), basis or BASIS[code], args=values)


def seizure(ctx: RuleContext) -> RuleResult:
    basis = BASIS["seizure"]
    seized = ctx.current("seizure")
    if seized:
        docs = "、".join(str(r.details.get("court_doc")) for r in seized if (r.details or {}).get("court_doc"))
        doc = f"（{docs}）" if docs else ""
        return RuleResult("seizure", "block", f"{ctx.unit_label}已被查封{doc}，查封期间不得办理{ctx.business_name}",
                          basis)
    return passed(ctx, "seizure")


def first_registration(ctx: RuleContext) -> RuleResult:
    basis = BASIS["first_registration"]
    if not ctx.titles():
        return RuleResult("first_registration", "block",
                          f"{ctx.unit_label}尚未办理首次登记（登记簿无现势所有权），不得办理{ctx.business_name}", basis)
    return passed(ctx, "first_registration")


def holder_identity(ctx: RuleContext) -> RuleResult | None:
    """The seller / mortgagor must be the registered holder; co-owned units need all joint owners or at
    least two thirds of the shares among the applicants (R7)."""
    titles = ctx.titles() if _title_type(ctx) == "ownership" else ctx.current("land_use")
    holders = [h for r in titles for h in r.holders]
    if not holders:
        if ctx.kind in (FIRST, ADVANCE):
            return RuleResult("holder_identity", "block", f"{ctx.unit_label}登记簿无现势国有建设用地使用权"
                              f"或房屋所有权，不能办理{ctx.business_name}",
                              "《不动产登记暂行条例实施细则》第二十四条、第三十五条")
        return None  # first_registration already blocks
    code = "holder_identity"
    if ctx.kind == MORTGAGE:
        basis = "《不动产登记暂行条例实施细则》第十条、第六十六条；《民法典》第三百零一条"
    else:
        basis = BASIS["holder_identity"]
    labels = "、".join(dict.fromkeys(p.label for p in ctx.disposers)) or "申请人"
    applying = {p.id_number_bidx for p in ctx.disposers if p.id_number_bidx}
    matched = [h for h in holders if h.id_number_bidx in applying]
    if ctx.kind == CHANGE:  # a co-owner changes only their own particulars: the others need not apply
        if not matched:
            return RuleResult(code, "block", f"{labels}不是{ctx.unit_label}登记簿记载的权利人", basis)
        return RuleResult(code, "pass", f"{labels}为{ctx.unit_label}登记簿记载的权利人", basis)
    if len(holders) > 1:  # R7 (app/registry/co_ownership.py): all joint owners, or ≥ 2/3 of the shares
        q = quorum(holders, applying)
        if not q.met and q.by_shares:
            return RuleResult(code, "block", f"{ctx.unit_label}为{q.mode}，{q.describe()}，未达三分之二以上，"
                              "且非全体共有人申请", basis)
        if not q.met:
            return RuleResult(code, "block", f"{ctx.unit_label}为{q.mode}，须全体共有人作为{labels}申请并签名确认"
                              f"（{q.describe()}）", basis)
        if q.applying < q.holders:
            return RuleResult(code, "pass", f"{labels}{q.describe()}，达到三分之二以上", basis)
        return RuleResult(code, "pass", f"{labels}为{ctx.unit_label}的全体共有人（{q.mode}）", basis)
    if not matched:
        return RuleResult(code, "block", f"{labels}不是{ctx.unit_label}登记簿记载的权利人", basis)
    return passed(ctx, code, basis, labels=labels)


def _title_type(ctx: RuleContext) -> str:
    """Whose right proves the applicant may act: the developer's land right before first registration."""
    if ctx.kind == FIRST or (ctx.kind == ADVANCE and not ctx.titles()):
        return "land_use"
    return "ownership"


def not_yet_registered(ctx: RuleContext) -> RuleResult:
    basis = BASIS["not_yet_registered"]
    if ctx.titles():
        return RuleResult("not_yet_registered", "block", f"{ctx.unit_label}已办理房屋所有权首次登记，不能重复办理",
                          basis)
    return passed(ctx, "not_yet_registered")


def queued_seizure(ctx: RuleContext) -> RuleResult:
    basis = BASIS["queued_seizure"]
    if ctx.current("seizure"):
        return RuleResult("queued_seizure", "warn", f"{ctx.unit_label}已被查封，本次查封将登记为轮候查封，"
                          "自在先的查封解除时起生效", basis)
    return passed(ctx, "queued_seizure")


def correction_limits(ctx: RuleContext) -> RuleResult:
    """R9 (细则 80–81): no correction once a disposal, 预告 or 查封 has been registered after the entry."""
    basis = BASIS["correction_limits"]
    titles = ctx.titles()
    since = max((r.created_at for r in titles), default=None)
    later = [r for t in ("mortgage", "advance_notice", "seizure") for r in ctx.current(t)
             if since is not None and r.created_at > since]
    if later:
        names = "、".join(dict.fromkeys(right_name(r.right_type) for r in later))
        return RuleResult("correction_limits", "block", f"{ctx.unit_label}在所涉登记之后已办理{names}，"
                          "不能办理更正登记，请通过诉讼等途径解决", basis)
    return passed(ctx, "correction_limits")


def duplicate_objection(ctx: RuleContext) -> RuleResult:
    """细则 83: no second objection by the same person while one stands, nor again on the same matter after
    the first lapsed for want of a lawsuit."""
    basis = BASIS["duplicate_objection"]
    objectors = {p.id_number_bidx for p in ctx.case.parties if p.id_number_bidx}
    matter = str(ctx.case.form_public.get("objection_matter") or "").strip()
    mine = [r for r in ctx.current("objection") if any(h.id_number_bidx in objectors for h in r.holders)]
    if mine:
        return RuleResult("duplicate_objection", "block", f"您已在{ctx.unit_label}办理异议登记，不能重复申请", basis)
    lapsed = ctx.session.execute(select(Right).where(Right.unit_id == ctx.unit.id, Right.right_type == "objection",
                                                     Right.status == RightStatus.HISTORY)).scalars().all()
    again = [r for r in lapsed if (r.details or {}).get("lapsed_on") and
             str((r.details or {}).get("objection_matter") or "").strip() == matter and
             any(h.id_number_bidx in objectors for h in r.holders)]
    if again:
        return RuleResult("duplicate_objection", "block", "异议登记失效后，申请人就同一事项以同一理由"
                          "再次申请异议登记的，不予受理", basis)
    return passed(ctx, "duplicate_objection")


def third_party_notices(ctx: RuleContext) -> list[Right]:
    """预告 rights on the unit held by nobody applying: their holders must consent to a disposal (R2)."""
    parties = {p.id_number_bidx for p in ctx.case.parties if p.id_number_bidx}
    return [r for r in ctx.current("advance_notice") if not any(h.id_number_bidx in parties for h in r.holders)]


def restricted_mortgages(ctx: RuleContext) -> list[Right]:
    """Mortgages whose register entry prohibits or restricts transfer: the mortgagee must consent (R6)."""
    return [r for r in ctx.current("mortgage") if _truthy((r.details or {}).get("transfer_restricted"))]


def holder_consents(right: Right, consents: Sequence[Consent]) -> dict[str, Consent | None]:
    """Each holder of ``right`` in the register today (by blind index) → the consent they gave for it, if
    any. A right held by several (共有的预告、抵押权) is consented to only when every holder consented."""
    given = {c.consenter_bidx: c for c in consents if c.right_id == right.id}
    return {h.id_number_bidx: given.get(h.id_number_bidx) for h in right.holders if h.id_number_bidx}


def consented(right: Right, consents: Sequence[Consent]) -> list[Consent] | None:
    """The consents of all the holders of ``right``, or None while one is missing."""
    by_holder = holder_consents(right, consents)
    if not by_holder or any(c is None for c in by_holder.values()):
        return None
    return [c for c in by_holder.values() if c is not None]


CONSENT_HOW = {"online": "在平台确认", "paper": "经受理人员核验纸质书面同意"}


def _consent_result(ctx: RuleContext, code: str, basis: str, rights: list[Right], *, holder: str,
                    material: str, refused: str) -> RuleResult:
    """Pass when every such right's holder has consented; a paper consent uploaded with an application not
    yet submitted lets it through to 受理 (warn), where the clerk must record whose consent it is."""
    given = [consented(r, ctx.consents) for r in rights]
    if all(g is not None for g in given):
        hows = "、".join(dict.fromkeys(CONSENT_HOW.get(c.method, c.method) for g in given for c in g or []))
        return RuleResult(code, "pass", f"{ctx.unit_label}的{holder}已同意本次{ctx.business_name}（{hows}）", basis)
    if material in ctx.material_codes and ctx.case.status in EDITABLE_STATUSES:
        return RuleResult(code, "warn", f"{ctx.unit_label}存在{holder}，已上传其书面同意，受理时由受理人员核验"
                          "同意人是否为登记簿记载的权利人", basis)
    return RuleResult(code, "block", refused, basis)


def advance_notice(ctx: RuleContext) -> RuleResult:
    basis = BASIS["advance_notice"]
    third = third_party_notices(ctx)
    if not third:
        return passed(ctx, "advance_notice")
    return _consent_result(ctx, "advance_notice", basis, third, holder="以第三人为权利人的预告登记",
                           material=ADVANCE_NOTICE_CONSENT,
                           refused=f"{ctx.unit_label}存在以第三人为权利人的预告登记，未经预告登记权利人同意"
                                   f"（权利人在平台确认，或提交其书面同意由受理人员核验），不得办理{ctx.business_name}")


def objection(ctx: RuleContext) -> RuleResult:
    """R4: an objection warns; going on needs the applicants' signed statement that they accept the risk."""
    basis = BASIS["objection"]
    if ctx.current("objection"):
        if OBJECTION_RISK_STATEMENT not in ctx.material_codes:
            return RuleResult("objection", "block", f"{ctx.unit_label}存在异议登记，继续办理的，须上传申请人签署的"
                              "知悉异议、自担风险的书面声明", basis)
        return RuleResult("objection", "warn", f"{ctx.unit_label}存在异议登记，申请人已签署知悉异议、"
                          "自担风险的书面声明", basis)
    return passed(ctx, "objection")


def mortgage_on_transfer(ctx: RuleContext) -> RuleResult:
    basis = BASIS["mortgage_on_transfer"]
    mortgages = ctx.current("mortgage")
    if not mortgages:
        return passed(ctx, "mortgage_on_transfer")
    restricted = restricted_mortgages(ctx)
    if restricted:
        consent = _consent_result(ctx, "mortgage_on_transfer", basis, restricted,
                                  holder="登记簿记载禁止或限制转让的抵押权", material=MORTGAGEE_CONSENT,
                                  refused=f"{ctx.unit_label}已设定抵押，登记簿记载禁止或限制转让，须经抵押权人"
                                          "同意转让（抵押权人在平台确认，或提交其书面同意由受理人员核验）")
        if consent.severity == "block":
            return consent
        return RuleResult("mortgage_on_transfer", "warn", f"{ctx.unit_label}已设定抵押（{len(mortgages)} 项），"
                          f"抵押权随之转移；{consent.message}", basis)
    return RuleResult("mortgage_on_transfer", "warn", f"{ctx.unit_label}已设定抵押（{len(mortgages)} 项），"
                      "转让不影响抵押权，抵押权随之转移", basis)


def mortgageable(ctx: RuleContext) -> RuleResult:
    """民法典 398/399 by the unit's registered right type (and its recorded use for public-welfare facilities)."""
    basis = BASIS["mortgageable"]
    for title in ctx.titles():
        if title.right_type in NON_MORTGAGEABLE_RIGHTS:
            law, why = NON_MORTGAGEABLE_RIGHTS[title.right_type]
            name = right_name(title.right_type)
            return RuleResult("mortgageable", "block", f"{ctx.unit_label}登记的权利类型为{name}，{why}", law)
        if title.right_type == "collective_land" and ctx.unit.right_nature != "出让":
            return RuleResult("mortgageable", "block", f"{ctx.unit_label}登记的权利类型为集体建设用地使用权，"
                              "不得单独抵押：应连同地上建筑物一并抵押，或为以出让方式取得的集体经营性建设用地使用权",
                              COLLECTIVE_LAND_BASIS)
    if ctx.unit.use in NON_MORTGAGEABLE_USES:
        return RuleResult("mortgageable", "block", f"{ctx.unit_label}用途为{ctx.unit.use}，依法不得抵押", basis)
    return passed(ctx, "mortgageable")


def holds_ended_right(ctx: RuleContext) -> RuleResult:
    """A release (e.g. 抵押权注销) may only be applied for by the holder of the right it ends; with several
    such rights the application must name the one (by its certificate / proof number). A type that ends one
    right to record it again changed (抵押权变更: ``ends`` the same right type it creates) is checked alike."""
    ends = ctx.ends or {}
    if ctx.kind != RELEASE:
        return _holds_right(ctx, ends, "holds_changed_right", "变更")
    return _holds_right(ctx, ends, "holds_ended_right", "注销")


def _holds_right(ctx: RuleContext, ends: dict[str, Any], code: str, verb: str) -> RuleResult:
    from app.registry.service import rights_ended_by

    basis = BASIS[code]
    labels = "、".join(p.label for p in ctx.case.parties if p.role == ends.get("holder_role")) or "申请人"
    name = right_name(ends.get("right_type"))
    holders = {p.id_number_bidx for p in ctx.case.parties if p.role == ends.get("holder_role") and p.id_number_bidx}
    held = [r for r in ctx.current(ends.get("right_type", "")) if any(h.id_number_bidx in holders for h in r.holders)]
    if not held:
        return RuleResult(code, "block", f"{labels}不是{ctx.unit_label}现势{name}的权利人，"
                          f"不能申请{verb}", basis)
    targets = rights_ended_by(ctx.session, ctx.case, ctx.unit, ends)
    number = str(ctx.case.form_data.get(ends.get("number_field") or "") or "").strip()
    number_label = ends.get("number_label") or "不动产登记证明号"
    if not targets and number:
        return RuleResult(code, "block", f"{labels}在{ctx.unit_label}没有{number_label}为 {number} 的"
                          f"现势{name}", basis)
    if not targets:
        return RuleResult(code, "block", f"{labels}在{ctx.unit_label}有 {len(held)} 项现势{name}，"
                          f"请填写要{verb}的{number_label}", basis)
    return passed(ctx, code, labels=labels, name=name)


ADVANCE_NOTICE_NUMBER = "advance_notice_proof_no"  # the form field naming the buyer's 预告登记证明号


def holds_advance_notice(ctx: RuleContext) -> RuleResult:
    """细则 85/86 (预购商品房抵押预告): the mortgagor is the buyer holding a current 预售商品房买卖预告 on the
    unit (the one with the 预告登记证明号 the form gives, when it gives one); a lapsed or ended notice secures
    nothing to mortgage."""
    basis = BASIS["holds_advance_notice"]
    labels = "、".join(p.label for p in ctx.disposers) or "申请人"
    buyers = {p.id_number_bidx for p in ctx.disposers if p.id_number_bidx}
    held = [r for r in ctx.current("advance_notice") if any(h.id_number_bidx in buyers for h in r.holders)]
    number = str(ctx.case.form_data.get(ADVANCE_NOTICE_NUMBER) or "").strip()
    if number:
        held = [r for r in held if (r.cert_no or "").strip() == number]
    if not held:
        which = f"证明号为 {number} 的" if number else ""
        return RuleResult("holds_advance_notice", "block", f"{labels}在{ctx.unit_label}没有{which}现势预售商品房买卖"
                          "预告登记（预告登记已失效、已注销或不是本人的），不能申请预购商品房抵押预告登记", basis)
    return passed(ctx, "holds_advance_notice", labels=labels)




# (rule, business kinds it applies to), in the order results are reported.
RULES: list[tuple[Rule, frozenset[str]]] = [
    (seizure, DISPOSALS | {ADVANCE, ADVANCE_MORTGAGE}),
    (queued_seizure, frozenset({SEIZURE})),
    (not_yet_registered, frozenset({FIRST})),
    (first_registration, DISPOSALS | {CHANGE, CORRECTION, OBJECTION}),
    (duplicate_objection, frozenset({OBJECTION})),
    (holder_identity, DISPOSALS | {CHANGE, CORRECTION, FIRST, ADVANCE}),
    (correction_limits, frozenset({CORRECTION})),
    (advance_notice, DISPOSALS | {ADVANCE}),
    (objection, DISPOSALS | {ADVANCE}),
    (mortgage_on_transfer, frozenset({TRANSFER})),
    (mortgageable, frozenset({MORTGAGE})),
    (holds_ended_right, frozenset({RELEASE})),
    (holds_advance_notice, frozenset({ADVANCE_MORTGAGE})),
]


def check_case(session: Session, case: Case, definition: BusinessTypeDef) -> list[RuleResult]:
    """Every rule that applies to the case's business type, checked against the unit's current rights."""
    kind = business_kind(definition)
    if kind is None or not case.unit_code:
        return []
    unit = unit_with_rights(session, case.unit_code)  # with its current rights and their holders
    if unit is None:
        return [RuleResult("unit_exists", "block", f"登记簿中没有不动产单元 {case.unit_code}",
                           "《不动产登记暂行条例》第八条")]
    rights: dict[str, list[Right]] = {}
    for right in current_rights(session, unit):
        rights.setdefault(right.right_type, []).append(right)
    holder_roles = set((definition.record or {}).get("holder_roles", []))
    acting_alone = kind in (FIRST, CORRECTION)  # the holder applies for its own right: it is the one checked
    # A member filled from the register (share_mode set) applies once they confirmed (co_ownership.py).
    disposers = [p for p in case.parties if (acting_alone or p.role not in holder_roles)
                 and (p.share_mode is None or p.confirmed_at is not None)]
    ctx = RuleContext(case=case, unit=unit, kind=kind, business_name=definition.name or "该业务",
                      rights=rights, disposers=disposers,
                      material_codes=frozenset(m.code for m in case.materials),
                      ends=(definition.record or {}).get("ends"), session=session,
                      consents=tuple(consents_of(session, case)))
    results = [rule(ctx) for rule, kinds in RULES if kind in kinds]
    if kind != RELEASE and ctx.ends and not ctx.ends.get("optional"):  # 变更 of one right found by its number
        results.append(holds_ended_right(ctx))
    return [r for r in results if r is not None]


def consents_of(session: Session, case: Case) -> list[Consent]:
    """The case's consents, oldest first: as read with the case (``Case.consents``, loaded by the steps that
    check the rules) unless this transaction added, changed or deleted one since."""
    if case.id is None:
        return []
    if "consents" in sa_inspect(case).dict and not _consents_changed(session, case):
        return list(case.consents)
    return list(session.execute(select(Consent).where(Consent.case_id == case.id)
                                .order_by(Consent.created_at)).scalars())


def _consents_changed(session: Session, case: Case) -> bool:
    """A consent of the case added, changed or deleted and not written yet (one written since the case was read
    has expired ``Case.consents``: app/cases/consents.py)."""
    return any(isinstance(o, Consent) and o.case_id == case.id
               for o in (*session.new, *session.dirty, *session.deleted))


def rights_needing_consent(session: Session, case: Case, definition: BusinessTypeDef) -> list[Right]:
    """The current rights on the case's unit whose holders must consent to this case: 预告 held by a
    third party for any disposal (R2), a mortgage restricting transfer for a transfer (R6)."""
    kind = business_kind(definition)
    unit = unit_with_rights(session, case.unit_code)  # with its current rights and their holders
    if unit is None:
        return []
    rights: dict[str, list[Right]] = {}
    for right in current_rights(session, unit):
        rights.setdefault(right.right_type, []).append(right)
    ctx = RuleContext(case=case, unit=unit, kind=kind, business_name=definition.name or "该业务",
                      rights=rights, disposers=[], material_codes=frozenset(), session=session)
    needing = third_party_notices(ctx) if kind in DISPOSALS | {ADVANCE} else []
    return needing + (restricted_mortgages(ctx) if kind == TRANSFER else [])


UNIT_RULES = (seizure, first_registration, not_yet_registered, mortgageable)  # need no parties


def unit_precheck(session: Session, definition: BusinessTypeDef, unit_code: str) -> tuple[RealtyUnit | None,
                                                                                         list[RuleResult]]:
    """Before anyone fills a form: the rules that depend on the unit alone (seized, not yet registered …),
    so an applicant is told at once that the unit cannot go through this business."""
    unit = unit_with_rights(session, unit_code, all_tenants=True)
    if unit is None:
        return None, [RuleResult("unit_exists", "block", f"登记簿中没有不动产单元 {unit_code}",
                                 "《不动产登记暂行条例》第八条")]
    kind = business_kind(definition)
    rights: dict[str, list[Right]] = {}
    for right in current_rights(session, unit):
        rights.setdefault(right.right_type, []).append(right)
    ctx = RuleContext(case=Case(), unit=unit, kind=kind, business_name=definition.name or "该业务",
                      rights=rights, disposers=[], material_codes=frozenset(), session=session)
    results = [rule(ctx) for rule, kinds in RULES if rule in UNIT_RULES and kind in kinds]
    return unit, [r for r in results if r is not None]


def blocking(results: list[RuleResult]) -> list[RuleResult]:
    return [r for r in results if r.severity == "block"]
