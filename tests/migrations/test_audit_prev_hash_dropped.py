"""Issue 18: audit_entry loses its ``prev_hash`` column (the previous entry's hash); a chain written before
verifies after the upgrade, and the downgrade refills the column from the previous entries (and the anchor)."""
from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime

import pytest
from alembic import command
from alembic.script import ScriptDirectory
from sqlalchemy import create_engine, text
from sqlalchemy.orm import Session
from support.databases import scratch_database

from app.migrate import alembic_config
from app.security.audit import _digest, _fields, verify_chain
from app.security.models import AuditEntry

DROPPED = "c3e5a7b9d1f2"
ANCHOR = "ab" * 32  # as after retention purged entries 1–4


@pytest.fixture
def scratch_url(base_database_url: str) -> Iterator[str]:
    with scratch_database(base_database_url, "prevhash") as url:
        yield url


def test_the_chain_verifies_without_prev_hash_and_the_downgrade_refills_it(scratch_url: str) -> None:
    config = alembic_config(scratch_url)
    before = ScriptDirectory.from_config(config).get_revision(DROPPED).down_revision
    assert isinstance(before, str)
    command.upgrade(config, before)
    at = datetime(2026, 12, 1, 8, 30, tzinfo=UTC)
    links, prev = [], ANCHOR
    for seq in (5, 6, 7):
        entry = AuditEntry(seq=seq, at=at, actor_id=None, tenant_id="330106", action="case.create",
                           object_type="case", object_id="c1", before=None, after={"n": seq})
        digest = _digest(prev, _fields(entry))
        links.append((seq, prev, digest))
        prev = digest
    engine = create_engine(scratch_url)
    with engine.begin() as conn:
        for seq, link, digest in links:
            conn.execute(text("INSERT INTO audit_entry (seq, at, tenant_id, action, object_type, object_id, after,"
                              " prev_hash, hash) VALUES (:seq, :at, '330106', 'case.create', 'case', 'c1', :after,"
                              " :p, :h)"), {"seq": seq, "at": at.replace(tzinfo=None), "after": f'{{"n": {seq}}}',
                                           "p": bytes.fromhex(link), "h": bytes.fromhex(digest)})
        conn.execute(text("INSERT INTO audit_head (id, seq, hash, anchor_seq, anchor_hash) VALUES (1, 7, :h, 4, :a)"),
                     {"h": prev, "a": ANCHOR})
    engine.dispose()

    command.upgrade(config, DROPPED)
    engine = create_engine(scratch_url)
    with Session(engine) as session:
        assert verify_chain(session) == []
        session.execute(text("UPDATE audit_entry SET after = '{\"n\": 0}' WHERE seq = 6"))
        assert [b.seq for b in verify_chain(session)] == [6]
        session.rollback()
    engine.dispose()

    command.downgrade(config, before)
    engine = create_engine(scratch_url)
    with engine.connect() as conn:
        stored = conn.execute(text("SELECT seq, prev_hash, hash FROM audit_entry ORDER BY seq")).all()
    engine.dispose()
    assert [(seq, bytes(p).hex(), bytes(h).hex()) for seq, p, h in stored] == links
