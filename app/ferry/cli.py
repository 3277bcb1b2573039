"""``flask ferry …``: the one-way export to the intranet and the offline return (docs/ferry.md).

Extranet: ``export`` (what the ``ferry_export`` job runs: checkpoint, then the next package), ``return-import``.
Intranet (its own database and deployment): ``import``, ``verify``, ``review``, ``return-export``.
"""
from __future__ import annotations

import sys
from pathlib import Path
from typing import NoReturn

import click
from flask import current_app
from flask.cli import AppGroup

from app.errors import DomainError

ferry = AppGroup("ferry", help="内外网摆渡：单向导出、内网导入与校验、光盘回传")


def _fail(message: str) -> NoReturn:
    click.echo(f"错误：{message}", err=True)
    sys.exit(1)


def _extranet_key(given: Path | None) -> bytes:
    path = given or current_app.config["SETTINGS"].ferry_extranet_cert_file
    if path is None or not Path(path).exists():
        _fail("未配置外网登记机构的证书或公钥（FERRY_EXTRANET_CERT_FILE 或 --public-key）")
    return Path(path).read_bytes()


@ferry.command("export")
def export_command() -> None:
    """Extranet: sign a checkpoint of the new 登簿s and write the next package into FERRY_EXPORT_DIR (the job)."""
    if current_app.config["SETTINGS"].ferry_export_dir is None:
        _fail("未配置导出目录（FERRY_EXPORT_DIR）")
    from app.ferry.export import export_after_checkpoint

    app = current_app._get_current_object()  # type: ignore[attr-defined]
    try:
        result = app.extensions["run_job"]("ferry_export", lambda s: export_after_checkpoint(s, app))
    except DomainError as exc:
        _fail(exc.message)
    click.echo("无新的登簿记载，未写出摆渡包" if result is None else str(result))


@ferry.command("import")
@click.argument("source", type=click.Path(exists=True, path_type=Path))
@click.option("--public-key", type=click.Path(exists=True, dir_okay=False, path_type=Path), default=None,
              help="外网登记机构签名证书或公钥（PEM）；默认 FERRY_EXTRANET_CERT_FILE")
def import_command(source: Path, public_key: Path | None) -> None:
    """Intranet: import the packages of a directory (or one package file) strictly in sequence."""
    from app.ferry.intranet import PackageRefused, import_directory, import_file

    pem = _extranet_key(public_key)
    new_session = current_app.extensions["db"].session_factory
    if source.is_dir():
        report = import_directory(new_session, source, pem)
        for seq in report.imported:
            click.echo(f"已导入摆渡包 #{seq}")
        if report.refused is not None:
            _fail(f"{report.refused_file} 被拒绝（{report.refused.code}）：{report.refused.message}")
        if not report.imported:
            click.echo("没有新的摆渡包")
        return
    try:
        imported = import_file(new_session, source, pem)
    except PackageRefused as exc:
        _fail(f"{source.name} 被拒绝（{exc.code}）：{exc.message}")
    click.echo(f"已导入摆渡包 #{imported}")


@ferry.command("verify")
@click.option("--public-key", type=click.Path(exists=True, dir_okay=False, path_type=Path), default=None,
              help="外网登记机构签名证书或公钥（PEM）；默认 FERRY_EXTRANET_CERT_FILE")
def verify_command(public_key: Path | None) -> None:
    """Intranet: prove the copy matches the latest imported checkpoint, with the public key alone."""
    from app.ferry.intranet import copy_summary, verify_copy

    pem = _extranet_key(public_key)
    with current_app.extensions["db"].unit_of_work() as session:
        check = verify_copy(session, pem)
        summary = copy_summary(session)
    for problem in check.problems:
        click.echo(f"错误：{problem}", err=True)
    if not check.ok:
        sys.exit(1)
    click.echo(f"内网副本与检查点 #{check.checkpoint_seq} 一致：{check.units} 个单元，{check.entries} 条记载，"
               f"{summary['rights']} 项现势权利（已导入 {summary['packages']} 个摆渡包）")


@ferry.command("review")
@click.argument("business_no")
@click.option("--unit", "unit_code", default=None, help="不动产单元号")
@click.option("--result", type=click.Choice(["通过", "不通过"]), required=True)
@click.option("--remarks", default="", help="审核意见")
@click.option("--reviewer", required=True, help="审核人")
def review_command(business_no: str, unit_code: str | None, result: str, remarks: str, reviewer: str) -> None:
    """Intranet: record a spatial-review result for the next return file."""
    from app.ferry.returns import record_review

    try:
        with current_app.extensions["db"].unit_of_work() as session:
            record_review(session, business_no=business_no, unit_code=unit_code, passed=result == "通过",
                          remarks=remarks, reviewer=reviewer)
    except DomainError as exc:
        _fail(exc.message)
    click.echo(f"已记录空间审核结果：{business_no} {result}（待回传）")


@ferry.command("return-export")
@click.argument("directory", type=click.Path(file_okay=False, path_type=Path))
def return_export_command(directory: Path) -> None:
    """Intranet: write the results not yet returned into the next signed return file (for the disc)."""
    from app.federation.signing import FederationKeyMissing, private_key
    from app.ferry.returns import write_return

    settings = current_app.config["SETTINGS"]
    try:
        written = write_return(current_app.extensions["db"].session_factory, directory,
                               private_key(settings.federation_signing_key), f"intranet:{settings.platform_code}")
    except (DomainError, FederationKeyMissing) as exc:
        _fail(exc.message)
    if written is None:
        click.echo("没有待回传的审核结果")
        return
    click.echo(f"已写出回传文件 #{written.seq}（{written.results} 条审核结果）→ {written.path}")


@ferry.command("return-import")
@click.argument("path", type=click.Path(exists=True, dir_okay=False, path_type=Path))
def return_import_command(path: Path) -> None:
    """Extranet: accept a signed return file from the intranet (refused: unsigned, foreign key, replayed)."""
    from app.federation.signing import parse_public_key
    from app.ferry.package import read_document
    from app.ferry.returns import ReturnRefused, import_return

    settings = current_app.config["SETTINGS"]
    try:
        key = parse_public_key(settings.ferry_intranet_public_key) if settings.ferry_intranet_public_key else None
        document, data = read_document(path)
    except ValueError as exc:
        _fail(str(exc))
    try:
        with current_app.extensions["db"].unit_of_work() as session:
            attached = import_return(session, document, data, key)
            cases = sorted({s.business_no or "" for s in attached})
    except ReturnRefused as exc:
        _fail(f"{path.name} 被拒绝（{exc.code}）：{exc.message}")
    click.echo(f"已导入回传文件 #{document['body']['seq']}：{len(attached)} 条审核结果（{'、'.join(cases)}）")
