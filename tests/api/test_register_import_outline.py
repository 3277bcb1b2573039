"""The register import reads a unit's survey geometry — 共有宗地面积 and the outline the certificate's 附图 draws —
from JSON or WKT-like text, refuses a bad outline with the row and the column, adds geometry to a unit the book
holds without any, and refuses geometry that differs from the book's."""
from __future__ import annotations

from pathlib import Path
from typing import Any

from flask import Flask
from sqlalchemy import select
from test_register_import import EXAMPLE, count, example_records, run_import, write_csv, write_jsonl

from app.registry.models import RealtyUnit

FIRST = "330110002003GB00501F00010101"


def unit(app: Flask, code: str) -> dict[str, Any]:
    with app.extensions["db"].unit_of_work() as session:
        row = session.execute(select(RealtyUnit).where(RealtyUnit.unit_code == code)).scalar_one()
        return {"land_area_m2": row.land_area_m2, "outline": row.outline}


def test_the_example_outline_is_read_from_text_and_from_json(seeded: Flask) -> None:
    result = run_import(seeded, EXAMPLE)
    assert result.exit_code == 0, result.output
    first = unit(seeded, FIRST)
    assert str(first["land_area_m2"]) == "3250.65"
    assert first["outline"] == {"parcel": [[[0.0, 0.0], [65.0, 0.0], [65.0, 50.01], [0.0, 50.01]]],
                                "building": [[[0.0, 0.0], [9.5, 0.0], [9.5, 6.0], [12.0, 6.0], [12.0, 10.8],
                                              [0.0, 10.8]]]}
    assert unit(seeded, "330110002003GB00501F00010102") == {"land_area_m2": None, "outline": None}


def test_a_bad_outline_is_refused_with_its_row_and_column(seeded: Flask, tmp_path: Path) -> None:
    records = example_records()
    records[1]["parcel_outline"] = "0 0, 30 0, 30 x, 0 20"
    records[2]["building_outline"] = [[0, 0], [10, 10], [10, 0], [0, 10]]
    records[3]["land_area_m2"] = "-5"
    units = count(seeded, RealtyUnit)

    result = run_import(seeded, write_jsonl(tmp_path / "bad.jsonl", records))
    assert result.exit_code == 1
    assert "第 2 行：宗地图形（parcel_outline）第 3 个点的坐标“x”不是数字" in result.stderr
    assert "第 3 行：房屋图形（building_outline）的边自相交，请按顺序列出界址点" in result.stderr
    assert "第 4 行：共有宗地面积（land_area_m2）应大于 0" in result.stderr
    assert "未写入任何数据" in result.stderr and count(seeded, RealtyUnit) == units

    csv_path = write_csv(tmp_path / "bad.csv", example_records())
    rows = csv_path.read_text(encoding="utf-8").splitlines()
    rows[1] = rows[1].replace('"0 0, 65 0, 65 50.01, 0 50.01"', '"0 0, 65 0"')
    csv_path.write_text("\n".join(rows) + "\n", encoding="utf-8")
    result = run_import(seeded, csv_path)
    assert result.exit_code == 1
    assert "第 2 行：宗地图形（parcel_outline）至少应有 3 个互不相同的点（不含闭合点）" in result.stderr


def test_geometry_is_added_to_a_unit_without_and_refused_when_it_differs(seeded: Flask, tmp_path: Path) -> None:
    bare = example_records()
    for field in ("land_area_m2", "parcel_outline", "building_outline"):
        bare[0].pop(field)
    assert run_import(seeded, write_jsonl(tmp_path / "bare.jsonl", bare)).exit_code == 0
    assert unit(seeded, FIRST)["outline"] is None

    surveyed = run_import(seeded, write_jsonl(tmp_path / "surveyed.jsonl", example_records()))
    assert surveyed.exit_code == 0, surveyed.output
    assert "跳过已存在且内容相同的 4 个单元，其中 1 个单元已补充宗地面积或附图图形" in surveyed.output
    assert unit(seeded, FIRST)["outline"]["parcel"][0][2] == [65.0, 50.01]

    moved = example_records()
    moved[0]["parcel_outline"] = "0 0, 66 0, 66 50, 0 50"
    refused = run_import(seeded, write_jsonl(tmp_path / "moved.jsonl", moved))
    assert refused.exit_code == 1
    assert f"第 1 行：不动产单元 {FIRST} 已在登记簿中且内容不同，不予覆盖" in refused.stderr
    assert unit(seeded, FIRST)["outline"]["parcel"][0][2] == [65.0, 50.01]


def test_the_demo_units_have_outlines_but_some_do_not(seeded: Flask) -> None:
    from app.demo import HOMESTEAD_UNIT, NO_OUTLINE_EVERY
    from app.identifiers import make_unit_code

    def demo(n: int) -> dict[str, Any]:
        return unit(seeded, make_unit_code("330106", 1, 1, "GB", 100 + (n - 1) // 8, 1 + (n - 1) // 8, 100 + n))

    assert demo(1)["outline"]["parcel"] and demo(1)["outline"]["building"]
    assert len(demo(2)["outline"]["building"][0]) == 6  # an L-shaped flat
    assert demo(NO_OUTLINE_EVERY) == {"land_area_m2": None, "outline": None}
    assert unit(seeded, HOMESTEAD_UNIT)["outline"] is None
