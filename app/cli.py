"""``flask --app wsgi …`` commands. Each runs in one unit of work: all or nothing."""
from __future__ import annotations

import sys
from pathlib import Path

import click
from flask import Flask, current_app
from flask.cli import AppGroup
from sqlalchemy.exc import SQLAlchemyError

from app.db import Database


def _db() -> Database:
    return current_app.extensions["db"]


def register_cli(app: Flask) -> None:
    @app.cli.command("setup")
    @click.option("--demo", is_flag=True, help="同时写入演示数据（辖区、账号、登记簿）")
    def setup_command(demo: bool) -> None:
        """Migrate to head, load dictionaries and definitions; --demo seeds demo data. Idempotent."""
        from app.catalog.service import sync_definitions
        from app.identity.seed import load_roles
        from app.migrate import upgrade_to_head

        settings = current_app.config["SETTINGS"]
        upgrade_to_head(settings.migrate_database_url or settings.database_url)
        from app.db_roles import app_role_of, grant_app_role

        role = app_role_of(settings.database_url)
        if settings.migrate_database_url and role and role != app_role_of(settings.migrate_database_url):
            grant_app_role(settings.migrate_database_url, role)  # PostgreSQL: the app's role owns no table
            click.echo(f"granted the application role {role} its table privileges")
        with _db().unit_of_work() as session:
            load_roles(session)
            for line in sync_definitions(session, settings.definitions_root):
                click.echo(line)
        from app.integrations.interfaces import ensure_interfaces

        with _db().unit_of_work() as session:
            ensure_interfaces(session, settings)

        from app.catalog.dictionaries import seed_dictionaries

        with _db().unit_of_work() as session:
            added = seed_dictionaries(session, settings.definitions_root)
            if added:
                click.echo("dictionaries: " + ", ".join(f"{k} +{n}" for k, n in added.items()))
        if demo:
            from app.demo import seed_demo

            with _db().unit_of_work() as session:
                click.echo(seed_demo(session))
        from app.registry.signing import configured_paths, ensure_dev_keys

        if ensure_dev_keys(configured_paths()):  # production: the configured key files must exist
            click.echo(f"development certificate signing keys created in {configured_paths().key.parent}")
        click.echo("setup done")

    users = AppGroup("users", help="账号管理")

    @users.command("create")
    @click.argument("username")
    @click.option("--password", required=True)
    @click.option("--role", "roles", multiple=True, required=True, help="角色代码，可重复")
    @click.option("--tenant", default=None, help="辖区代码，如 330106")
    @click.option("--real-name", default=None)
    @click.option("--id-number", default=None)
    @click.option("--phone", default=None)
    def create_user_command(username: str, password: str, roles: tuple[str, ...], tenant: str | None,
                            real_name: str | None, id_number: str | None, phone: str | None) -> None:
        """Create an account."""
        from app.errors import DomainError
        from app.identity.service import create_user

        try:
            with _db().unit_of_work() as session:
                user = create_user(session, username=username, password=password, roles=list(roles),
                                   tenant_id=tenant, real_name=real_name, id_number=id_number, phone=phone)
                click.echo(f"created {user.username} ({user.id})")
        except DomainError as exc:
            for field, messages in (exc.errors or {"_": [exc.message]}).items():
                click.echo(f"{field}: {'；'.join(messages)}", err=True)
            sys.exit(1)

    @users.command("sync")
    @click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
    @click.option("--full", is_flag=True, help="全量同步：停用目录中已不存在的同步账户")
    def sync_command(file: Path, full: bool) -> None:
        """Sync accounts from the government platform's directory (.jsonl or .csv); idempotent; all or nothing."""
        from app.identity.actor import Actor
        from app.identity.sync import read_directory, sync_users

        cli_actor = Actor(user_id=None, username="cli", kind="system", permissions=frozenset({"user:sync"}),
                          city_level=True)
        records, problems = read_directory(file)
        with _db().unit_of_work() as session:
            report = sync_users(session, cli_actor, records, full=full, problems=problems)
            if not report.ok:
                session.rollback()
        for problem in report.problems:
            click.echo(f"错误：{problem}", err=True)
        if not report.ok:
            click.echo(f"同步失败：{len(report.problems)} 处错误，未写入任何数据", err=True)
            sys.exit(1)
        click.echo("同步完成：" + report.summary())

    app.cli.add_command(users)

    defs = AppGroup("defs", help="业务定义（流程、表单、材料清单）")

    @defs.command("check")
    @click.argument("path", required=False, type=click.Path(exists=True, path_type=Path))
    def check_command(path: Path | None) -> None:
        """Validate definitions without loading them; exit 1 with file/element/line on error."""
        from app.catalog.definitions import check_definitions
        from app.identity.roles import role_names

        root = current_app.config["SETTINGS"].definitions_root
        try:  # roles operators created count as lane roles; a database not set up yet has none
            with current_app.extensions["db"].unit_of_work() as session:
                lane_roles = role_names(session)
        except SQLAlchemyError:
            lane_roles = {}
        problems = check_definitions(root, only=path.resolve() if path else None, roles=lane_roles)
        for problem in problems:
            click.echo(f"错误：{problem.message}", err=True)
        if problems:
            sys.exit(1)
        click.echo("定义检查通过")

    @defs.command("load")
    def load_command() -> None:
        """Load definitions into the database (changed files become new versions)."""
        from app.catalog.service import sync_definitions

        with _db().unit_of_work() as session:
            for line in sync_definitions(session, current_app.config["SETTINGS"].definitions_root):
                click.echo(line)

    @defs.command("export")
    @click.argument("codes", nargs=-1)
    def export_command(codes: tuple[str, ...]) -> None:
        """Write the current versions (all types, or CODES) back to processes/ and forms/ for git."""
        from app.catalog.config import export_type
        from app.catalog.service import list_business_types
        from app.identity.actor import Actor

        cli_actor = Actor(user_id=None, username="cli", kind="system", permissions=frozenset({"defs:manage"}),
                          city_level=True)
        root = current_app.config["SETTINGS"].definitions_root
        with _db().unit_of_work() as session:
            for code in codes or [bt.code for bt, _ in list_business_types(session)]:
                written = export_type(session, cli_actor, root, code)
                click.echo(f"{code}: {'、'.join(written) if written else '文件已是当前版本'}")

    app.cli.add_command(defs)

    registry = AppGroup("registry", help="不动产登记簿")

    @registry.command("verify")
    @click.option("--log", "log_dir", type=click.Path(file_okay=False, path_type=Path), default=None,
                  help="检查点日志目录（默认 CHECKPOINT_DIR；可用省级平台保存的副本）")
    def verify_command(log_dir: Path | None) -> None:
        """Recompute every unit's chain, compare it with the latest signed checkpoint and replay the entries
        against the current rights; exit 1 listing each break (unit, seq, reason)."""
        from app.registry.checkpoint_log import CheckpointLog
        from app.registry.checkpoints import checkpoint_log
        from app.registry.verify import verify_register_report

        latest = (CheckpointLog(log_dir) if log_dir else checkpoint_log()).latest()
        with _db().unit_of_work() as session:
            report = verify_register_report(session, latest)
        for brk in report.breaks:
            click.echo(f"错误：单元 {brk.unit_code} 第 {brk.seq} 条记载：{brk.reason}", err=True)
        if report.breaks:
            sys.exit(1)
        click.echo(f"登记簿校验通过：{report.units} 个单元，{report.entries} 条记载")
        if latest is None:
            click.echo("警告：尚无签署的检查点，无法发现整链重算、删除或截断", err=True)
        else:
            anchored = latest.body["register"]["entries"]
            click.echo(f"对照检查点 #{latest.seq}（{latest.body['at']}）：{anchored} 条已锚定，"
                       f"{report.unanchored} 条待下一检查点")

    from app.jobs import make_checkpoint, run_job
    from app.registry.log_cli import add_log_commands

    add_log_commands(registry, _db, lambda database: run_job(database, "checkpoint", make_checkpoint))

    @registry.command("import")
    @click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
    @click.option("--dry-run", is_flag=True, help="只校验并报告，不写入")
    @click.option("--format", "fmt", type=click.Choice(["jsonl", "csv"]), default=None,
                  help="文件格式（默认按扩展名 .jsonl / .csv）")
    def import_command(file: Path, dry_run: bool, fmt: str | None) -> None:
        """Import existing register data (JSON Lines or CSV); all or nothing; exit 1 listing every bad line."""
        from app.registry.importer import import_file

        with _db().unit_of_work() as session:
            report = import_file(session, file, fmt=fmt, dry_run=dry_run)
            if dry_run or not report.ok:
                session.rollback()
        for problem in report.problems:
            click.echo(f"错误：{problem}", err=True)
        if not report.ok:
            click.echo(f"导入失败：{len(report.problems)} 处错误，未写入任何数据", err=True)
            sys.exit(1)
        click.echo(("（试运行，未写入）" if dry_run else "导入完成：") + report.summary())

    @registry.command("expire")
    @click.option("--today", default=None, help="按该日期判断（YYYY-MM-DD，默认今天）")
    def expire_command(today: str | None) -> None:
        """End attachments past their period and objections without a lawsuit within 15 days (细则 83, 92)."""
        from datetime import date

        from app.registry.expiry import expire_rights

        with _db().unit_of_work() as session:
            report = expire_rights(session, date.fromisoformat(today) if today else None)
        for item in report.lapsed:
            click.echo(f"已失效：{item['unit_code']} {item['kind']}（业务号 {item['business_no']}）")
        click.echo(f"完成：{len(report.lapsed)} 项权利失效")

    @registry.command("void-certificate")
    @click.argument("number")
    @click.option("--reason", required=True, help="作废原因，如：打印错误")
    @click.option("--reissue", is_flag=True, help="依登记簿补发新证（新号）")
    @click.option("--by", "username", required=True, help="办理人用户名（须有 certificate:void 权限）")
    def void_command(number: str, reason: str, reissue: bool, username: str) -> None:
        """Void a certificate number (废号 kept with its reason); optionally reissue from the book."""
        from flask import current_app
        from sqlalchemy import select

        from app.errors import DomainError
        from app.identity.actor import actor_for
        from app.identity.models import User
        from app.registry.certificates import void_certificate
        from app.registry.models import Certificate

        with _db().unit_of_work() as session:
            user = session.execute(select(User).where(User.username == username)).scalar_one_or_none()
            cert = session.execute(select(Certificate).where(Certificate.number == number.strip())
                                   .execution_options(all_tenants=True)).scalar_one_or_none()
            if user is None or cert is None:
                click.echo("错误：" + ("用户不存在" if user is None else f"证书号 {number} 不存在"), err=True)
                sys.exit(1)
            try:
                voided, replacement = void_certificate(session, current_app.extensions["storage"],
                                                       actor_for(session, user), cert.id, reason=reason,
                                                       reissue=reissue)
            except DomainError as exc:
                session.rollback()
                click.echo(f"错误：{exc.message}", err=True)
                sys.exit(1)
            click.echo(f"已作废：{voided.number}" + (f"；补发：{replacement.number}" if replacement else ""))

    app.cli.add_command(registry)

    outbox = AppGroup("outbox", help="消息外发（事务性发件箱）")
    DELIVERY_LABELS = {"pending": "待送达", "sent": "已送达", "dead": "死信"}

    @outbox.command("deliver")
    def deliver_command() -> None:
        """One delivery pass over due messages (what the scheduler job runs), under the job lease."""
        from app.jobs import deliver_outbox, run_job

        settings = current_app.config["SETTINGS"]
        report = run_job(_db(), "outbox", lambda s: deliver_outbox(s, settings.outbox_max_attempts))
        click.echo("另一进程正在投递，本次跳过" if report is None else str(report))

    @outbox.command("list")
    @click.option("--status", type=click.Choice(["pending", "sent", "dead"]), default="dead")
    def list_command(status: str) -> None:
        """Messages by status (default: dead letters, for operators), each with its receivers' state."""
        from app.integrations.outbox import listing

        with _db().unit_of_work() as session:
            rows = listing(session, status=status)
            for m in rows:
                click.echo(f"{m['id']}  {m['topic']}  {m['idempotency_key']}  尝试 {m['attempts']} 次  "
                           f"{m['last_error'] or ''}")
                for d in m["deliveries"]:
                    click.echo(f"    → {d['interface']}  {DELIVERY_LABELS.get(d['status'], d['status'])}  "
                               f"尝试 {d['attempts']} 次  {d['last_error'] or ''}")
        click.echo(f"共 {len(rows)} 条（{status}）")

    @outbox.command("retry")
    @click.argument("message_id")
    def retry_command(message_id: str) -> None:
        """Put a dead message back in the queue for its dead receivers (after the subscriber is fixed)."""
        from app.integrations.models import OutboxMessage
        from app.integrations.outbox import retry_dead
        from app.security import audit

        with _db().unit_of_work() as session:
            message = session.get(OutboxMessage, message_id)
            if message is None:
                click.echo("没有该消息", err=True)
                sys.exit(1)
            before = {"status": message.status, "attempts": message.attempts}
            receivers = retry_dead(session, message)
            audit.record(session, actor_id=None, action="outbox.retry", object_type="outbox_message",
                         object_id=message.id, before=before, after={"status": "pending", "receivers": receivers})
        click.echo("已重新排队" + (f"（{'、'.join(receivers)}）" if receivers else ""))

    app.cli.add_command(outbox)

    logs = AppGroup("logs", help="日志：保留期清理、审计链校验")

    @logs.command("purge")
    @click.option("--days", type=int, default=None, help="保留天数（默认 LOG_RETENTION_DAYS，不得少于 365）")
    def purge_command(days: int | None) -> None:
        """Delete logs older than the retention period (what the daily job runs), under the job lease."""
        from app.errors import ValidationFailed
        from app.jobs import purge_old_logs, run_job

        keep = days if days is not None else current_app.config["SETTINGS"].log_retention_days
        try:
            report = run_job(_db(), "log_purge", lambda s: purge_old_logs(s, keep))
        except ValidationFailed as exc:
            click.echo(f"错误：{exc.message}", err=True)
            sys.exit(1)
        click.echo("另一进程正在清理，本次跳过" if report is None else str(report))

    @logs.command("verify-audit")
    def verify_audit_command() -> None:
        """Recompute the audit log's hash chain from its anchor and compare it with the latest signed
        checkpoint; exit 1 listing each break."""
        from app.registry.checkpoints import checkpoint_log
        from app.registry.verify import audit_status

        with _db().unit_of_work() as session:
            status = audit_status(session, checkpoint_log().latest())
        for brk in status["breaks"]:
            click.echo(f"错误：第 {brk.seq} 条：{brk.reason}", err=True)
        if not status["ok"]:
            sys.exit(1)
        click.echo(f"审计链校验通过：{status['entries']} 条（锚点 #{status['anchor_seq']}，"
                   f"最新 #{status['head_seq']}）")

    app.cli.add_command(logs)

    @app.cli.command("tax-waits")
    def tax_waits_command() -> None:
        """Fire due 完税 escalation timers and reconcile unpaid tax cases with 税务 (the scheduler job)."""
        from app.jobs import refresh_tax_waits, run_job

        moved = run_job(_db(), "tax_waits", refresh_tax_waits)
        click.echo("另一进程正在处理，本次跳过" if moved is None else f"{moved} 件业务有进展")

    verifications = AppGroup("verifications", help="部门核验（部门暂不可用时待重新核验的业务）")

    @verifications.command("recheck")
    def recheck_command() -> None:
        """Re-run the checks departments could not answer, where their breaker allows (the scheduler job)."""
        from app.jobs import recheck_verifications, run_job

        report = run_job(_db(), "verifications", recheck_verifications)
        click.echo("另一进程正在处理，本次跳过" if report is None else str(report))

    @verifications.command("pending")
    def pending_command() -> None:
        """Checks still waiting for their department, per case."""
        from sqlalchemy import select

        from app.integrations.verification_models import VerificationSnapshot

        with _db().unit_of_work() as session:
            rows = session.execute(select(VerificationSnapshot).where(VerificationSnapshot.retry_state == "pending")
                                   .order_by(VerificationSnapshot.checked_at)
                                   .execution_options(all_tenants=True)).scalars().all()
            for s in rows:
                click.echo(f"{s.business_no}  {s.department}  {s.operation}  {s.subject_label or ''}  "
                           f"自 {s.checked_at:%Y-%m-%d %H:%M}")
        click.echo(f"共 {len(rows)} 项待部门恢复后核验")

    app.cli.add_command(verifications)
