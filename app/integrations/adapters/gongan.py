"""公安 public security: name + ID number check, household (户籍) lookup."""
from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from app.integrations.client import CallContext, call
from app.security.masking import mask_id_number


def verify_identity(session: Session, ctx: CallContext, name: str, id_number: str) -> dict[str, Any]:
    return call(session, "gongan", "identity.verify", "POST", "/gongan/identity/verify", ctx=ctx,
                summary={"id_number": mask_id_number(id_number)},
                json={"name": name, "id_number": id_number}).data


def household(session: Session, ctx: CallContext, id_number: str) -> dict[str, Any]:
    return call(session, "gongan", "household.query", "POST", "/gongan/household/query", ctx=ctx,
                summary={"id_number": mask_id_number(id_number)}, json={"id_number": id_number}).data
