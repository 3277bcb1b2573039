"""Statistics (图、表、文) for the dashboard: applications by district, time, type and channel; processing
time per stage; SLA breaches; materials waived by data sharing; certificates issued; appointments used.

Every figure is one query over the case-side tables with the same filter (time range on the submission
time, district, business type, channel), so the dashboard, its drill-down list and its export agree — and
a test compares each number with a plain SQL count. Everything is aggregated in the database; the few
dialect differences (Beijing-time month or day of a timestamp, hours between two timestamps) have one
helper each.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import ColumnElement, Select, and_, case, func, select
from sqlalchemy.orm import Session

from app.casefile.models import Appointment, Case, Material, Task
from app.catalog.models import BusinessType
from app.errors import ValidationFailed
from app.identity.actor import Actor
from app.identity.directory import districts
from app.identity.models import Tenant
from app.integrations.verification_models import MaterialWaiver
from app.registry.models import Certificate
from app.supervision.feedback_stats import RATING_FIGURES, rating_figures
from app.supervision.logs import LOCAL, day_bounds
from app.vocabulary import AppointmentStatus, CertificateStatus, Channel, Stage, TaskStatus

CHANNELS: dict[str, str] = {Channel.ONLINE: "网上申请", Channel.WINDOW: "窗口受理", Channel.INSTITUTION: "机构申请",
            Channel.COURT: "嘱托登记"}
STAGE_ORDER = (Stage.ACCEPT, Stage.REVIEW, Stage.RECORD, Stage.CERTIFY)
LIST_LIMIT = 500


@dataclass(frozen=True)
class StatsFilter:
    date_from: date | None = None
    date_to: date | None = None
    tenant_id: str = ""
    business_type: str = ""
    channel: str = ""
    granularity: str = "month"  # month | day

    @classmethod
    def parse(cls, args: Any) -> StatsFilter:
        errors: dict[str, list[str]] = {}

        def day(name: str) -> date | None:
            raw = (args.get(name) or "").strip()
            try:
                return date.fromisoformat(raw) if raw else None
            except ValueError:
                errors[name] = ["日期格式应为 YYYY-MM-DD"]
                return None

        channel = (args.get("channel") or "").strip()
        if channel and channel not in CHANNELS:
            errors["channel"] = ["未知的申请渠道"]
        granularity = args.get("granularity") or "month"
        if granularity not in {"month", "day"}:
            errors["granularity"] = ["应为 month 或 day"]
        result = cls(date_from=day("from"), date_to=day("to"), tenant_id=(args.get("tenant") or "").strip()[:12],
                     business_type=(args.get("type") or "").strip()[:64], channel=channel, granularity=granularity)
        if errors:
            raise ValidationFailed("统计条件有误", errors=errors)
        return result

    def query_args(self) -> dict[str, str]:
        return {k: v for k, v in {"from": self.date_from.isoformat() if self.date_from else "",
                                  "to": self.date_to.isoformat() if self.date_to else "", "tenant": self.tenant_id,
                                  "type": self.business_type, "channel": self.channel,
                                  "granularity": self.granularity if self.granularity != "month" else ""}.items()
                if v}

    def bounds(self) -> tuple[datetime | None, datetime | None]:
        return day_bounds(self.date_from, self.date_to)


def _within(column: Any, f: StatsFilter) -> list[ColumnElement[bool]]:
    start, end = f.bounds()
    return [c for c in ((column >= start) if start else None, (column < end) if end else None) if c is not None]


def cases_query(f: StatsFilter) -> Select[Any]:
    """The applications a figure counts: submitted (drafts are not applications yet) and matching ``f``."""
    q = select(Case).where(Case.submitted_at.is_not(None), Case.channel != Channel.INTERNAL,
                           *_within(Case.submitted_at, f))
    if f.tenant_id:
        q = q.where(Case.tenant_id == f.tenant_id)
    if f.business_type:
        q = q.where(Case.business_type_code == f.business_type)
    if f.channel:
        q = q.where(Case.channel == f.channel)
    return q


def _period(session: Session, column: Any, granularity: str) -> Any:
    """``YYYY-MM`` (or ``YYYY-MM-DD``) of a UTC timestamp in Beijing time, in the database's own dialect."""
    if session.get_bind().dialect.name == "postgresql":
        local = func.timezone("Asia/Shanghai", func.timezone("UTC", column))
        return func.to_char(local, "YYYY-MM" if granularity == "month" else "YYYY-MM-DD")
    return func.strftime("%Y-%m" if granularity == "month" else "%Y-%m-%d", column, "+8 hours")


def _grouped(session: Session, f: StatsFilter, key: Any) -> list[tuple[str, int]]:
    cases = cases_query(f).subquery()
    col = key(cases)
    rows = session.execute(select(col, func.count()).select_from(cases).group_by(col).order_by(col)).all()
    return [(str(k) if k is not None else "", int(n)) for k, n in rows]


