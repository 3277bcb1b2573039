"""Scheduled jobs (APScheduler): outbox delivery and the pruning of sent messages, rendering the certificates
缮证 numbered, workflow timers (完税 escalation), 税务 reconciliation and the re-run of department checks that
got no answer (cases 等待部门核验), signed checkpoints of the register and audit chains, the electronic
archives (build, export, fixity check) and the daily log purge (retention).

Several app processes (gunicorn workers, hosts: app/serving.py) may have the scheduler enabled; the one holding
the ``scheduler`` lease row in ``job_lease`` runs it (``SchedulerElection``), and another takes over when the
holder dies and its lease expires. Each run of a job also takes that job's own lease (an atomic conditional
UPDATE — the database is the coordination point, DESIGN.md §6), so even a holder that stalled past its lease
and resumed never runs a job at the same time as the new holder or a ``flask`` command. A job that calls
departments (outbox, tax_waits, verifications) or renders certificates or 申请书 takes one case, message or certificate
per transaction and makes the calls with no transaction open (app/integrations/answers.py); the others commit
once or not at all.
"""
from __future__ import annotations

import functools
import logging
import os
import socket
import threading
import uuid
from collections.abc import Callable
from datetime import timedelta
from typing import Any

from sqlalchemy import update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from app.db import Database, affected_rows, utcnow
from app.integrations.models import JobLease

log = logging.getLogger(__name__)
# Who holds a lease: host, process (and a scheduler's own suffix), within the 64 characters of ``job_lease.holder``
# (a container's host name may itself be 63).
HOLDER = f"{socket.gethostname()[:40]}:{os.getpid()}"


def acquire_lease(database: Database, name: str, ttl_s: int = 60, holder: str = HOLDER) -> bool:
    """Take (or renew) the lease of job ``name`` for ``ttl_s`` seconds; False when another holder has it."""
    now = utcnow()
    with database.unit_of_work() as session:
        taken = affected_rows(session.execute(update(JobLease).where(
            JobLease.name == name, (JobLease.holder == holder) | (JobLease.expires_at < now))
            .values(holder=holder, expires_at=now + timedelta(seconds=ttl_s))))
        if taken:
            return True
    try:
        with database.unit_of_work() as session:
            if session.get(JobLease, name) is not None:
                return False
            session.add(JobLease(name=name, holder=holder, expires_at=now + timedelta(seconds=ttl_s)))
        return True
    except IntegrityError:
        return False


def release_lease(database: Database, name: str, holder: str = HOLDER) -> None:
    with database.unit_of_work() as session:
        session.execute(update(JobLease).where(JobLease.name == name, JobLease.holder == holder)
                        .values(expires_at=utcnow()))


def run_job(database: Database, name: str, work: Callable[[Session], Any], ttl_s: int = 60,
            holder: str = HOLDER) -> Any:
    """Run ``work`` in one transaction if ``holder`` gets the job's lease; None when another holder has it."""
    if not acquire_lease(database, name, ttl_s, holder):
        return None
    try:
        with database.unit_of_work() as session:
            return work(session)
    finally:
        release_lease(database, name, holder)


def deliver_outbox(session: Session, max_attempts: int = 8, deliverers: int = 1,
                   budget_s: float | None = None) -> Any:
    """Drain the outbox (app/integrations/outbox.py): ``deliverers`` threads, each its own session on the job
    session's engine, until nothing is due or ``budget_s`` is spent; a key's messages in order."""
    from app.integrations.outbox import drain, session_factory_of

    return drain(session_factory_of(session), deliverers=deliverers, budget_s=budget_s, max_attempts=max_attempts)


def prune_outbox(session: Session, retention_days: int) -> int:
    """Delete sent outbox messages older than the retention, in batches (their pushes are in the call log)."""
    from app.integrations.outbox import prune_sent, session_factory_of

    return prune_sent(session_factory_of(session), retention_days)


def refresh_tax_waits(session: Session) -> int:
    """Fire due 完税 escalation timers and reconcile with 税务 (a lost callback is found by asking)."""
    from app.cases.sharing.reconcile import refresh_waiting_cases

    return refresh_waiting_cases(session)


