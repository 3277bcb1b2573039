"""What a service-task connector gets: the open transaction, the case, who moved it and, where the step may
write files (缮证 stores the signed certificate), the storage the skin passed in."""
from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.orm import Session

from app.casefile.models import Case
from app.casefile.storage import Storage
from app.identity.actor import Actor


@dataclass
class CaseContext:
    session: Session
    case: Case
    actor: Actor
    storage: Storage | None = None
