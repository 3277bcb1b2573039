"""Definition packages (issue 20 §1): a province publishes a business type — its BPMN, forms, material checklist
and business.yaml — as a package signed with its federation key; its cities fetch it with a signed request,
check the province's signature with the key they trust, and adopt it as a new version of the type through the
catalog's own loader (the checks an analyst's files get), unless the city keeps its own version (本地覆盖).

The package is a canonical JSON text (sorted keys, no spaces, the files base64), signed as
``Ed25519("FEDP1\\n" + text)`` and carried as that very text, so the bytes verified are the bytes signed.
"""
from __future__ import annotations

import base64
import binascii
import hashlib
import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from app.catalog.config import publish_files, type_files
from app.catalog.service import business_type_names, current_version
from app.errors import Conflict, DomainError, NotFound
from app.federation import signing
from app.federation.client import call_peer
from app.federation.models import FederationPeer
from app.federation.nav_models import DefinitionAdoption, DefinitionOverride, DefinitionPackage
from app.federation.peers import Peer, get_peer
from app.security import audit

if TYPE_CHECKING:
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

PREFIX = b"FEDP1\n"
_FILE = re.compile(r"^(processes/(?P<type>[a-z][a-z0-9_]*)/(business\.yaml|materials\.yaml|process\.bpmn)"
                   r"|forms/[a-z][a-z0-9_]*\.json)$")


class PackageRefused(DomainError):
    """A package that is not the province's (bad or missing signature, altered content, wrong type)."""

    status = 422
    code = "package_invalid"


@dataclass(frozen=True)
class PackageInfo:
    business_type: str
    name: str
    version: int
    package_sha256: str
    published_at: str


@dataclass(frozen=True)
class VerifiedPackage:
    """A package whose province signature holds: its fields and the files of the type."""

    province: str
    business_type: str
    name: str
    version: int
    sha256: str
    files: dict[str, bytes]


def canonical(package: dict[str, Any]) -> str:
    return json.dumps(package, ensure_ascii=False, sort_keys=True, separators=(",", ":"))


# ------------------------------------------------------------------ province: publish and serve

def publish(session: Session, code: str, *, key: Ed25519PrivateKey, own_code: str,
            actor_id: str | None = None) -> tuple[DefinitionPackage, bool]:
    """The signed package of the type's current version (made once per version: publishing again returns
    the same package); (package, made now)."""
    version = current_version(session, code)
    existing = session.execute(select(DefinitionPackage).where(
        DefinitionPackage.business_type_code == code,
        DefinitionPackage.version == version.version_no)).scalar_one_or_none()
    if existing is not None:
        return existing, False
    files = type_files(version)
    name = session.execute(select(FederationPeer.name).where(FederationPeer.code == own_code)).scalar()
    package = {"v": 1, "province": own_code, "province_name": name or own_code, "type": code,
               "name": version.definition.get("name", code), "version": version.version_no,
               "content_sha256": version.content_sha256,
               "files": {rel: base64.b64encode(data).decode() for rel, data in sorted(files.items())}}
    text = canonical(package)
    row = DefinitionPackage(business_type_code=code, version=version.version_no,
                            content_sha256=version.content_sha256,
                            package_sha256=hashlib.sha256(text.encode()).hexdigest(), package=text,
                            signature=signing.sign(key, PREFIX + text.encode()), published_by=actor_id)
    row.ensure_id()
    session.add(row)
    session.flush()
    audit.record(session, actor_id=actor_id, action="federation.definition_published", object_type="business_type",
                 object_id=code, after={"version": row.version, "sha256": row.package_sha256})
    return row, True


def latest_packages(session: Session) -> list[PackageInfo]:
    """The newest package of every published type (what a city's list shows)."""
    newest = (select(DefinitionPackage.business_type_code, func.max(DefinitionPackage.version).label("v"))
              .group_by(DefinitionPackage.business_type_code).subquery())
    rows = session.execute(select(DefinitionPackage).join(
        newest, (DefinitionPackage.business_type_code == newest.c.business_type_code)
        & (DefinitionPackage.version == newest.c.v)).order_by(DefinitionPackage.business_type_code)).scalars()
    names = business_type_names(session)
    return [PackageInfo(r.business_type_code, names.get(r.business_type_code, r.business_type_code), r.version,
                        r.package_sha256, r.published_at.isoformat()) for r in rows]


def package_of(session: Session, code: str, version: int) -> DefinitionPackage:
    row = session.execute(select(DefinitionPackage).where(DefinitionPackage.business_type_code == code,
                                                          DefinitionPackage.version == version)).scalar_one_or_none()
    if row is None:
        raise NotFound(f"未找到业务定义包：{code} 第 {version} 版", code="package_not_found")
    return row


def may_fetch(peer: Peer, own_code: str) -> bool:
    """Only this province's own cities are served its packages."""
    return peer.level == "city" and peer.code[:2] == own_code[:2]


# ------------------------------------------------------------------ city: fetch, verify, adopt, override

def province_peer(session: Session, own_code: str) -> Peer:
    """The province platform above this city (a configured peer)."""
    peer = get_peer(session, own_code[:2] + "0000")
    if peer.level != "province":
        raise PackageRefused("未配置本省平台", code="province_not_connected")
    return peer


def fetch_list(peer: Peer, key: Ed25519PrivateKey, own_code: str) -> list[PackageInfo]:
    """The province's packages (a signed GET, outside any transaction)."""
    reply = call_peer(peer, key, sender=own_code, method="GET", path="/federation/definitions")
    if reply.status != 200:
        raise PackageRefused(f"省级平台拒绝了请求：{reply.data.get('detail') or reply.status}",
                             code=str(reply.data.get("code") or "package_fetch_failed"))
    return [PackageInfo(p["type"], p["name"], int(p["version"]), p["sha256"], p["published_at"])
            for p in reply.data.get("packages", [])]