def recheck_verifications(session: Session) -> Any:
    """Ask again the departments that could not answer a case's checks, where their breaker allows."""
    from app.cases.sharing.rechecks import recheck_pending

    return recheck_pending(session)


def prune_sign_in_records(session: Session) -> int:
    """Drop used or expired SMS codes and rate-limit events that no window counts any more."""
    from app.accounts.sms_login import prune_codes
    from app.security.rate_limit import prune

    return prune_codes(session) + prune(session)


def purge_old_logs(session: Session, days: int) -> Any:
    """Delete logs older than the retention period (at least a year; app.supervision.retention)."""
    from app.supervision.retention import purge_logs

    return purge_logs(session, days)


def sweep_orphan_files(session: Session, storage: Any, older_than_s: float = 3600) -> int:
    """Remove files a crashed step wrote but never committed (app.casefile.storage): a 制证 killed between
    signing and commit must not leave a second signed PDF of a number that the next run renders again."""
    from sqlalchemy import exists, or_, select

    from app.casefile.models import Material
    from app.registry.models import Certificate

    def referenced(key: str) -> bool:
        return bool(session.scalar(select(or_(exists().where(Material.storage_key == key),
                                               exists().where(Certificate.storage_key == key)))))

    return int(storage.sweep_pending(older_than_s=older_than_s, referenced=referenced))


def render_certificates(session: Session, app: Any) -> int:
    """制证: render, sign and store the certificates 缮证 numbered, one per transaction (a request asks for its
    own right after its response; this catches what that missed or what failed)."""
    from app.registry.certificate_rendering import render_pending

    config = app.extensions["certificates"]
    return render_pending(session, app.extensions["storage"], config.keys, config.font)


def make_application_forms(session: Session, app: Any) -> int:
    """The 申请书 of cases whose last party has signed, one per transaction (the request asks for its own right
    after its response; this catches what that missed or what failed)."""
    from app.cases.application_form import make_pending
    from app.registry.certificates import issuing_config

    return make_pending(session, app.extensions["storage"], issuing_config().font)


def send_rating_links(session: Session, app: Any) -> int:
    """好差评 by SMS: text a signed rating link for each service that ended (app/feedback/links.py), and tell
    each rater whose 差评's follow-up was answered (app/feedback/answer_notice.py)."""
    from app.feedback.answer_notice import send_answers_due
    from app.feedback.links import send_due

    settings = app.config["SETTINGS"]
    return send_due(session, secret=settings.secret_key, base_url=settings.public_base_url) + send_answers_due(session)


def make_checkpoint(session: Session) -> Any:
    """Sign, time-stamp and export the chain heads recorded since the last checkpoint (app/registry/checkpoints)."""
    from app.registry.checkpoints import make_checkpoint as make

    return make(session)


def export_to_intranet(session: Session, app: Any) -> Any:
    """单向光闸: a checkpoint of the 登簿s since the last one, then the next export package for the intranet in
    ``FERRY_EXPORT_DIR`` (app/ferry/export.py); nothing when the ferry is not configured or nothing was recorded."""
    from app.ferry.export import export_after_checkpoint

    return export_after_checkpoint(session, app)


def build_archives(session: Session, app: Any) -> int:
    """电子档案: the packages of ended cases, one per transaction (app/archives/building.py)."""
    from app.archives.building import build_pending
    from app.registry.certificates import issuing_config

    return build_pending(session, app.extensions["storage"], issuing_config().font)


def check_archive_fixity(session: Session, app: Any) -> Any:
    """Re-verify the stored archive packages not checked for 30 days (app/archives/fixity.py)."""
    from app.archives.fixity import check_due

    return check_due(session, app.extensions["storage"])


def export_archives(session: Session, app: Any) -> int:
    """Send the packages not yet exported to the archive system (app/archives/export.py)."""
    from app.archives.export import export_pending

    return export_pending(session, app.extensions["storage"], app.extensions.get("archive_export_dir"))


def init_app(app: Any) -> None:
    """The job runner the ``flask`` commands run a job once with, under its lease
    (``app.extensions["run_job"](name, work)``), and, when ``SCHEDULER_ENABLED``, this process's candidacy
    to run the scheduler (``stop_scheduler`` ends it)."""
    database: Database = app.extensions["db"]
    settings = app.config["SETTINGS"]
    app.extensions["run_job"] = lambda name, work: run_job(database, name, work)
    if settings.scheduler_enabled:
        app.extensions["scheduler_election"] = SchedulerElection(app, settings.scheduler_lease_seconds).start()


