"""Issue 14 §1: the register book and the audit log are anchored outside the database.

Each attack that used to pass ``registry verify`` is played by a rogue table owner (on PostgreSQL with the
triggers switched off — more than the application's role may do, see test_app_role.py) after a signed
checkpoint, and must now fail naming the unit."""
from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import Connection, create_engine, delete, select, text, update
from support.cases import complete_stage
from support.servers import simulator_control

from app.registry.book import entry_digest
from app.registry.checkpoint_log import CheckpointLog
from app.registry.models import RealtyUnit, RegisterEntry, RightHolder
from app.security.models import AuditEntry, AuditHead


@pytest.fixture
def recorded_transfer(login: Any, submitted_transfer: dict) -> dict:
    for username, stage in [("xh_acceptor", "受理"), ("xh_reviewer", "审核"), ("xh_recorder", "登簿"),
                            ("xh_certifier", "缮证")]:
        resp = complete_stage(login(username), submitted_transfer["business_no"], stage)
        assert resp.status_code == 200, resp.get_json()
    return submitted_transfer


@contextmanager
def rogue_owner(owner_database_url: str) -> Iterator[Connection]:
    """The tables' owner with every trigger off (PostgreSQL ``session_replication_role``): the worst case
    the database itself cannot stop."""
    engine = create_engine(owner_database_url)
    with engine.begin() as conn:
        if engine.dialect.name == "postgresql":
            conn.execute(text("SET LOCAL session_replication_role = replica"))
        yield conn
    engine.dispose()


def cli(app: Flask, *args: str) -> Any:
    return app.test_cli_runner().invoke(args=list(args))


def checkpoint(app: Flask) -> None:
    result = cli(app, "registry", "checkpoint")
    assert result.exit_code == 0, result.output
    assert "已签发检查点" in result.output, result.output


def verify_fails_naming(app: Flask, unit_code: str, *words: str) -> str:
    result = cli(app, "registry", "verify")
    assert result.exit_code == 1, result.output
    assert f"单元 {unit_code}" in result.output, result.output
    for word in words:
        assert word in result.output, result.output
    return result.output


def checkpoint_log(app: Flask) -> CheckpointLog:
    """The app's checkpoint log (``CHECKPOINT_DIR``)."""
    return CheckpointLog(app.extensions["checkpoint_dir"])


def unit_id_of(conn: Connection, unit_code: str) -> str:
    return conn.execute(select(RealtyUnit.id).where(RealtyUnit.unit_code == unit_code)).scalar_one()


def test_a_checkpoint_signs_every_head_with_a_time_stamp_and_goes_to_the_province(
        seeded: Flask, db: Any, recorded_transfer: dict) -> None:
    checkpoint(seeded)
    cp = checkpoint_log(seeded).latest()
    assert cp is not None and cp.token is not None
    heads = cp.heads
    assert heads[recorded_transfer["unit_code"]][0] == 2
    assert cp.body["register"]["entries"] == sum(count for count, _h in heads.values())
    assert cp.body["audit"]["seq"] > 0

    result = cli(seeded, "registry", "verify")
    assert result.exit_code == 0, result.output
    assert f"对照检查点 #{cp.seq}" in result.output and "0 条待下一检查点" in result.output
    assert "无新记载" in cli(seeded, "registry", "checkpoint").output  # nothing changed: no new checkpoint

    from app.integrations.models import OutboxDelivery, OutboxMessage
    from app.jobs import deliver_outbox

    with db.unit_of_work() as session:
        deliver_outbox(session)
    with db.unit_of_work() as session:
        message = session.execute(select(OutboxMessage)
                                  .where(OutboxMessage.topic == "register.checkpoint")).scalar_one()
        delivery = session.execute(select(OutboxDelivery).where(OutboxDelivery.message_id == message.id)).scalar_one()
        assert (delivery.interface_code, delivery.status) == ("province", "sent")
        assert message.payload["record"]["body"]["seq"] == cp.seq


