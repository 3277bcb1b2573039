"""``flask federation …``: this platform's public key and the peers it trusts (a peer's code, address and
public key; there is no shared password to configure)."""
from __future__ import annotations

import sys

import click
from flask import current_app
from flask.cli import AppGroup

from app.errors import ValidationFailed

federation = AppGroup("federation", help="上下级平台对接（互信密钥）")
peer = AppGroup("peer", help="对接平台（区划代码、地址、公钥）")
federation.add_command(peer)
LEVEL_LABELS = {"national": "国家级", "province": "省级", "city": "市级"}


@federation.command("key")
def key_command() -> None:
    """Print this platform's level, code and public key — what each peer enters with ``peer add``."""
    from app.federation.signing import FederationKeyMissing, private_key, public_key_text

    settings = current_app.config["SETTINGS"]
    try:
        public = public_key_text(private_key(settings.federation_signing_key))
    except FederationKeyMissing as exc:
        click.echo(exc.message, err=True)
        sys.exit(1)
    click.echo(f"{settings.platform_level} {settings.platform_code} {public}")


@peer.command("add")
@click.argument("code")
@click.option("--name", required=True, help="平台名称，如 浙江省")
@click.option("--level", type=click.Choice(list(LEVEL_LABELS)), required=True)
@click.option("--url", "base_url", required=True, help="平台地址，如 https://bdc.zj.gov.cn")
@click.option("--public-key", required=True, help="对方 `flask federation key` 输出的公钥")
def add_command(code: str, name: str, level: str, base_url: str, public_key: str) -> None:
    """Trust a platform (again: replaces its address and key)."""
    from app.federation.peers import add_peer

    try:
        with current_app.extensions["db"].unit_of_work() as session:
            added = add_peer(session, code=code, name=name, level=level, base_url=base_url, public_key=public_key)
    except ValidationFailed as exc:
        click.echo(f"未添加：{exc.message}", err=True)
        sys.exit(1)
    click.echo(f"已添加对接平台 {added.code} {added.name}（{LEVEL_LABELS[added.level]}） {added.base_url}")


@peer.command("list")
def list_command() -> None:
    from app.federation.peers import list_peers

    with current_app.extensions["db"].unit_of_work() as session:
        rows = list_peers(session)
    for p in rows:
        click.echo(f"{p.code}  {p.name}  {LEVEL_LABELS.get(p.level, p.level)}  {p.base_url}  {p.public_key}")
    click.echo(f"共 {len(rows)} 个对接平台")


@peer.command("remove")
@click.argument("code")
def remove_command(code: str) -> None:
    """Stop trusting a platform: its requests and assertions are refused from now on (peer_unknown)."""
    from app.federation.peers import remove_peer

    with current_app.extensions["db"].unit_of_work() as session:
        removed = remove_peer(session, code)
    if not removed:
        click.echo(f"没有对接平台 {code}", err=True)
        sys.exit(1)
    click.echo(f"已移除对接平台 {code}")


from app.federation.package_cli import definitions  # noqa: E402  (flask federation definitions …)

federation.add_command(definitions)
@federation.command("ping")
@click.argument("codes", nargs=-1)
def ping_command(codes: tuple[str, ...]) -> None:
    """Send a signed ping to every configured peer (or those named): its address answers and it trusts our key.
    Exit code 1 when any did not answer or refused."""
    from app.federation.client import call_peer
    from app.federation.peers import list_peers
    from app.federation.signing import FederationKeyMissing, private_key
    from app.integrations.client import ServiceUnavailable

    settings = current_app.config["SETTINGS"]
    try:
        key = private_key(settings.federation_signing_key)
    except FederationKeyMissing as exc:
        click.echo(exc.message, err=True)
        sys.exit(1)
    with current_app.extensions["db"].unit_of_work() as session:
        targets = [p for p in list_peers(session) if not codes or p.code in codes]
    failed = 0
    for p in targets:  # no transaction is open while a peer answers
        try:
            reply = call_peer(p, key, sender=settings.platform_code, method="POST", path="/federation/ping",
                              json={"echo": "ping"})
        except ServiceUnavailable as exc:
            click.echo(f"{p.code} {p.name} 无法连接：{exc.message}")
            failed += 1
            continue
        if reply.status == 200 and reply.data.get("platform") == p.code:
            click.echo(f"{p.code} {p.name} 正常")
        else:
            click.echo(f"{p.code} {p.name} 拒绝：HTTP {reply.status} {reply.data.get('code', '')}")
            failed += 1
    click.echo(f"共 {len(targets)} 个对接平台，{failed} 个异常")
    sys.exit(1 if failed else 0)