def stop_scheduler(app: Any) -> None:
    """This process is shutting down (gunicorn's ``worker_exit``): let a running job finish, start none, and
    release the scheduler lease so another process takes over at once rather than after it expires."""
    election: SchedulerElection | None = app.extensions.get("scheduler_election")
    if election is not None:
        election.stop()


SCHEDULER_LEASE = "scheduler"  # the lease row whose holder runs the scheduler (beside one row per job)


class SchedulerElection:
    """Runs this app's scheduler only while it holds the ``scheduler`` lease, so that of several processes
    with the scheduler enabled exactly one runs the jobs. A daemon thread takes or renews the lease every third
    of its time (``SCHEDULER_LEASE_SECONDS``); a holder that could not renew stops its scheduler, and when a
    holder dies without releasing the lease another process takes it once it has expired."""

    def __init__(self, app: Any, ttl_s: int, intervals: dict[str, float] | None = None) -> None:
        self.app, self.ttl_s, self.intervals = app, ttl_s, intervals
        self.database: Database = app.extensions["db"]
        self.holder = f"{HOLDER}:{uuid.uuid4().hex[:8]}"
        self.scheduler: Any = None
        self._lock = threading.Lock()
        self._stopping = threading.Event()
        self._thread = threading.Thread(target=self._run, name="scheduler-election", daemon=True)

    def start(self) -> SchedulerElection:
        self._thread.start()
        return self

    def _run(self) -> None:
        while not self._stopping.is_set():
            self.turn()
            self._stopping.wait(self.ttl_s / 3)

    def turn(self) -> None:
        """Take or renew the lease, then start or stop the scheduler to match."""
        try:
            held = acquire_lease(self.database, SCHEDULER_LEASE, self.ttl_s, self.holder)
        except Exception:  # the database is unreachable: whoever can renew leads, this process must not
            log.exception("the scheduler lease could not be taken or renewed")
            held = False
        with self._lock:
            if held and self.scheduler is None and not self._stopping.is_set():
                log.info("scheduler lease taken by %s: this process runs the scheduled jobs", self.holder)
                self.scheduler = start_scheduler(self.app, self.intervals)
            elif not held and self.scheduler is not None:
                log.warning("scheduler lease lost by %s: this process stops running the jobs", self.holder)
                self.scheduler.shutdown(wait=False)
                self.scheduler = None
                stop_renderer(self.app)

    def stop(self) -> None:
        """No new run starts, a run in progress finishes, the lease is released."""
        self._stopping.set()
        if self._thread.is_alive():
            self._thread.join(timeout=self.ttl_s)
        with self._lock:
            if self.scheduler is not None:
                self.scheduler.shutdown(wait=True)
                self.scheduler = None
                stop_renderer(self.app)
        try:  # a no-op when another process holds it
            release_lease(self.database, SCHEDULER_LEASE, self.holder)
        except Exception:  # it expires by itself
            log.exception("the scheduler lease could not be released")


INTERVALS_S = {"outbox": 10, "outbox_prune": 600, "certificates": 10, "application_forms": 10, "tax_waits": 60,
               "verifications": 60, "sign_in_prune": 3600, "file_sweep": 3600, "checkpoint": 30, "archives": 60,
               "archive_export": 300, "archive_fixity": 3600, "rating_links": 300,
               "ferry_export": 10}

# The jobs that render or sign: with RENDERER_PROCESS on, the renderer process runs them (app/renderer.py), so no
# web worker, the lease holder included, loads the PDF and signature stack. A new job that makes a PDF, signs or
# checks a signature belongs here.
IN_RENDERER = ("certificates", "application_forms", "checkpoint", "archives", "archive_fixity", "ferry_export")

# With DOCUMENTS_AFTER_RESPONSE off the web workers leave every certificate and 申请书 to these jobs: they look
# often (one indexed query each), so a document is made within about 2 s of its request.
DOCUMENTS_ONLY_BY_JOBS_S = {"certificates": 2, "application_forms": 2}