def test_a_rewritten_entry_with_a_recomputed_chain_fails(seeded: Flask, owner_database_url: str,
                                                          recorded_transfer: dict) -> None:
    checkpoint(seeded)
    unit_code = recorded_transfer["unit_code"]
    with rogue_owner(owner_database_url) as conn:
        unit_id = unit_id_of(conn, unit_code)
        prev = "0" * 64
        for entry in conn.execute(select(RegisterEntry).where(RegisterEntry.unit_id == unit_id)
                                  .order_by(RegisterEntry.seq)).all():
            change = dict(entry.change)
            if entry.seq == 2:
                change["created"] = {**change["created"], "type": "ownership"}
                change["ended"] = []  # "the seller never lost the flat"
            digest = entry_digest(prev, unit_code, entry.seq, entry.business_no, entry.kind,
                                  entry.recorded_at.isoformat(), change)
            conn.execute(update(RegisterEntry).where(RegisterEntry.id == entry.id)
                         .values(change=change, prev_hash=prev, hash=digest))
            prev = digest
    verify_fails_naming(seeded, unit_code, "第 2 条", "重算了哈希链")


def test_a_deleted_or_shortened_chain_fails(seeded: Flask, owner_database_url: str, recorded_transfer: dict) -> None:
    checkpoint(seeded)
    unit_code = recorded_transfer["unit_code"]
    with rogue_owner(owner_database_url) as conn:
        conn.execute(delete(RegisterEntry).where(RegisterEntry.unit_id == unit_id_of(conn, unit_code),
                                                 RegisterEntry.seq == 2))
    verify_fails_naming(seeded, unit_code, "仅存 1 条", "截断")

    with rogue_owner(owner_database_url) as conn:
        conn.execute(delete(RegisterEntry).where(RegisterEntry.unit_id == unit_id_of(conn, unit_code)))
    verify_fails_naming(seeded, unit_code, "仅存 0 条")


def test_an_emptied_register_entry_table_fails(seeded: Flask, owner_database_url: str) -> None:
    checkpoint(seeded)
    units = checkpoint_log(seeded).latest().heads  # type: ignore[union-attr]
    with rogue_owner(owner_database_url) as conn:
        if conn.dialect.name == "postgresql":
            conn.execute(text("TRUNCATE register_entry"))
        else:
            conn.execute(delete(RegisterEntry))
    output = verify_fails_naming(seeded, sorted(units)[0], "仅存 0 条")
    assert all(f"单元 {code}" in output for code in units)


def test_a_copied_blind_index_in_right_holder_fails(seeded: Flask, owner_database_url: str,
                                                     recorded_transfer: dict) -> None:
    """李四 bought the 西湖区 flat; copying 王五's blind index over hers made 王五 its holder."""
    unit_code = recorded_transfer["unit_code"]
    with rogue_owner(owner_database_url) as conn:
        holders = conn.execute(select(RightHolder.id, RightHolder.id_number_bidx)).all()
        bought = {h.id for h in conn.execute(text(
            "SELECT rh.id FROM right_holder rh JOIN realty_right r ON r.id = rh.right_id "
            "JOIN realty_unit u ON u.id = r.unit_id WHERE u.unit_code = :c AND r.status = 'current'"),
            {"c": unit_code})}
        stranger = next(b for i, b in holders if i not in bought and b)
        conn.execute(update(RightHolder).where(RightHolder.id.in_(bought)).values(id_number_bidx=stranger))
    verify_fails_naming(seeded, unit_code, "权利人与记载不符")


def test_a_rewritten_audit_chain_and_head_fail(seeded: Flask, owner_database_url: str) -> None:
    from app.security.audit import _digest, _fields

    checkpoint(seeded)
    assert cli(seeded, "logs", "verify-audit").exit_code == 0
    with rogue_owner(owner_database_url) as conn:
        prev = "0" * 64
        entries = conn.execute(select(AuditEntry.__table__).order_by(AuditEntry.seq)).mappings().all()
        for row in entries:
            fake = AuditEntry(**{k: row[k] for k in ("seq", "at", "actor_id", "tenant_id", "action", "object_type",
                                                    "object_id", "before", "after")})
            if row["seq"] == 1:
                fake.after = {"forged": True}
            digest = _digest(prev, _fields(fake))
            conn.execute(update(AuditEntry).where(AuditEntry.seq == row["seq"])
                         .values(after=fake.after, hash=digest))
            prev = digest
        conn.execute(update(AuditHead).where(AuditHead.id == 1).values(hash=prev))
    result = cli(seeded, "logs", "verify-audit")
    assert result.exit_code == 1, result.output
    assert "审计链被改写" in result.output


