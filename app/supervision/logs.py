"""Querying the three logs operators read — the operation log (the audit log: every state change and every
register query, by whom), the interface-call log and the exception log — with one filter shape (time,
user, business number, type), and tracing one business number across everything that touched it.

Each query returns a page of plain rows (``LogPage``) that both the admin pages and the CSV/XLSX export
use, so what is exported is exactly what the screen lists.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from sqlalchemy import Select, func, or_, select
from sqlalchemy.orm import Session

from app.casefile.event_messages import message_of
from app.casefile.models import Appointment, Case, CaseEvent, Task
from app.clock import CHINA
from app.errors import ValidationFailed
from app.identity.actor import Actor
from app.identity.models import User
from app.integrations.models import InterfaceCallLog, OutboxMessage
from app.registry.models import Certificate, RegisterEntry
from app.right_types import entry_kind_name
from app.security import audit
from app.security.models import AuditEntry
from app.supervision import log_labels as labels
from app.supervision.models import ExceptionLog

LOCAL = CHINA  # Beijing time (app/clock.py)
PAGE_SIZE = 50
EXPORT_LIMIT = 50_000


@dataclass(frozen=True)
class LogKind:
    code: str
    label: str
    columns: tuple[tuple[str, str], ...]  # (key, Chinese header)
    type_label: str


KINDS = {
    "audit": LogKind("audit", "操作日志", (
        ("seq", "序号"), ("at", "时间"), ("user", "用户"), ("tenant_id", "辖区"), ("action", "操作"),
        ("object_type", "对象类型"), ("object_id", "对象"), ("business_no", "业务号"), ("detail", "内容")),
        "操作名称（可只填其中几个字）"),
    "calls": LogKind("calls", "接口调用日志", (
        ("at", "时间"), ("interface_code", "接口"), ("operation", "操作"), ("user", "用户"),
        ("business_no", "业务号"), ("outcome", "结果"), ("http_status", "HTTP 状态"), ("attempts", "尝试次数"),
        ("latency_ms", "耗时(ms)"), ("error", "错误"), ("summary", "请求摘要")),
        "接口代码或结果代码（如 ok、timeout）"),
    "exceptions": LogKind("exceptions", "异常日志", (
        ("at", "时间"), ("exc_type", "异常类型"), ("method", "方法"), ("path", "路径"), ("endpoint", "端点"),
        ("user", "用户"), ("business_no", "业务号"), ("where", "位置"), ("fingerprint", "指纹")),
        "异常类型（包含）"),
    # Plain reads (material views, register queries, 线下查询): the unchained access log (audit.record_access).
    "access": LogKind("access", "访问日志", (
        ("at", "时间"), ("user", "用户"), ("tenant_id", "辖区"), ("action", "操作"), ("object_type", "对象类型"),
        ("object_id", "对象"), ("detail", "内容")),
        "操作名称（可只填其中几个字）"),
}


@dataclass(frozen=True)
class LogFilter:
    kind: str = "audit"
    date_from: date | None = None
    date_to: date | None = None
    username: str = ""
    business_no: str = ""
    type: str = ""
    page: int = 1

    @classmethod
    def parse(cls, args: Any) -> LogFilter:
        """From query-string arguments; bad dates are refused with per-field Chinese errors."""
        errors: dict[str, list[str]] = {}

        def day(name: str) -> date | None:
            raw = (args.get(name) or "").strip()
            if not raw:
                return None
            try:
                return date.fromisoformat(raw)
            except ValueError:
                errors[name] = ["日期格式应为 YYYY-MM-DD"]
                return None

        kind = args.get("kind") or "audit"
        if kind not in KINDS:
            errors["kind"] = ["未知的日志类型"]
        page = args.get("page") or "1"
        result = cls(kind=kind, date_from=day("from"), date_to=day("to"),
                     username=(args.get("user") or "").strip()[:64],
                     business_no=(args.get("business_no") or "").strip()[:32],
                     type=(args.get("type") or "").strip()[:64],
                     page=max(1, int(page)) if str(page).isdigit() else 1)
        if errors:
            raise ValidationFailed("查询条件有误", errors=errors)
        return result

    def query_args(self) -> dict[str, str]:
        return {k: v for k, v in {"kind": self.kind, "from": self.date_from.isoformat() if self.date_from else "",
                                  "to": self.date_to.isoformat() if self.date_to else "", "user": self.username,
                                  "business_no": self.business_no, "type": self.type}.items() if v}


@dataclass
class LogPage:
    kind: LogKind
    rows: list[dict[str, Any]]
    total: int
    page: int
    pages: int
    filters: LogFilter = field(default_factory=LogFilter)
    by_type: list[tuple[str, int]] = field(default_factory=list)  # the query's rows counted by type, top 10
    type_labels: dict[str, str] = field(default_factory=dict)  # by_type's keys in words


def day_bounds(date_from: date | None, date_to: date | None) -> tuple[datetime | None, datetime | None]:
    """Calendar days in Beijing time as UTC instants [start, end): a day is what the office calls a day."""
    start = datetime.combine(date_from, time.min, LOCAL).astimezone(UTC) if date_from else None
    end = datetime.combine(date_to + timedelta(days=1), time.min, LOCAL).astimezone(UTC) if date_to else None
    return start, end


def _bounds(f: LogFilter) -> tuple[datetime | None, datetime | None]:
    return day_bounds(f.date_from, f.date_to)


def _user_id(session: Session, username: str) -> str | None:
    return session.execute(select(User.id).where(User.username == username)).scalar_one_or_none()


def _usernames(session: Session, ids: set[str | None]) -> dict[str, str]:
    known = {i for i in ids if i is not None}
    if not known:
        return {}
    return dict(session.execute(select(User.id, User.username).where(User.id.in_(known))).all())


def related_ids(session: Session, business_no: str) -> tuple[Case | None, set[str]]:
    """The case of ``business_no`` and the ids of everything audited about it: the case itself, its tasks,
    certificates and appointments (audit entries name those as their objects)."""
    case = session.execute(select(Case).where(Case.business_no == business_no)).scalar_one_or_none()
    if case is None:
        return None, {business_no}
    ids = {case.id, business_no}
    for model in (Task, Certificate, Appointment):
        ids.update(session.execute(select(model.id).where(model.case_id == case.id)).scalars())
    return case, ids


def _when_and_who(session: Session, q: Select[Any], f: LogFilter, at: Any, actor_id: Any) -> Select[Any]:
    """The filters every log shares: Beijing calendar days and the acting user."""
    start, end = _bounds(f)
    if start:
        q = q.where(at >= start)
    if end:
        q = q.where(at < end)
    if f.username:
        q = q.where(actor_id == _user_id(session, f.username))
    return q


def _audit_query(session: Session, actor: Actor, f: LogFilter) -> Select[Any]:
    q = _when_and_who(session, select(AuditEntry), f, AuditEntry.at, AuditEntry.actor_id)
    if f.business_no:
        q = q.where(AuditEntry.object_id.in_(related_ids(session, f.business_no)[1]))
    if f.type:
        q = q.where(or_(AuditEntry.action.startswith(f.type, autoescape=True),
                        AuditEntry.action.in_(labels.actions_named(f.type))))
    if actor.tenant_scope is not None:
        q = q.where(AuditEntry.tenant_id.in_(actor.tenant_scope))
    return q.order_by(AuditEntry.seq.desc())


def _access_query(session: Session, actor: Actor, f: LogFilter) -> Select[Any]:
    start, end = _bounds(f)
    named = sorted(labels.actions_named(f.type))
    return audit.access_entries(
        action=(named[0] if len(named) == 1 else f.type) or None, since=start, until=end,
        tenant_scope=actor.tenant_scope,
        object_ids=related_ids(session, f.business_no)[1] if f.business_no else None,
        actor_id=(_user_id(session, f.username) or "-") if f.username else None)  # unknown user: no rows


def _calls_query(session: Session, actor: Actor, f: LogFilter) -> Select[Any]:
    q = _when_and_who(session, select(InterfaceCallLog), f, InterfaceCallLog.at, InterfaceCallLog.actor_id)
    if f.business_no:
        case = related_ids(session, f.business_no)[0]
        q = q.where(or_(InterfaceCallLog.business_no == f.business_no,
                        InterfaceCallLog.case_id == (case.id if case else None)))
    if f.type:
        q = q.where(or_(InterfaceCallLog.interface_code == f.type, InterfaceCallLog.outcome == f.type,
                        InterfaceCallLog.operation.startswith(f.type, autoescape=True)))
    if actor.tenant_scope is not None:  # call lines carry no tenant: a district sees its cases' calls only
        q = q.where(InterfaceCallLog.case_id.in_(select(Case.id)))
    return q.order_by(InterfaceCallLog.at.desc(), InterfaceCallLog.id)


def _exceptions_query(session: Session, actor: Actor, f: LogFilter) -> Select[Any]:
    q = _when_and_who(session, select(ExceptionLog), f, ExceptionLog.at, ExceptionLog.actor_id)
    if f.business_no:
        q = q.where(ExceptionLog.business_no == f.business_no)
    if f.type:
        q = q.where(ExceptionLog.exc_type.contains(f.type, autoescape=True))
    if actor.tenant_scope is not None:
        q = q.where(ExceptionLog.tenant_id.in_(actor.tenant_scope))
    return q.order_by(ExceptionLog.at.desc(), ExceptionLog.id)


def _business_no_of(entry: AuditEntry) -> str:
    for side in (entry.after, entry.before):
        if isinstance(side, dict) and isinstance(side.get("business_no"), str):
            return side["business_no"]
    return ""


def _object_id(item: Any, names: dict[str, str]) -> str:
    """An object's id, or the name of a code (a business type, a role …): ids are opaque, codes are words."""
    return labels.value_label(item.object_id, names) if item.object_id else ""