def _names(session: Session, model: Any, codes: list[str]) -> dict[str, str]:
    if not codes:
        return {}
    return dict(session.execute(select(model.code, model.name).where(model.code.in_(codes))).all())


def _labelled(pairs: list[tuple[str, int]], names: dict[str, str]) -> list[dict[str, Any]]:
    return [{"key": k, "label": names.get(k, k), "value": v} for k, v in pairs]


def _hours(session: Session, start: Any, end: Any) -> Any:
    """Hours between two UTC timestamp columns, in the database's own dialect."""
    if session.get_bind().dialect.name == "postgresql":
        return func.extract("epoch", end - start) / 3600.0
    return (func.julianday(end) - func.julianday(start)) * 24.0


def _local_date(session: Session, column: Any) -> Any:
    """The Beijing-time calendar day of a UTC timestamp column (comparable with a DATE column)."""
    if session.get_bind().dialect.name == "postgresql":
        return func.date(func.timezone("Asia/Shanghai", func.timezone("UTC", column)))
    return func.date(column, "+8 hours")


def _durations(session: Session, f: StatsFilter, today: date) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """Mean hours per stage over completed tasks, and SLA breaches per stage (finished after their due day
    in Beijing time, or still open past it), for the tasks of the filtered cases — aggregated in SQL."""
    ids = cases_query(f).with_only_columns(Case.id)
    done = Task.status == TaskStatus.COMPLETED
    late = case((and_(done, _local_date(session, Task.completed_at) > Task.due_at), 1),
                (and_(Task.status == TaskStatus.OPEN, Task.due_at < today), 1), else_=0)
    rows = session.execute(
        select(Task.stage, func.avg(case((done, _hours(session, Task.created_at, Task.completed_at)))),
               func.sum(case((done, 1), else_=0)), func.sum(late))
        .where(Task.case_id.in_(ids), Task.status != TaskStatus.CANCELLED).group_by(Task.stage)).all()

    def order(stage: str) -> tuple[int, str]:
        return (STAGE_ORDER.index(stage) if stage in STAGE_ORDER else len(STAGE_ORDER), stage)

    rows = sorted(rows, key=lambda r: order(r[0]))
    processing = [{"key": s, "label": s, "value": round(float(avg), 2), "tasks": int(n)}
                  for s, avg, n, _ in rows if n]
    sla = [{"key": s, "label": s, "value": int(breaches or 0)} for s, _, _, breaches in rows]
    return processing, sla


def _waivers(session: Session, f: StatsFilter) -> dict[str, Any]:
    ids = cases_query(f).with_only_columns(Case.id)
    waived = session.execute(select(func.count()).select_from(MaterialWaiver)
                             .where(MaterialWaiver.case_id.in_(ids))).scalar_one()
    uploaded = session.execute(select(func.count(func.distinct(Material.case_id + ":" + Material.code)))
                               .where(Material.case_id.in_(ids))).scalar_one()
    total = waived + uploaded
    return {"waived": waived, "uploaded": uploaded, "share": round(waived / total, 4) if total else 0.0}


def _certificates(session: Session, f: StatsFilter) -> list[dict[str, Any]]:
    q = select(Certificate.kind, func.count()).where(Certificate.status != CertificateStatus.VOIDED,
                                                     *_within(Certificate.issued_at, f))
    if f.tenant_id:
        q = q.where(Certificate.tenant_id == f.tenant_id)
    if f.business_type or f.channel:
        q = q.where(Certificate.case_id.in_(cases_query(StatsFilter(
            tenant_id=f.tenant_id, business_type=f.business_type, channel=f.channel)).with_only_columns(Case.id)))
    labels = {"title": "不动产权证书", "proof": "不动产登记证明", "no_property": "无房证明"}
    rows = session.execute(q.group_by(Certificate.kind).order_by(Certificate.kind)).all()
    return [{"key": k, "label": labels.get(k, k), "value": int(n)} for k, n in rows]


def _appointments(session: Session, f: StatsFilter) -> dict[str, Any]:
    q = select(Appointment.status, func.count())
    if f.date_from:
        q = q.where(Appointment.day >= f.date_from)
    if f.date_to:
        q = q.where(Appointment.day <= f.date_to)
    if f.tenant_id:
        q = q.where(Appointment.tenant_id == f.tenant_id)
    if f.business_type:
        q = q.where(Appointment.business_type_code == f.business_type)
    counts = {s: int(n) for s, n in session.execute(q.group_by(Appointment.status)).all()}
    used = counts.get(AppointmentStatus.CHECKED_IN, 0)
    booked = counts.get(AppointmentStatus.BOOKED, 0) + used
    return {"booked": booked, "used": used, "cancelled": counts.get(AppointmentStatus.CANCELLED, 0),
            "share": round(used / booked, 4) if booked else 0.0}


