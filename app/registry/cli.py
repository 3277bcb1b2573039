"""``flask registry …``: the register book's commands (verify, import, expire, void-certificate,
render-certificates; the checkpoint and log-export commands are in log_cli.py). Each runs in one unit of work:
all or nothing (render-certificates: one per certificate)."""
from __future__ import annotations

import sys
from pathlib import Path

import click
from flask import current_app
from flask.cli import AppGroup

from app.db import Database
from app.registry.log_cli import add_log_commands


def _db() -> Database:
    return current_app.extensions["db"]


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


def _run_checkpoint_job(_database: Database) -> object:
    """What the checkpoint job runs, under the job's lease (the runner is the scheduler's, app/jobs.py)."""
    from app.registry.checkpoints import make_checkpoint

    return current_app.extensions["run_job"]("checkpoint", make_checkpoint)


add_log_commands(registry, _db, _run_checkpoint_job)


@registry.command("render-certificates")
def render_certificates_command() -> None:
    """制证 now: render, sign and store every certificate 缮证 numbered that has no PDF yet (the ``certificates``
    job, under its lease), one per transaction."""
    from app.registry.certificate_rendering import render_pending

    config, storage = current_app.extensions["certificates"], current_app.extensions["storage"]
    rendered = current_app.extensions["run_job"]("certificates",
                                                 lambda s: render_pending(s, storage, config.keys, config.font))
    if rendered is None:
        click.echo("另一进程正在制证，请稍后再试", err=True)
        sys.exit(1)
    click.echo(f"已制证 {rendered} 份")


@registry.command("import")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--dry-run", is_flag=True, help="只校验并报告，不写入")
@click.option("--format", "fmt", type=click.Choice(["jsonl", "csv"]), default=None,
              help="文件格式（默认按扩展名 .jsonl / .csv）")
def import_command(file: Path, dry_run: bool, fmt: str | None) -> None:
    """Import existing register data (JSON Lines or CSV); all or nothing; exit 1 listing every bad line."""
    from app.import_files import echo_report
    from app.registry.importer import import_file

    with _db().unit_of_work() as session:
        report = import_file(session, file, fmt=fmt, dry_run=dry_run)
        if dry_run or not report.ok:
            session.rollback()
    echo_report(report, failed="导入失败", done="（试运行，未写入）" if dry_run else "导入完成：")


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
