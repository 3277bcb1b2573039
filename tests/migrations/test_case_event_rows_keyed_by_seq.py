"""Issue 18: case_event loses its id (keyed by case and seq) and stores no standard message; the downgrades
give every event an id again and write the standard texts back."""
from __future__ import annotations

from collections.abc import Iterator

import pytest
from alembic import command
from alembic.script import ScriptDirectory
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url
from support.databases import scratch_database

from app.migrate import alembic_config

NULLABLE_MESSAGE = "d4f6b8c0e2a3"
KEYED_BY_SEQ = "e5a7c9d1f3b4"


@pytest.fixture
def scratch_url(base_database_url: str) -> Iterator[str]:
    with scratch_database(base_database_url, "eventkey") as url:
        yield url


def test_events_lose_their_id_and_standard_messages_and_get_them_back(scratch_url: str) -> None:
    config = alembic_config(scratch_url)
    command.upgrade(config, KEYED_BY_SEQ)
    engine = create_engine(scratch_url)
    postgres = make_url(scratch_url).get_backend_name() == "postgresql"
    with engine.begin() as conn:  # the rows alone: the case's other rows do not matter to the conversion
        if postgres:
            conn.execute(text("SET session_replication_role = replica"))
        conn.execute(text("INSERT INTO reg_case (id, tenant_id, business_type_code, process_version_id, business_no,"
                          " status, channel, applicant_id, form_public, correction_items, fee_items, rule_results,"
                          " created_at) VALUES ('c1', '330106', 't', 'v', '202633010620000002', 'accepting',"
                          " 'online', 'u', '{}', '[]', '[]', '[]', CURRENT_TIMESTAMP)"))
        for seq, kind, stage, decision, message in [(1, "created", None, None, None),
                                                    (2, "confirmed", None, None, "转让方已签名确认申请"),
                                                    (3, "submitted", None, None, None),
                                                    (4, "step_completed", "受理", "approve", None)]:
            conn.execute(text("INSERT INTO case_event (case_id, tenant_id, seq, kind, stage, status, decision,"
                              " message, at) VALUES ('c1', '330106', :seq, :kind, :stage, 'accepting', :decision,"
                              " :message, CURRENT_TIMESTAMP)"),
                         {"seq": seq, "kind": kind, "stage": stage, "decision": decision, "message": message})
    engine.dispose()

    before = ScriptDirectory.from_config(config).get_revision(NULLABLE_MESSAGE).down_revision
    assert isinstance(before, str)
    command.downgrade(config, before)
    engine = create_engine(scratch_url)
    with engine.connect() as conn:
        rows = conn.execute(text("SELECT id, message FROM case_event ORDER BY seq")).all()
    engine.dispose()
    assert [m for _, m in rows] == ["申请已创建（草稿）", "转让方已签名确认申请",
                                    "申请已提交，业务号 202633010620000002", "受理：予以受理"]
    assert len({i for i, _ in rows}) == 4 and all(len(i) == 32 for i, _ in rows)