def filter_choices(session: Session) -> dict[str, Any]:
    """The filter's choices as (code, name): the districts, and every business type — a disabled type's past
    applications still count — plus the channels."""
    return {"tenants": [(t.code, t.name) for t in districts(session)],
            "types": session.execute(select(BusinessType.code, BusinessType.name)
                                     .order_by(BusinessType.code)).all(),
            "channels": CHANNELS}


def dashboard(session: Session, actor: Actor, f: StatsFilter, today: date | None = None) -> dict[str, Any]:
    """Every figure of the dashboard for ``f`` (a district's staff see their own district only, by the
    session's tenant scope)."""
    actor.require("stats:read")
    today = today or datetime.now(LOCAL).date()
    by_district = _grouped(session, f, lambda c: c.c.tenant_id)
    by_type = _grouped(session, f, lambda c: c.c.business_type_code)
    processing, sla = _durations(session, f, today)
    total = session.execute(select(func.count()).select_from(cases_query(f).subquery())).scalar_one()
    return {
        "filters": f.query_args(),
        "total": total,
        "by_district": _labelled(by_district, _names(session, Tenant, [k for k, _ in by_district])),
        "by_period": _labelled(_grouped(session, f, lambda c: _period(session, c.c.submitted_at, f.granularity)), {}),
        "by_type": _labelled(by_type, _names(session, BusinessType, [k for k, _ in by_type])),
        "by_channel": _labelled(_grouped(session, f, lambda c: c.c.channel), CHANNELS),
        "processing_hours": processing,
        "sla_breaches": sla,
        "waivers": _waivers(session, f),
        "certificates": _certificates(session, f),
        "appointments": _appointments(session, f),
        "ratings": rating_figures(session, f),
    }


def drill_down(session: Session, actor: Actor, f: StatsFilter, period: str = "") -> list[dict[str, Any]]:
    """The applications behind a bar: business number, type, district, channel, status, times (no personal
    data). ``period`` narrows to one bar of the time chart."""
    actor.require("stats:read")
    q = cases_query(f)
    if period:
        q = q.where(_period(session, Case.submitted_at, "day" if len(period) == 10 else "month") == period)
    cases = session.execute(q.order_by(Case.submitted_at.desc()).limit(LIST_LIMIT)).scalars().all()
    types = _names(session, BusinessType, list({c.business_type_code for c in cases}))
    tenants = _names(session, Tenant, list({c.tenant_id for c in cases}))
    return [{"business_no": c.business_no, "type": types.get(c.business_type_code, c.business_type_code),
             "district": tenants.get(c.tenant_id, c.tenant_id), "channel": CHANNELS.get(c.channel, c.channel),
             "status": c.status, "submitted_at": c.submitted_at, "completed_at": c.completed_at} for c in cases]


DRILL_COLUMNS = (("business_no", "业务号"), ("type", "业务类型"), ("district", "辖区"), ("channel", "渠道"),
                 ("status", "状态"), ("submitted_at", "提交时间"), ("completed_at", "办结时间"))
FIGURE_COLUMNS = (("figure", "指标"), ("label", "项目"), ("value", "数值"))
FIGURES = {"by_district": "按辖区申请量", "by_period": "按时间申请量", "by_type": "按业务类型申请量",
           "by_channel": "按渠道申请量", "processing_hours": "各环节平均办理时长（小时）",
           "sla_breaches": "超期环节数", "certificates": "发证数"}


def figure_rows(data: dict[str, Any]) -> list[dict[str, Any]]:
    """The dashboard as one table (for CSV/XLSX): figure, item, value."""
    rows: list[dict[str, Any]] = [{"figure": "申请总量", "label": "合计", "value": data["total"]}]
    for key, title in FIGURES.items():
        rows.extend({"figure": title, "label": item["label"], "value": item["value"]} for item in data[key])
    w, a = data["waivers"], data["appointments"]
    rows += [{"figure": "共享免提交材料", "label": "免提交件数", "value": w["waived"]},
             {"figure": "共享免提交材料", "label": "上传件数", "value": w["uploaded"]},
             {"figure": "共享免提交材料", "label": "免提交占比", "value": w["share"]},
             {"figure": "预约", "label": "预约数", "value": a["booked"]},
             {"figure": "预约", "label": "已到场", "value": a["used"]},
             {"figure": "预约", "label": "已取消", "value": a["cancelled"]},
             {"figure": "预约", "label": "到场率", "value": a["share"]}]
    r = data["ratings"]
    rows += [{"figure": "好差评", "label": "评价数", "value": r["total"]},
             {"figure": "好差评", "label": "满意率", "value": r["share"]},
             {"figure": "好差评", "label": "未办结差评", "value": r["open_bad"]}]
    for key, title in RATING_FIGURES.items():
        rows.extend({"figure": f"好差评{title}", "label": item["label"], "value": item["share"]} for item in r[key])
    return rows
