"""What every workbench view needs: the signed-in staff member, and form errors rendered next to fields."""
from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any, TypeVar

from flask import current_app, flash, redirect, request, url_for

from app.casefile.storage import Storage
from app.errors import DomainError, PermissionDenied
from app.identity.actor import Actor
from app.pages import login_required, page_actor

F = TypeVar("F", bound=Callable[..., Any])


def staff_required(view: F) -> F:
    """Signed in (else to the login page) and office staff who may read cases or tasks (else 403)."""

    @wraps(view)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        actor = page_actor()
        if actor.kind != "staff" or not (actor.has("task:read") or actor.has("case:read")):
            raise PermissionDenied("工作台仅供登记机构工作人员使用", code="forbidden")
        return view(*args, **kwargs)

    return login_required(wrapper)  # type: ignore[return-value]


def clerk() -> Actor:
    return page_actor()


def storage() -> Storage:
    return current_app.extensions["storage"]


def back_to(default: str) -> Any:
    """Redirect to the page the form came from (same site only), else ``default``."""
    target = request.form.get("next") or ""
    if target.startswith("/workbench") and not target.startswith("//"):
        return redirect(target)
    return redirect(default)


def flash_error(exc: DomainError) -> None:
    flash(exc.message, "error")


def inbox_url() -> str:
    return url_for("workbench.inbox")


def district_name(tenant_id: str | None) -> str:
    """The district office's name for the screen (city-level staff see rows of every district)."""
    if not tenant_id:
        return "—"
    from flask import g

    from app.identity.models import Tenant
    from app.web import db_session

    names: dict[str, str] = g.setdefault("district_names", {})
    if tenant_id not in names:
        tenant = db_session().get(Tenant, tenant_id)
        names[tenant_id] = tenant.name if tenant else tenant_id
    return names[tenant_id]
