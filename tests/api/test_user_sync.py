"""User sync from the government platform's directory: the API and the CLI create, update and disable
accounts idempotently (a second run of the same directory changes nothing), and a directory with bad
records is refused as a whole, each bad record named by its line with a Chinese reason."""
from __future__ import annotations

import csv
import json
from pathlib import Path
from typing import Any

from sqlalchemy import func, select

from app.identity.models import OrgUnit, User

DIRECTORY = [
    {"external_id": "ZW-0001", "username": "xh_zhou", "real_name": "周一", "phone": "13900000001", "tenant": "330106",
     "section": "330106-SL", "roles": ["acceptor"]},
    {"external_id": "ZW-0002", "username": "xh_wu", "real_name": "吴二", "tenant": "330106", "section": "330106-SH",
     "roles": ["reviewer"]},
    {"external_id": "ZW-0003", "username": "yh_zheng", "real_name": "郑三", "tenant": "330110",
     "roles": ["recorder", "certifier"]},
]


def _snapshot(db: Any) -> dict[str, tuple[Any, ...]]:
    with db.unit_of_work() as session:
        return {u.username: (u.external_id, u.real_name, u.phone, u.tenant_id, u.org_unit_id, tuple(u.role_codes),
                             u.is_active, u.password_hash)
                for u in session.execute(select(User).where(User.external_id.is_not(None))).scalars()}


def test_api_sync_is_idempotent_and_reports_counts(login: Any, db: Any) -> None:
    ops = login("ops")
    first = ops.post("/api/v1/admin/users/sync", json={"users": DIRECTORY})
    assert first.status_code == 200, first.get_json()
    assert first.get_json() == {"created": 3, "updated": 0, "disabled": 0, "unchanged": 0}
    before = _snapshot(db)
    with db.unit_of_work() as session:
        section = session.execute(select(OrgUnit).where(OrgUnit.code == "330106-SL")).scalar_one()
    assert before["xh_zhou"][1:6] == ("周一", "13900000001", "330106", section.id, ("acceptor",))

    second = ops.post("/api/v1/admin/users/sync", json={"users": DIRECTORY})
    assert second.get_json() == {"created": 0, "updated": 0, "disabled": 0, "unchanged": 3}
    assert _snapshot(db) == before  # nothing changed, not even the random initial passwords

    changed = [dict(DIRECTORY[0], roles=["acceptor", "reviewer"]), dict(DIRECTORY[1], enabled=False), DIRECTORY[2]]
    third = ops.post("/api/v1/admin/users/sync", json={"users": changed})
    assert third.get_json() == {"created": 0, "updated": 1, "disabled": 1, "unchanged": 1}
    after = _snapshot(db)
    assert after["xh_zhou"][5] == ("acceptor", "reviewer") and after["xh_wu"][6] is False

    full = ops.post("/api/v1/admin/users/sync", json={"users": changed[:2], "full": True})
    assert full.get_json() == {"created": 0, "updated": 0, "disabled": 1, "unchanged": 2}
    assert _snapshot(db)["yh_zheng"][6] is False
    # demo accounts that never came from the platform are left alone by a full sync
    with db.unit_of_work() as session:
        assert session.execute(select(User.is_active).where(User.username == "xh_acceptor")).scalar_one() is True


def test_bad_records_are_named_by_line_and_nothing_is_written(login: Any, db: Any) -> None:
    ops = login("ops")
    bad = [DIRECTORY[0],
           {"external_id": "ZW-0009", "username": "xh_acceptor", "roles": ["acceptor"], "tenant": "330106"},
           {"external_id": "ZW-0010", "username": "x1", "roles": ["pilot"], "tenant": "999999"},
           {"external_id": "ZW-0011", "username": "x2", "roles": ["acceptor"], "tenant": "330110",
            "section": "330106-SL", "enabled": "maybe"},
           {"username": "x3", "roles": []}]
    resp = ops.post("/api/v1/admin/users/sync", json={"users": bad})
    body = resp.get_json()
    assert resp.status_code == 422 and "4 条记录有误" in body["detail"]
    assert body["errors"] == {
        "users[2]": ["第 2 条：用户名 xh_acceptor 已被本平台其他账户使用"],
        "users[3]": ["第 3 条：未知角色：pilot；未知辖区：999999"],
        "users[4]": ["第 4 条：科室 330106-SL 不属于辖区 330110；enabled 应为 true 或 false，而不是 maybe"],
        "users[5]": ["第 5 条：缺少人员标识 external_id（不超过 64 字符）；缺少角色 roles"],
    }
    assert _snapshot(db) == {}


def test_sync_needs_the_permission(login: Any) -> None:
    for username in ("xh_acceptor", "analyst", "zhangsan"):
        assert login(username).post("/api/v1/admin/users/sync", json={"users": DIRECTORY}).status_code == 403
    # the anonymous caller is refused before its (malformed) input is read
    assert login("ops").client.post("/api/v1/admin/users/sync", json={"users": "x"}).status_code == 401


def test_cli_sync_from_csv_and_jsonl(seeded: Any, db: Any, tmp_path: Path) -> None:
    path = tmp_path / "directory.csv"
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=["external_id", "username", "real_name", "phone", "tenant",
                                                    "section",
                                                    "roles", "enabled"])
        writer.writeheader()
        for record in DIRECTORY:
            writer.writerow({**record, "roles": ";".join(record["roles"]), "enabled": "是"})
    runner = seeded.test_cli_runner()
    first = runner.invoke(args=["users", "sync", str(path)])
    assert first.exit_code == 0, first.output
    assert "新增 3 人，更新 0 人，停用 0 人，未变化 0 人" in first.output
    again = runner.invoke(args=["users", "sync", str(path)])
    assert "新增 0 人，更新 0 人，停用 0 人，未变化 3 人" in again.output

    lines = tmp_path / "directory.jsonl"
    lines.write_text("\n".join([json.dumps(DIRECTORY[0], ensure_ascii=False), "{not json",
                                json.dumps({**DIRECTORY[1], "roles": ["nobody"]}, ensure_ascii=False)]),
                     encoding="utf-8")
    refused = runner.invoke(args=["users", "sync", str(lines)])
    assert refused.exit_code == 1
    assert "第 2 行：不是有效的 JSON" in refused.output and "第 3 行：未知角色：nobody" in refused.output
    assert "未写入任何数据" in refused.output
    with db.unit_of_work() as session:
        assert session.execute(select(func.count()).select_from(User).where(User.external_id.is_not(None))
                               ).scalar_one() == 3