def fetch(peer: Peer, key: Ed25519PrivateKey, own_code: str, code: str, version: int | None = None) -> VerifiedPackage:
    """A package from the province, its signature checked with the province's key (the newest when
    ``version`` is None); a tampered, unsigned or mislabelled package raises ``PackageRefused``."""
    if version is None:
        found = [p for p in fetch_list(peer, key, own_code) if p.business_type == code]
        if not found:
            raise NotFound(f"省级平台未发布业务定义包：{code}", code="package_not_found")
        version = found[0].version
    reply = call_peer(peer, key, sender=own_code, method="GET", path=f"/federation/definitions/{code}/{version}")
    if reply.status != 200:
        raise PackageRefused(f"省级平台未提供该定义包：{reply.data.get('detail') or reply.status}",
                             code=str(reply.data.get("code") or "package_fetch_failed"))
    return verify(peer, str(reply.data.get("package") or ""), str(reply.data.get("signature") or ""),
                  code=code, version=version)


def verify(peer: Peer, text: str, signature: str, *, code: str, version: int) -> VerifiedPackage:
    """Check the province's signature over the exact package text, then that the package is what was asked
    (this province, this type and version) and that its files are only the type's files."""
    if not signature:
        raise PackageRefused("业务定义包没有签名，拒绝采用", code="package_unsigned")
    if not signing.verify(signing.parse_public_key(peer.public_key), PREFIX + text.encode(), signature):
        raise PackageRefused("业务定义包签名验证失败（内容被改动或非本省平台签发），拒绝采用",
                             code="package_signature_invalid")
    try:
        data = json.loads(text)
        files = {rel: base64.b64decode(body, validate=True) for rel, body in data["files"].items()}
        fields = (str(data["province"]), str(data["type"]), str(data["name"]), int(data["version"]))
    except (ValueError, KeyError, TypeError, AttributeError, binascii.Error) as exc:
        raise PackageRefused("业务定义包格式不正确", code="package_invalid") from exc
    if fields[0] != peer.code or fields[1] != code or fields[3] != version:
        raise PackageRefused("业务定义包与所请求的省份、业务或版本不符", code="package_invalid")
    for rel in files:
        match = _FILE.match(rel)
        if match is None or (match.group("type") not in (None, code)):
            raise PackageRefused(f"业务定义包含有不属于该业务的文件：{rel}", code="package_invalid")
    return VerifiedPackage(fields[0], code, fields[2], version, hashlib.sha256(text.encode()).hexdigest(), files)


def adopt(session: Session, package: VerifiedPackage, *, root: Path, actor_id: str | None = None,
          force: bool = False) -> tuple[DefinitionAdoption, str]:
    """Install a verified package as the type's new version with the catalog's loader and checks (the same
    content again keeps its version). A type the city keeps as its own (本地覆盖) is not replaced unless
    ``force``; a forced adoption ends the override. Audited."""
    override = session.get(DefinitionOverride, package.business_type)
    if override is not None and not force:
        raise Conflict(f"本市对业务 {package.business_type} 采用本地版本（本地覆盖），未采用省级版本；如需采用请强制",
                       code="definition_overridden")
    version, message = publish_files(session, root, package.business_type, package.files, actor_id)
    row = DefinitionAdoption(business_type_code=package.business_type, province_code=package.province,
                             package_version=package.version, package_sha256=package.sha256,
                             process_version_id=version.id, forced=override is not None, adopted_by=actor_id)
    session.add(row)
    if override is not None:
        session.delete(override)
    session.flush()
    audit.record(session, actor_id=actor_id, action="federation.definition_adopted", object_type="business_type",
                 object_id=package.business_type,
                 after={"province": package.province, "version": package.version, "sha256": package.sha256,
                        "version_no": version.version_no, "forced": override is not None})
    return row, message


def mark_override(session: Session, code: str, reason: str, *, actor_id: str | None = None) -> None:
    """Keep the city's own version of ``code``: the province's packages are no longer adopted over it."""
    current_version(session, code, unreleased=True)  # a type that exists here
    row = session.get(DefinitionOverride, code) or DefinitionOverride(business_type_code=code)
    row.reason, row.marked_by = (reason.strip() or "本地版本")[:200], actor_id
    session.add(row)
    audit.record(session, actor_id=actor_id, action="federation.definition_overridden", object_type="business_type",
                 object_id=code, after={"reason": row.reason})


def clear_override(session: Session, code: str, *, actor_id: str | None = None) -> bool:
    row = session.get(DefinitionOverride, code)
    if row is None:
        return False
    session.delete(row)
    audit.record(session, actor_id=actor_id, action="federation.definition_override_cleared",
                 object_type="business_type", object_id=code)
    return True


@dataclass(frozen=True)
class LocalStatus:
    adopted_version: int | None  # the newest province package version adopted here
    adopted_sha256: str | None
    overridden: bool
    override_reason: str | None


def local_status(session: Session) -> dict[str, LocalStatus]:
    """Per type: what the city took from the province and whether it keeps its own (the admin list)."""
    adopted: dict[str, DefinitionAdoption] = {}
    for row in session.execute(select(DefinitionAdoption).order_by(DefinitionAdoption.adopted_at)).scalars():
        adopted[row.business_type_code] = row
    overrides = {r.business_type_code: r for r in session.execute(select(DefinitionOverride)).scalars()}
    out = {}
    for code in set(adopted) | set(overrides):
        a, o = adopted.get(code), overrides.get(code)
        out[code] = LocalStatus(a.package_version if a else None, a.package_sha256 if a else None, o is not None,
                                o.reason if o else None)
    return out
