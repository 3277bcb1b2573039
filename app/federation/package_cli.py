"""``flask federation definitions …``: a province publishes signed business-type packages; a city lists,
fetches (verifies), adopts them, or keeps its own version of a type (override). docs/federation.md."""
from __future__ import annotations

import sys
from typing import TYPE_CHECKING, NoReturn

import click
from flask import current_app
from flask.cli import AppGroup

from app.errors import DomainError

if TYPE_CHECKING:
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    from app.federation.peers import Peer

definitions = AppGroup("definitions", help="业务定义包（省级发布，市级采用或本地覆盖）")


def _fail(message: str) -> NoReturn:
    click.echo(message, err=True)
    sys.exit(1)


def _settings_key() -> tuple[str, str, Ed25519PrivateKey]:
    from app.federation.signing import private_key

    settings = current_app.config["SETTINGS"]
    return settings.platform_level, settings.platform_code, private_key(settings.federation_signing_key)


@definitions.command("publish")
@click.argument("codes", nargs=-1, required=True)
def publish_command(codes: tuple[str, ...]) -> None:
    """(Province) sign the current version of each type as a package its cities can adopt."""
    from app.federation.packages import publish

    level, own, key = _settings_key()
    if level != "province":
        _fail("只有省级平台发布业务定义包（PLATFORM_LEVEL=province）")
    try:
        with current_app.extensions["db"].unit_of_work() as session:
            for code in codes:
                row, made = publish(session, code, key=key, own_code=own)
                state = "已发布" if made else "已是已发布版本"
                click.echo(f"{code}: {state} 第 {row.version} 版 sha256={row.package_sha256}")
    except DomainError as exc:
        _fail(f"未发布：{exc.message}")


def _province() -> tuple[str, Ed25519PrivateKey, Peer]:
    from app.federation.packages import province_peer

    level, own, key = _settings_key()
    if level != "city":
        _fail("只有市级平台采用省级业务定义包（PLATFORM_LEVEL=city）")
    try:
        with current_app.extensions["db"].unit_of_work() as session:
            peer = province_peer(session, own)
    except DomainError as exc:
        _fail(exc.message)
    return own, key, peer


@definitions.command("list")
def list_command() -> None:
    """(City) the province's packages and what this city did with each (已采用 / 本地覆盖 / 未采用)."""
    from app.federation.packages import fetch_list, local_status

    own, key, peer = _province()
    try:
        found = fetch_list(peer, key, own)
    except DomainError as exc:
        _fail(exc.message)
    with current_app.extensions["db"].unit_of_work() as session:
        status = local_status(session)
    for p in found:
        here = status.get(p.business_type)
        label = ("本地覆盖" if here and here.overridden else
                 "已采用" if here and here.adopted_sha256 == p.package_sha256 else
                 f"已采用第 {here.adopted_version} 版" if here and here.adopted_version else "未采用")
        click.echo(f"{p.business_type}  {p.name}  第 {p.version} 版  {label}  sha256={p.package_sha256}")
    click.echo(f"共 {len(found)} 个业务定义包")


@definitions.command("fetch")
@click.argument("code")
@click.option("--version", type=int, default=None, help="版本（默认最新）")
def fetch_command(code: str, version: int | None) -> None:
    """(City) fetch a package and check the province's signature, installing nothing."""
    from app.federation.packages import fetch

    own, key, peer = _province()
    try:
        package = fetch(peer, key, own, code, version)
    except DomainError as exc:
        _fail(f"未通过校验：{exc.message}")
    click.echo(f"{code}: 第 {package.version} 版签名有效（{package.province}） sha256={package.sha256}，"
               f"{len(package.files)} 个文件")


@definitions.command("adopt")
@click.argument("code")
@click.option("--version", type=int, default=None, help="版本（默认最新）")
@click.option("--force", is_flag=True, help="本地覆盖的业务也采用省级版本（并取消本地覆盖）")
def adopt_command(code: str, version: int | None, force: bool) -> None:
    """(City) fetch, verify and install a package as the type's new version."""
    from app.federation.packages import adopt, fetch

    own, key, peer = _province()
    try:
        package = fetch(peer, key, own, code, version)
        with current_app.extensions["db"].unit_of_work() as session:
            _row, message = adopt(session, package, root=current_app.config["SETTINGS"].definitions_root,
                                  force=force)
    except DomainError as exc:
        details = "；".join(f"{k}: {'、'.join(map(str, v))}" for k, v in exc.errors.items() if k != exc.field)
        _fail(f"未采用：{exc.message}" + (f"（{details}）" if details else ""))
    click.echo(f"已采用 {package.province} 第 {package.version} 版 sha256={package.sha256}：{message}")


@definitions.command("override")
@click.argument("code")
@click.option("--reason", default="本地版本", help="保留本地版本的原因")
@click.option("--off", is_flag=True, help="取消本地覆盖（此后可采用省级版本）")
def override_command(code: str, reason: str, off: bool) -> None:
    """(City) keep this city's own version of a type: the province's packages are not adopted over it."""
    from app.federation.packages import clear_override, mark_override

    try:
        with current_app.extensions["db"].unit_of_work() as session:
            if off:
                if not clear_override(session, code):
                    _fail(f"{code} 未设置本地覆盖")
            else:
                mark_override(session, code, reason)
    except DomainError as exc:
        _fail(exc.message)
    click.echo(f"{code}: {'已取消本地覆盖' if off else '已设为本地覆盖'}")
