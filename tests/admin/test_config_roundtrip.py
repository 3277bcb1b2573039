"""Regenerating a type's files from its version is lossless for every shipped type: an edit that changes
nothing publishes a version whose definition equals the file-loaded one (only the content hash differs,
because YAML is re-serialised), so no on-screen edit can silently drop a key the loader knows."""
from __future__ import annotations

from pathlib import Path
from typing import Any

from sqlalchemy import select

from app.catalog.config import publish_changes
from app.catalog.models import BusinessType
from app.catalog.service import current_version
from app.identity.actor import Actor

ROOT = Path(__file__).resolve().parents[2]
ANALYST = Actor(user_id=None, username="analyst", kind="staff", permissions=frozenset({"defs:manage"}), city_level=True)


def test_every_shipped_type_survives_regeneration(seeded: Any, db: Any) -> None:
    with db.unit_of_work() as session:
        codes = session.execute(select(BusinessType.code)).scalars().all()
        assert len(codes) >= 5
        for code in codes:
            before = dict(current_version(session, code).definition)
            version, _ = publish_changes(session, ANALYST, ROOT, code, action="test.roundtrip")
            after = dict(version.definition)
            before.pop("content_sha256"), after.pop("content_sha256")
            assert after == before, code
