"""``flask archives …``: build the packages of ended cases, re-verify stored ones (fixity), export them, and
verify a package file OFFLINE (``verify``: no database, no network — the package and the public key)."""
from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import click
from flask import current_app
from flask.cli import AppGroup

archives = AppGroup("archives", help="电子档案")


def _run(name: str, work: Any) -> Any:
    return current_app.extensions["run_job"](name, work)


@archives.command("build")
def build_command() -> None:
    """Build the archive packages of ended cases (what the ``archives`` job does)."""
    from app.archives.building import build_pending
    from app.registry.certificates import issuing_config

    built = _run("archives", lambda s: build_pending(s, current_app.extensions["storage"], issuing_config().font))
    click.echo(f"已生成 {built or 0} 个档案封装包")


@archives.command("fixity")
@click.option("--all", "every", is_flag=True, help="复核全部封装包（默认只复核 30 天内未复核的）")
def fixity_command(every: bool) -> None:
    """Re-verify stored packages; exit 1 when any changed."""
    from app.archives.fixity import check_due

    run = _run("archive_fixity", lambda s: check_due(s, current_app.extensions["storage"],
                                                     every_days=0 if every else 30, limit=10_000 if every else 200))
    click.echo(str(run) if run is not None else "另一进程正在复核")
    if run is not None and run.failed:
        sys.exit(1)


@archives.command("export")
def export_command() -> None:
    """Send the packages not yet exported to the archive system (HTTP interface and ``ARCHIVE_EXPORT_DIR``)."""
    from app.archives.export import export_pending

    sent = _run("archive_export", lambda s: export_pending(s, current_app.extensions["storage"],
                                                           current_app.extensions.get("archive_export_dir")))
    click.echo(f"档案接收系统已确认 {sent or 0} 个封装包")


@archives.command("verify")
@click.argument("package", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--cert", "cert_path", type=click.Path(exists=True, dir_okay=False, path_type=Path), default=None,
              help="登记机构签章证书或公钥（PEM）；默认本实例的签章证书")
@click.option("--tsa-root", type=click.Path(exists=True, dir_okay=False, path_type=Path), default=None,
              help="时间戳机构根证书（PEM），给出时同时校验时间戳机构的证书链")
def verify_command(package: Path, cert_path: Path | None, tsa_root: Path | None) -> None:
    """Check a package file offline: the signature, the time stamp and every document's SHA-256; exit 1 with
    the problems."""
    from app.archives.verify import verify_package

    if cert_path is None:
        from app.registry.signing import configured_paths

        cert_path = configured_paths().cert
    check = verify_package(package.read_bytes(), cert_path.read_bytes(),
                           tsa_root.read_bytes() if tsa_root else None)
    for note in check.notes:
        click.echo(f"说明：{note}")
    for problem in check.problems:
        click.echo(f"错误：{problem}", err=True)
    if not check.ok:
        sys.exit(1)
    click.echo(f"封装包 {check.archive_no} 校验通过：签名有效，时间戳有效，{check.documents} 个文档的SHA-256均一致")
