"""Who is acting: resolved once per request by the skin and passed to every use case."""
from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy import inspect, select
from sqlalchemy.orm import Session

from app.errors import PermissionDenied
from app.identity.models import Role, User
from app.identity.permissions import CITY_ONLY
from app.security.masking import mask_name


@dataclass(frozen=True)
class Actor:
    user_id: str | None
    username: str
    kind: str  # staff | applicant | institution | system
    roles: frozenset[str] = frozenset()
    permissions: frozenset[str] = frozenset()
    tenant_id: str | None = None
    id_number_bidx: str | None = None
    city_level: bool = False
    extra: dict[str, str] = field(default_factory=dict)
    display_name: str = ""  # what the page header shows: a verified applicant's masked real name, else username

    def has(self, permission: str) -> bool:
        return permission in self.permissions

    def require(self, permission: str) -> None:
        if permission not in self.permissions:
            raise PermissionDenied("您没有执行此操作的权限", code="forbidden")

    @property
    def tenant_scope(self) -> frozenset[str] | None:
        """Tenants whose rows this actor's queries may see; None = unscoped (city level, applicants)."""
        if self.kind == "staff" and not self.city_level:
            return frozenset({self.tenant_id}) if self.tenant_id else frozenset()
        return None


SYSTEM = Actor(user_id=None, username="system", kind="system", city_level=True)


def _roles_of(session: Session, user: User) -> list[Role]:
    """The user's roles: those loaded with the links (``identity.service.load_user``) without a query, else
    looked up (links just made, not flushed yet, have no role loaded)."""
    links = user.roles
    if all("role" not in inspect(link).unloaded and link.role is not None for link in links):
        return [link.role for link in links]
    codes = user.role_codes
    return list(session.execute(select(Role).where(Role.code.in_(codes))).scalars()) if codes else []


def actor_for(session: Session, user: User) -> Actor:
    codes = user.role_codes
    roles = _roles_of(session, user)
    permissions = frozenset(p for r in roles for p in r.permissions)
    city_level = any(r.scope == "city" for r in roles) and user.tenant_id is None
    if not city_level:  # platform-wide data has no district to scope it by: city level only
        permissions -= CITY_ONLY
    # A party's rights (its cases, its units) follow the identity only once real-name verification finished:
    # an ID number typed in but not yet face-checked opens nothing.
    verified_id = user.id_number_bidx if user.verified_at is not None else None
    # SMS sign-ups get a neutral generated username (用户12345678); once verified, the header greets the person.
    shown = mask_name(user.real_name) if user.kind != "staff" and verified_id and user.real_name else user.username
    return Actor(user_id=user.id, username=user.username, kind=user.kind, roles=frozenset(codes),
                 permissions=permissions, tenant_id=user.tenant_id, id_number_bidx=verified_id,
                 city_level=city_level, display_name=shown)