def _row(kind: str, item: Any, users: dict[str, str], names: dict[str, str]) -> dict[str, Any]:
    """One row in words (app/supervision/log_labels.py): actions, object types and details by their Chinese
    names; ``action_code`` keeps the stored code, which the type filter takes."""
    user = users.get(item.actor_id, "") if item.actor_id else "系统"
    if kind == "audit":
        detail = {k: v for k, v in {"before": item.before, "after": item.after}.items() if v}
        return {"seq": item.seq, "at": item.at, "user": user, "tenant_id": item.tenant_id or "",
                "action": labels.action_label(item.action), "action_code": item.action,
                "object_type": labels.object_label(item.object_type), "object_id": _object_id(item, names),
                "business_no": _business_no_of(item), "detail": labels.describe(detail, names)}
    if kind == "access":
        return {"at": item.at, "user": user, "tenant_id": item.tenant_id or "",
                "action": labels.action_label(item.action), "action_code": item.action,
                "object_type": labels.object_label(item.object_type), "object_id": _object_id(item, names),
                "detail": labels.describe(item.after, names)}
    if kind == "calls":
        return {"at": item.at, "interface_code": names.get(item.interface_code, item.interface_code),
                "operation": labels.value_label(item.operation, names), "user": user,
                "business_no": item.business_no or "", "outcome": labels.value_label(item.outcome, names),
                "http_status": item.http_status, "attempts": item.attempts, "latency_ms": item.latency_ms,
                "error": item.error or "", "summary": labels.describe(item.request_summary, names)}
    top = item.frames[-1] if item.frames else {}
    return {"at": item.at, "exc_type": item.exc_type, "method": item.method or "", "path": item.path or "",
            "endpoint": item.endpoint or "", "user": user, "business_no": item.business_no or "",
            "where": f"{top.get('file', '')}:{top.get('line', '')} {top.get('function', '')}".strip(),
            "fingerprint": item.fingerprint[:12]}


