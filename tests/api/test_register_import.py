"""Importing existing register data: ``flask registry import FILE [--dry-run]`` loads JSON Lines or CSV all or
nothing, reports every bad line with a Chinese reason, skips units already imported with the same content
and refuses units whose content differs."""
from __future__ import annotations

import csv
import json
from pathlib import Path
from typing import Any

from flask import Flask
from sqlalchemy import func, select

from app.config import ROOT
from app.import_files import CSV_COLUMNS, UNIT_FIELDS
from app.registry.models import RealtyUnit, RegisterEntry, Right, RightHolder

EXAMPLE = ROOT / "dictionaries" / "register_import_example.jsonl"


def run_import(app: Flask, path: Path, *extra: str) -> Any:
    return app.test_cli_runner().invoke(args=["registry", "import", str(path), *extra])


def example_records() -> list[dict[str, Any]]:
    return [json.loads(line) for line in EXAMPLE.read_text(encoding="utf-8").splitlines() if line.strip()]


def write_jsonl(path: Path, records: list[Any]) -> Path:
    path.write_text("".join((r if isinstance(r, str) else json.dumps(r, ensure_ascii=False)) + "\n"
                            for r in records), encoding="utf-8")
    return path


def write_csv(path: Path, records: list[dict[str, Any]]) -> Path:
    """The same records flattened to one row per right holder."""
    with path.open("w", encoding="utf-8", newline="") as fh:
        out = csv.DictWriter(fh, fieldnames=CSV_COLUMNS)
        out.writeheader()
        for unit in records:
            base = {k: unit.get(k) if isinstance(unit.get(k), str | int | float | None) else json.dumps(unit[k])
                    for k in UNIT_FIELDS}
            for right in unit["rights"]:
                for holder in right["holders"]:
                    out.writerow({**base, "right_type": right["type"], "business_no": right["business_no"],
                                  "cert_no": right.get("cert_no"), "amount_yuan": right.get("amount_yuan"),
                                  "registered_at": right["registered_at"],
                                  "details": json.dumps(right["details"], ensure_ascii=False)
                                  if right.get("details") else "",
                                  "holder_name": holder["name"], "holder_id_type": holder["id_type"],
                                  "holder_id_number": holder["id_number"], "share": holder.get("share"),
                                  "share_mode": holder.get("share_mode")})
    return path


def count(app: Flask, model: Any) -> int:
    with app.extensions["db"].unit_of_work() as session:
        return session.execute(select(func.count()).select_from(model)).scalar_one()


def test_the_example_file_loads_with_one_initial_entry_per_right(seeded: Flask) -> None:
    units, entries = count(seeded, RealtyUnit), count(seeded, RegisterEntry)
    result = run_import(seeded, EXAMPLE)
    assert result.exit_code == 0, result.output
    assert "新增 4 个单元（7 项权利）" in result.output
    assert count(seeded, RealtyUnit) == units + 4 and count(seeded, RegisterEntry) == entries + 7
    with seeded.extensions["db"].unit_of_work() as session:
        unit = session.execute(select(RealtyUnit).where(RealtyUnit.unit_code == "330110002003GB00501F00010103"))\
            .scalar_one()
        kinds = session.execute(select(RegisterEntry.kind).where(RegisterEntry.unit_id == unit.id)
                                .order_by(RegisterEntry.seq)).scalars().all()
        assert kinds == ["initial_ownership", "initial_advance_notice"]
        ownership = session.execute(select(Right).where(Right.unit_id == unit.id, Right.right_type == "ownership"))\
            .scalar_one()
        assert ownership.created_at.isoformat() == "2016-06-01T16:00:00+00:00"  # 2016-06-02 in Beijing time
        assert [(h.name, h.share, h.share_mode) for h in ownership.holders] == [("吴丽华", "60%", "按份共有"),
                                                                               ("冯小雨", "40%", "按份共有")]
        assert "吴丽华".encode() not in ownership.holders[0].name_enc
    verify = seeded.test_cli_runner().invoke(args=["registry", "verify"])
    assert verify.exit_code == 0, verify.output


def test_re_importing_the_same_file_skips_every_unit(seeded: Flask) -> None:
    assert run_import(seeded, EXAMPLE).exit_code == 0
    entries = count(seeded, RegisterEntry)
    again = run_import(seeded, EXAMPLE)
    assert again.exit_code == 0, again.output
    assert "新增 0 个单元（0 项权利），跳过已存在且内容相同的 4 个单元" in again.output
    assert count(seeded, RegisterEntry) == entries


