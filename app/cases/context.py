"""What a service-task connector gets: the open transaction, the case and who moved it."""
from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.orm import Session

from app.cases.models import Case
from app.identity.actor import Actor


@dataclass
class CaseContext:
    session: Session
    case: Case
    actor: Actor