QUERIES = {"audit": _audit_query, "calls": _calls_query, "exceptions": _exceptions_query, "access": _access_query}
TYPE_COLUMN = {"audit": "action", "calls": "outcome", "exceptions": "exc_type", "access": "action"}


def query_logs(session: Session, actor: Actor, f: LogFilter, *, export: bool = False) -> LogPage:
    """One page of ``f.kind``'s log (newest first); ``export`` returns every row (up to EXPORT_LIMIT)."""
    actor.require("log:read")
    if export:
        actor.require("log:export")
    q = QUERIES[f.kind](session, actor, f)
    total = session.execute(select(func.count()).select_from(q.order_by(None).subquery())).scalar_one()
    if export:
        items = session.execute(q.limit(EXPORT_LIMIT)).scalars().all()
        page, pages = 1, 1
        audit.record(session, actor_id=actor.user_id, action="log.export", object_type="log", object_id=f.kind,
                     tenant_id=actor.tenant_id, after={"filters": f.query_args(), "rows": len(items)})
    else:
        pages = max(1, -(-total // PAGE_SIZE))
        page = min(f.page, pages)
        items = session.execute(q.limit(PAGE_SIZE).offset((page - 1) * PAGE_SIZE)).scalars().all()
    users = _usernames(session, {i.actor_id for i in items})
    rows = q.order_by(None).subquery()
    col = rows.c[TYPE_COLUMN[f.kind]]
    by_type = [(str(k), int(n)) for k, n in session.execute(
        select(col, func.count()).group_by(col).order_by(func.count().desc(), col).limit(10))]
    names = labels.code_names(session)
    return LogPage(KINDS[f.kind], [_row(f.kind, i, users, names) for i in items], total, page, pages, f, by_type,
                   {k: type_label(f.kind, k, names) for k, _ in by_type})


def type_label(kind: str, key: str, names: dict[str, str]) -> str:
    """The Chinese word for a value of the type column (an action, a call's outcome; exception classes are
    the developers' and stay as they are)."""
    if kind in ("audit", "access"):
        return labels.action_label(key)
    return key if kind == "exceptions" else labels.value_label(key, names)


TRACE_COLUMNS = (("at", "时间"), ("source", "来源"), ("what", "事项"), ("user", "用户"), ("detail", "详情"))


def trace(session: Session, actor: Actor, business_no: str) -> list[dict[str, Any]]:
    """Everything that touched ``business_no``, oldest first: audit entries (case, tasks, certificates,
    appointments, its 登簿), progress events, register entries, interface calls, outbox messages and
    exceptions."""
    actor.require("log:read")
    business_no = business_no.strip()
    if not business_no:
        raise ValidationFailed("请输入业务号", errors={"business_no": ["必填"]})
    case, ids = related_ids(session, business_no)
    names = labels.code_names(session)
    items: list[tuple[datetime, str, str, str | None, Any]] = []
    for e in session.execute(select(AuditEntry).where(AuditEntry.object_id.in_(ids))).scalars():
        if actor.tenant_scope is None or e.tenant_id in actor.tenant_scope:
            items.append((e.at, "操作日志", labels.action_label(e.action), e.actor_id, {k: v for k, v in
                                                                {"before": e.before, "after": e.after}.items() if v}))
    for r in session.execute(audit.access_entries(object_ids=ids, tenant_scope=actor.tenant_scope)).scalars():
        items.append((r.at, "访问日志", labels.action_label(r.action), r.actor_id, r.after or {}))
    if case is not None:
        for ev in session.execute(select(CaseEvent).where(CaseEvent.case_id == case.id)).scalars():
            line = f"{ev.stage or ''} {message_of(ev, case.business_no)}".strip()
            items.append((ev.at, "办理进度", line, ev.actor_id, {"status": ev.status, "decision": ev.decision}))
        keys = or_(OutboxMessage.idempotency_key.contains(case.id, autoescape=True),
                   OutboxMessage.idempotency_key.contains(business_no, autoescape=True),
                   *[OutboxMessage.idempotency_key.contains(i, autoescape=True) for i in ids - {case.id, business_no}])
        for m in session.execute(select(OutboxMessage).where(keys)).scalars():
            items.append((m.created_at, "消息外发", f"{labels.value_label(m.topic, names)}"
                          f"（{labels.value_label(m.status, names)}，尝试 {m.attempts} 次）", None,
                          {"key": m.idempotency_key, "last_error": m.last_error}))
    entries = session.execute(select(RegisterEntry).where(RegisterEntry.business_no == business_no)).scalars().all()
    recorded = {(e.unit_id, e.seq) for e in entries}
    for entry in entries:
        items.append((entry.recorded_at, "登记簿", f"{entry_kind_name(entry.kind)} 第 {entry.seq} 条记载",
                      entry.recorded_by, {"unit_id": entry.unit_id}))
    if recorded:  # the 登簿 audit entries name the unit; keep those of this business number's entries
        for a in session.execute(select(AuditEntry).where(
                AuditEntry.action == "register.record", AuditEntry.object_id.in_({u for u, _ in recorded}))).scalars():
            if (a.object_id, (a.after or {}).get("entry_seq")) in recorded:
                items.append((a.at, "操作日志", labels.action_label(a.action), a.actor_id, {"after": a.after}))
    calls = InterfaceCallLog.business_no == business_no
    if case is not None:
        calls = or_(calls, InterfaceCallLog.case_id == case.id)
    # call lines carry no district: a district account sees them only through a case of its own (``case`` is
    # None when the business number is another district's: the session's tenant scope hides that case)
    if case is not None or actor.tenant_scope is None:
        for c in session.execute(select(InterfaceCallLog).where(calls)).scalars():
            what = (f"{names.get(c.interface_code, c.interface_code)} {labels.value_label(c.operation, names)}："
                    f"{labels.value_label(c.outcome, names)}")
            items.append((c.at, "接口调用", what, c.actor_id,
                          {"http_status": c.http_status, "latency_ms": c.latency_ms, "error": c.error}))
    raised = select(ExceptionLog).where(ExceptionLog.business_no == business_no)
    if actor.tenant_scope is not None:
        raised = raised.where(ExceptionLog.tenant_id.in_(actor.tenant_scope))
    for x in session.execute(raised).scalars():
        items.append((x.at, "异常", x.exc_type, x.actor_id, {"path": x.path, "fingerprint": x.fingerprint[:12]}))
    users = _usernames(session, {i[3] for i in items if i[3]})
    items.sort(key=lambda i: i[0])
    return [{"at": at, "source": source, "what": what, "user": users.get(uid, "") if uid else "系统",
             "detail": labels.describe({k: v for k, v in (detail or {}).items() if v is not None}, names)}
            for at, source, what, uid, detail in items]