def test_every_bad_line_is_reported_and_nothing_is_loaded(seeded: Flask, tmp_path: Path) -> None:
    good, bad_id, other_office, bad_values = example_records()
    bad_id["rights"][0]["holders"][0]["id_number"] = bad_id["rights"][0]["holders"][0]["id_number"][:17] + "0"
    other_office["unit_code"] = "330106" + other_office["unit_code"][6:]
    bad_values["area_m2"] = "很大"
    bad_values["rights"][1]["type"] = "lease"
    path = write_jsonl(tmp_path / "bad.jsonl", [good, bad_id, other_office, bad_values, "{not json", good])
    units, entries, holders = count(seeded, RealtyUnit), count(seeded, RegisterEntry), count(seeded, RightHolder)

    result = run_import(seeded, path)

    assert result.exit_code == 1
    errors = result.stderr
    assert "第 2 行：权利1（业务号 201633011010000102）权利人1证件号码：身份证号校验位错误" in errors
    assert "第 3 行：不动产单元代码前6位 330106 不在登记机构 330110 的辖区内" in errors
    assert "第 4 行：面积（area_m2）应为数字，实为“很大”" in errors
    assert "第 4 行：权利2类型“lease”无效" in errors
    assert "第 5 行：不是有效的 JSON" in errors
    assert "第 6 行：不动产单元 330110002003GB00501F00010101 与第 1 行重复" in errors
    assert "第 1 行：" not in errors and "未写入任何数据" in errors
    assert (count(seeded, RealtyUnit), count(seeded, RegisterEntry), count(seeded, RightHolder)) == \
        (units, entries, holders)


def test_a_unit_already_in_the_book_with_different_content_is_refused(seeded: Flask, tmp_path: Path) -> None:
    assert run_import(seeded, EXAMPLE).exit_code == 0
    records = example_records()
    records[2]["rights"][0]["holders"][1]["name"] = "冯小雪"
    records.append({**records[0], "unit_code": "330110002003GB00501F00010105",
                    "location": "杭州市余杭区良渚街道示例路1号1幢105室"})
    units = count(seeded, RealtyUnit)
    result = run_import(seeded, write_jsonl(tmp_path / "changed.jsonl", records))
    assert result.exit_code == 1
    assert "第 3 行：不动产单元 330110002003GB00501F00010103 已在登记簿中且内容不同，不予覆盖" in result.stderr
    assert count(seeded, RealtyUnit) == units  # the new fifth unit is not loaded either


def test_a_demo_unit_is_conflicting_when_its_owner_differs(seeded: Flask, tmp_path: Path) -> None:
    from app.demo import unit_records

    record = unit_records("330106", "西湖区", "文三路")[0]
    assert run_import(seeded, write_jsonl(tmp_path / "same.jsonl", [record])).output.count("跳过已存在且内容相同的 1")
    record["rights"][0]["holders"][0]["name"] = "张四"
    assert run_import(seeded, write_jsonl(tmp_path / "other.jsonl", [record])).exit_code == 1


def test_the_csv_variant_loads_the_same_book(seeded: Flask, tmp_path: Path) -> None:
    path = EXAMPLE.with_suffix(".csv")
    assert path.read_text(encoding="utf-8") == write_csv(tmp_path / "example.csv", example_records())\
        .read_text(encoding="utf-8")  # the shipped CSV example is the JSON Lines example, flattened
    result = run_import(seeded, path)
    assert result.exit_code == 0, result.output
    assert "新增 4 个单元（7 项权利）" in result.output
    same = run_import(seeded, EXAMPLE)  # the JSON Lines file describes exactly what the CSV loaded
    assert same.exit_code == 0 and "跳过已存在且内容相同的 4 个单元" in same.output, same.output


def test_csv_problems_point_at_the_row(seeded: Flask, tmp_path: Path) -> None:
    path = write_csv(tmp_path / "bad.csv", example_records())
    lines = path.read_text(encoding="utf-8").splitlines()
    lines[3] = lines[3].replace("92.35", "93.35")  # row 4: second holder of unit 102 disagrees on the area
    lines[6] = lines[6].replace("按份共有", "单独所有")  # row 7: a co-owner marked as sole owner
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    result = run_import(seeded, path)
    assert result.exit_code == 1
    assert "第 4 行：同一单元在第 3 行的 area_m2 与本行不一致" in result.stderr
    assert "第 7 行：权利1（业务号 201633011010000103）权利人2共有方式为单独所有，但该权利有多个权利人" in result.stderr


def test_dry_run_reports_without_writing_and_bad_input_exits_non_zero(seeded: Flask, tmp_path: Path) -> None:
    units = count(seeded, RealtyUnit)
    dry = run_import(seeded, EXAMPLE, "--dry-run")
    assert dry.exit_code == 0 and "（试运行，未写入）可新增 4 个单元" in dry.output, dry.output
    assert count(seeded, RealtyUnit) == units
    assert run_import(seeded, tmp_path / "missing.jsonl").exit_code == 2
    (tmp_path / "units.xlsx").write_bytes(b"PK")
    assert run_import(seeded, tmp_path / "units.xlsx").exit_code == 1


def test_seeding_the_demo_twice_adds_nothing(seeded: Flask) -> None:
    from app.demo import seed_demo

    entries = count(seeded, RegisterEntry)
    with seeded.extensions["db"].unit_of_work() as session:
        assert seed_demo(session).endswith("0 new units)")
    assert count(seeded, RegisterEntry) == entries and count(seeded, RealtyUnit) == 58  # 2 × (24 + 4) + 示范村 2