def test_a_tsa_that_is_down_does_not_stop_the_checkpoint_and_it_is_stamped_later(
        seeded: Flask, simulator: Any, recorded_transfer: dict) -> None:
    simulator_control(simulator, "tsa", "fail")
    result = cli(seeded, "registry", "checkpoint")
    assert result.exit_code == 0 and "时间戳待补" in result.output, result.output
    assert checkpoint_log(seeded).latest().token is None  # type: ignore[union-attr]

    simulator_control(simulator, "tsa", "ok")
    result = cli(seeded, "registry", "checkpoint")
    assert "补加时间戳：#1" in result.output, result.output
    assert checkpoint_log(seeded).latest().token is not None  # type: ignore[union-attr]


def test_no_checkpoint_is_signed_over_a_tampered_book(seeded: Flask, owner_database_url: str,
                                                      recorded_transfer: dict) -> None:
    checkpoint(seeded)
    with rogue_owner(owner_database_url) as conn:
        conn.execute(delete(RegisterEntry).where(
            RegisterEntry.unit_id == unit_id_of(conn, recorded_transfer["unit_code"]), RegisterEntry.seq == 2))
    result = cli(seeded, "registry", "checkpoint")
    assert result.exit_code == 1 and "拒绝签发新检查点" in result.output, result.output
    assert checkpoint_log(seeded).latest().seq == 1  # type: ignore[union-attr]


def test_an_exported_package_verifies_with_the_public_key_alone_and_edits_fail(
        seeded: Flask, simulator: Any, recorded_transfer: dict, tmp_path: Path) -> None:
    import urllib.request

    checkpoint(seeded)
    package = tmp_path / "register-log-000001.json"
    assert cli(seeded, "registry", "export-log", str(package)).exit_code == 0
    tsa_root = tmp_path / "tsa.pem"
    tsa_root.write_bytes(urllib.request.urlopen(f"{simulator.url}/tsa/cert", timeout=5).read())
    office_cert = str(seeded.extensions["signing_keys"].cert)

    result = cli(seeded, "registry", "verify-log", str(package), "--public-key", office_cert,
                 "--tsa-root", str(tsa_root))
    assert result.exit_code == 0, result.output
    assert "日志包校验通过" in result.output and "时间戳机构证书已验证" in result.output

    data = json.loads(package.read_text(encoding="utf-8"))
    edited = next(e for e in data["entries"] if e["unit"] == recorded_transfer["unit_code"] and e["seq"] == 2)
    edited["business_no"] = "FORGED"
    package.write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")
    result = cli(seeded, "registry", "verify-log", str(package), "--public-key", office_cert)
    assert result.exit_code == 1 and f"单元 {recorded_transfer['unit_code']} 第 2 条" in result.output

    data["checkpoint"]["body"]["register"]["entries"] += 1  # a forged body no longer carries the signature
    package.write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")
    result = cli(seeded, "registry", "verify-log", str(package), "--public-key", office_cert)
    assert result.exit_code == 1 and "签名无效" in result.output


def test_an_incremental_package_continues_from_an_earlier_checkpoint(
        seeded: Flask, login: Any, submitted_transfer: dict, tmp_path: Path) -> None:
    checkpoint(seeded)
    for username, stage in [("xh_acceptor", "受理"), ("xh_reviewer", "审核"), ("xh_recorder", "登簿")]:
        assert complete_stage(login(username), submitted_transfer["business_no"], stage).status_code == 200
    checkpoint(seeded)
    package = tmp_path / "register-log-000002.json"
    result = cli(seeded, "registry", "export-log", str(package), "--since", "1")
    assert result.exit_code == 0 and "1 条记载" in result.output, result.output
    office_cert = str(seeded.extensions["signing_keys"].cert)
    result = cli(seeded, "registry", "verify-log", str(package), "--public-key", office_cert)
    assert result.exit_code == 0, result.output