def _document_jobs_in_renderer(app: Any) -> dict[str, Callable[[Session], Any]]:
    """With ``RENDERER_PROCESS`` on, the jobs that render or sign (certificates, 申请书, checkpoint: pyHanko time
    stamps) as requests to the renderer process (app/renderer.py), started on the first of them; otherwise none
    (they run here)."""
    if not app.config["SETTINGS"].renderer_process:
        return {}
    from app.config import ROOT
    from app.renderer_process import RendererProcess, child_environment

    renderer = app.extensions["renderer"] = RendererProcess(child_environment(app.config["SETTINGS"]), cwd=ROOT)
    return {name: functools.partial(_in_renderer, renderer, name) for name in IN_RENDERER}


def _in_renderer(renderer: Any, name: str, _session: Session) -> Any:
    return renderer.run(name)


def stop_renderer(app: Any) -> None:
    """The scheduler stopped: end its renderer process, if it started one."""
    renderer = app.extensions.pop("renderer", None)
    if renderer is not None:
        renderer.stop()


def start_scheduler(app: Any, intervals: dict[str, float] | None = None) -> Any:
    """Start the background scheduler of this app (``SCHEDULER_ENABLED=1``; ``make run`` sets it). Each
    scheduler is its own lease holder, so two apps in one process coordinate like two processes do."""
    from apscheduler.schedulers.background import BackgroundScheduler

    database: Database = app.extensions["db"]
    settings = app.config["SETTINGS"]
    scheduler = BackgroundScheduler(timezone="UTC")
    holder = f"{HOLDER}:{uuid.uuid4().hex[:8]}"
    every = {**INTERVALS_S, **({} if settings.documents_after_response else DOCUMENTS_ONLY_BY_JOBS_S),
             **(intervals or {})}

    # A drain runs up to its budget: its lease outlasts it, so no other holder starts the job meanwhile.
    ttl = {"outbox": max(60, 2 * settings.outbox_budget_seconds + 30)}

    def guarded(name: str, work: Callable[[Session], Any]) -> Callable[[], None]:
        def job() -> None:
            try:
                with app.app_context():
                    run_job(database, name, work, ttl_s=ttl.get(name, 60), holder=holder)
            except Exception:  # a failed run is retried at the next tick; never kill the scheduler
                log.exception("job %s failed", name)
        return job

    for name, work in scheduled_jobs(app).items():
        scheduler.add_job(guarded(name, work), "interval", seconds=every[name], id=name, max_instances=1,
                          coalesce=True)
    scheduler.add_job(guarded("log_purge", lambda s: purge_old_logs(s, settings.log_retention_days)),
                      "cron", hour=3, minute=17, id="log_purge", max_instances=1, coalesce=True)
    scheduler.start()
    app.extensions["scheduler_holder"] = holder
    app.extensions["scheduler"] = scheduler
    return scheduler


def scheduled_jobs(app: Any) -> dict[str, Callable[[Session], Any]]:
    """The interval jobs by name, each run with the session ``run_job`` opens (with ``RENDERER_PROCESS``, the ones
    that render or sign are requests to the renderer process, which ``stop_renderer`` ends)."""
    settings = app.config["SETTINGS"]
    return {
        "outbox": lambda s: deliver_outbox(s, settings.outbox_max_attempts, settings.outbox_deliverers,
                                           settings.outbox_budget_seconds),
        "outbox_prune": lambda s: prune_outbox(s, settings.outbox_retention_days),
        "certificates": lambda s: render_certificates(s, app),
        "application_forms": lambda s: make_application_forms(s, app),
        "tax_waits": lambda s: refresh_tax_waits(s),
        "verifications": lambda s: recheck_verifications(s),
        "sign_in_prune": prune_sign_in_records,
        "file_sweep": lambda s: sweep_orphan_files(s, app.extensions["storage"]),
        "checkpoint": make_checkpoint,
        "archives": lambda s: build_archives(s, app),
        "archive_export": lambda s: export_archives(s, app),
        "archive_fixity": lambda s: check_archive_fixity(s, app),
        "rating_links": lambda s: send_rating_links(s, app),
        "ferry_export": lambda s: export_to_intranet(s, app),
        **_document_jobs_in_renderer(app),  # last: these replace the ones above
    }
