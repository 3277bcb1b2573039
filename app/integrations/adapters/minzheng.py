"""民政 civil affairs: marriage registration by ID number."""
from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from app.integrations.client import CallContext, call
from app.security.masking import mask_id_number


def marriage_status(session: Session, ctx: CallContext, id_number: str) -> dict[str, Any]:
    return call(session, "minzheng", "marriage.query", "POST", "/minzheng/marriage/query", ctx=ctx,
                summary={"id_number": mask_id_number(id_number)}, json={"id_number": id_number}).data
