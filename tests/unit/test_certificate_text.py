"""Certificate text never breaks a number across lines, and a unit's outline is read from JSON or WKT-like text
with a Chinese reason for every bad value."""
from __future__ import annotations

import io
import re

import pytest
from pypdf import PdfReader

from app.registry.certificate_pdf import CertificatePage, font_name, render_certificate
from app.registry.certificate_text import fit_text, tokens
from app.registry.unit_plan import OutlineError, area, parse_outline, parse_part

ID_NUMBER = "330106198503120031"
UNIT_CODE = "330106 001001 GB00100 F00010101"
CERT_NO = "浙(2026)西湖区不动产权第0000001号"


def test_numbers_brackets_and_closing_punctuation_stay_with_their_neighbours() -> None:
    assert tokens(f"原证号：{CERT_NO}。") == ["原", "证号：", f"{CERT_NO}。"]
    assert tokens("（2024）浙0106执1234号") == ["（2024）", "浙", "0106", "执", "1234号"]
    assert UNIT_CODE in tokens(f"单元号{UNIT_CODE}。")[-1]
    assert tokens("面积 72.50㎡，")[-1] == "72.50㎡，"


def test_a_long_value_wraps_between_numbers_never_inside_one() -> None:
    font = font_name()
    text = "；".join(f"权利人{i}：张三{i}，身份证：{ID_NUMBER}，份额 1/3，单元号 {UNIT_CODE}" for i in range(4))
    size, lines = fit_text(text, font, 10.5, 200)
    assert size == 10.5 and len(lines) > 4
    joined = "\n".join(lines)
    assert joined.count(ID_NUMBER) == 4 and joined.count(UNIT_CODE) == 4  # whole on some line, never split


def test_a_number_wider_than_the_cell_shrinks_the_font_instead_of_breaking() -> None:
    font = font_name()
    size, lines = fit_text(ID_NUMBER, font, 10.5, 80)
    assert size < 10.5 and lines == [ID_NUMBER]


def test_the_rendered_pages_keep_every_number_on_one_line() -> None:
    location = "杭州市西湖区文三路" + "".join(f"{n}号楼{n + 1}单元{1000 + n}室" for n in range(10))
    page = CertificatePage(title="不动产权证书", number=CERT_NO, office="杭州市西湖区不动产登记中心",
                           issued_on="2026年12月05日", verify_url="http://127.0.0.1:5000/verify/ABC",
                           rows=[("权利人", "张三"), ("坐落", location), ("不动产单元号", UNIT_CODE)],
                           notes=[f"权利人：张三，身份证：{ID_NUMBER}；" * 3], plan_page=True)
    pdf = PdfReader(io.BytesIO(render_certificate(page)))
    assert len(pdf.pages) == 3
    register, notes, plan = ([line.strip() for line in p.extract_text().splitlines()] for p in pdf.pages)
    wrapped = register[register.index("坐落") + 1:register.index("不动产单元号")]
    assert len(wrapped) > 1 and "".join(wrapped) == location  # the 坐落 wrapped …
    for number in re.findall(r"\d+", location):  # … but every number sits whole on one line
        assert any(re.search(rf"(?<!\d){number}(?!\d)", line) for line in wrapped), number
    assert UNIT_CODE in register and CERT_NO in register
    assert sum(line.count(ID_NUMBER) for line in notes) == 3
    assert "附图存于不动产登记簿" in plan  # no outline given: the statement, not a drawing


def test_outlines_are_read_from_json_or_wkt_like_text() -> None:
    square = [[0.0, 0.0], [10.0, 0.0], [10.0, 10.0], [0.0, 10.0]]
    assert parse_outline("0 0, 10 0, 10 10, 0 10, 0 0", None) == {"parcel": [square]}
    assert parse_outline(None, "[[0, 0], [10, 0], [10, 10], [0, 10]]") == {"building": [square]}
    assert parse_outline("POLYGON((0 0, 10 0, 10 10, 0 10, 0 0))", [square, [[20, 0], [30, 0], [30, 5]]]) == \
        {"parcel": [square], "building": [square, [[20.0, 0.0], [30.0, 0.0], [30.0, 5.0]]]}
    assert parse_outline("0 0, 10 0, 10 10; 20 20, 30 20, 30 30", "") == \
        {"parcel": [[[0.0, 0.0], [10.0, 0.0], [10.0, 10.0]], [[20.0, 20.0], [30.0, 20.0], [30.0, 30.0]]]}
    assert parse_outline(None, " ") is None
    assert area([(0, 0), (10, 0), (10, 6), (6, 6), (6, 10), (0, 10)]) == 84


@pytest.mark.parametrize(("raw", "reason"), [
    ("0 0, 10 x, 10 10", "宗地图形（parcel_outline）第 2 个点的坐标“x”不是数字"),
    ("0 0, 10 0", "宗地图形（parcel_outline）至少应有 3 个互不相同的点"),
    ("0 0, 10 10, 10 0, 0 10", "宗地图形（parcel_outline）的边自相交"),
    ("0 0, 5 5, 10 10", "宗地图形（parcel_outline）面积为 0"),
    ("[[0, 0], [10, 0]", "宗地图形（parcel_outline）不是有效的 JSON"),
    ("0 0 0, 10 0, 10 10", "宗地图形（parcel_outline）第 1 个点应为两个数（x y）"),
    ("0 0, 1e9 0, 10 10", "超出范围"),
    ([[[0, 0], [1, 0], [1, 1]], "x"], "宗地图形（parcel_outline）第 2 个多边形应为点的数组"),
])
def test_a_bad_outline_says_what_is_wrong_and_where(raw: object, reason: str) -> None:
    with pytest.raises(OutlineError) as caught:
        parse_part(raw, "宗地图形（parcel_outline）")
    assert reason in str(caught.value)


def test_the_plan_is_drawn_at_a_standard_scale_that_fits_its_panel() -> None:
    from reportlab.lib.units import mm

    from app.registry.certificate_plan import map_scale

    flat = [(0.0, 0.0), (10.0, 0.0), (10.0, 8.0), (0.0, 8.0)]
    assert map_scale([flat], 130 * mm, 80 * mm) == 100  # 10 m → 100 mm at 1:100
    assert map_scale([[(0.0, 0.0), (120.0, 0.0), (120.0, 80.0)]], 130 * mm, 80 * mm) == 1000
    huge = [(0.0, 0.0), (200000.0, 0.0), (200000.0, 1000.0)]
    n = map_scale([huge], 130 * mm, 80 * mm)
    assert n % 10000 == 0 and 200000 * 1000 / n <= 130  # past 1:50000 it still fits
