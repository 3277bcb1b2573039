"""The certificate's 附图 page: the 宗地图 (parcel) and the 房产分户图 (the unit's floor plan) drawn as vector
paths from the outline the register book holds (``RealtyUnit.outline``, ``unit_plan``).

Drawn at a standard map scale (1:100 … 1:10000, the largest that fits), with each side's length in metres,
a north arrow and the recorded areas, so the drawing reads like the surveyed plan it comes from. A unit the
book holds no outline for gets a page that says where the plan is kept, never an invented drawing.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from app.pdf_page import BLACK, Rgb, mm
from app.registry.unit_plan import Point, Polygon

if TYPE_CHECKING:
    from reportlab.pdfgen.canvas import Canvas

SCALES = (100, 200, 250, 500, 1000, 2000, 2500, 5000, 10000, 20000, 50000)
PARCEL_FILL: Rgb = (0.93, 0.95, 0.98)
BUILDING_FILL: Rgb = (0.96, 0.93, 0.88)
NOT_RECORDED = "附图存于不动产登记簿"


@dataclass(frozen=True)
class UnitPlan:
    """What the 附图 page draws, read from the book by ``certificate_content``."""

    parcel: list[Polygon] = field(default_factory=list)
    building: list[Polygon] = field(default_factory=list)
    parcel_area: str | None = None  # "9600.00" (共有)宗地面积, when recorded
    building_area: str | None = None  # "72.00" 房屋建筑面积

    @property
    def drawn(self) -> bool:
        return bool(self.parcel or self.building)


def map_scale(polygons: list[Polygon], width: float, height: float) -> int:
    """The largest standard scale 1:N at which the polygons fit ``width`` × ``height`` points (past 1:50000, the
    next multiple of 10000 that fits)."""
    xs = [x for polygon in polygons for x, _ in polygon]
    ys = [y for polygon in polygons for _, y in polygon]
    span_x, span_y = max(xs) - min(xs), max(ys) - min(ys)
    for n in SCALES:
        per_metre = 1000 * mm / n
        if span_x * per_metre <= width and span_y * per_metre <= height:
            return n
    return math.ceil(max(span_x * 1000 * mm / width, span_y * 1000 * mm / height) / 10000) * 10000


def side_length(a: Point, b: Point) -> str:
    """A side's surveyed length as the plan writes it beside the side (metres, two decimals)."""
    return f"{math.hypot(b[0] - a[0], b[1] - a[1]):.2f}"


def panels(plan: UnitPlan) -> list[tuple[str, list[Polygon], str | None, Rgb]]:
    """The 附图's two drawings, top to bottom: (title, polygons, area caption, fill) — for the certificate's
    page and for the 缮证 preview alike."""
    return [("宗地图", plan.parcel, f"宗地面积 {plan.parcel_area}㎡" if plan.parcel_area else None, PARCEL_FILL),
            ("房产分户图", plan.building, f"建筑面积 {plan.building_area}㎡" if plan.building_area else None,
             BUILDING_FILL)]


def _north_arrow(c: Canvas, font: str, x: float, y: float) -> None:
    arrow = c.beginPath()
    arrow.moveTo(x, y + 9 * mm)
    arrow.lineTo(x - 2.2 * mm, y + 2 * mm)
    arrow.lineTo(x, y + 3.5 * mm)
    arrow.lineTo(x + 2.2 * mm, y + 2 * mm)
    arrow.close()
    c.drawPath(arrow, stroke=1, fill=1)
    c.setFont(font, 8)
    c.drawCentredString(x, y - 1.5 * mm, "北")


def _edge_labels(c: Canvas, font: str, polygon: Polygon, on_paper: list[Point]) -> None:
    """Each side's surveyed length (metres) beside its middle, pushed away from the polygon's centre."""
    centre = (sum(x for x, _ in on_paper) / len(on_paper), sum(y for _, y in on_paper) / len(on_paper))
    c.setFont(font, 6.5)
    sides = zip(polygon, polygon[1:] + polygon[:1], on_paper, on_paper[1:] + on_paper[:1], strict=True)
    for (x1, y1), (x2, y2), (px1, py1), (px2, py2) in sides:
        if math.hypot(px2 - px1, py2 - py1) < 22:  # too short on paper to carry its length
            continue
        mx, my = (px1 + px2) / 2, (py1 + py2) / 2
        nx, ny = py2 - py1, px1 - px2  # a normal of the side, turned to point away from the centre
        if nx * (mx - centre[0]) + ny * (my - centre[1]) < 0:
            nx, ny = -nx, -ny
        text = side_length((x1, y1), (x2, y2))
        if abs(nx) > abs(ny):  # an upright side: the length beside it, outside
            (c.drawString if nx > 0 else c.drawRightString)(mx + (3 if nx > 0 else -3), my - 2, text)
        else:
            c.drawCentredString(mx, my + (3 if ny > 0 else -8), text)


def _panel(c: Canvas, font: str, title: str, polygons: list[Polygon], area_text: str | None,
           box: tuple[float, float, float, float], fill: Rgb) -> None:
    left, bottom, right, top = box
    c.setLineWidth(0.6)
    c.rect(left, bottom, right - left, top - bottom, stroke=1, fill=0)
    c.setFont(font, 12)
    c.drawString(left + 4 * mm, top - 8 * mm, title)
    if not polygons:
        c.setFont(font, 10)
        c.drawCentredString((left + right) / 2, (bottom + top) / 2, f"{title}{NOT_RECORDED}")
        return
    inner_w, inner_h = right - left - 36 * mm, top - bottom - 24 * mm
    n = map_scale(polygons, inner_w, inner_h)
    per_metre = 1000 * mm / n
    c.setFont(font, 9)
    caption = f"比例尺 1:{n}" + (f"    {area_text}" if area_text else "")
    c.drawRightString(right - 4 * mm, top - 8 * mm, caption)
    xs = [x for polygon in polygons for x, _ in polygon]
    ys = [y for polygon in polygons for _, y in polygon]
    cx = (left + right) / 2 - (min(xs) + max(xs)) / 2 * per_metre
    cy = (bottom + top - 6 * mm) / 2 - (min(ys) + max(ys)) / 2 * per_metre
    c.saveState()
    c.setFillColorRGB(*fill)
    c.setStrokeColorRGB(*BLACK)
    c.setLineWidth(1.1)
    for polygon in polygons:
        on_paper = [(cx + x * per_metre, cy + y * per_metre) for x, y in polygon]
        path = c.beginPath()
        path.moveTo(*on_paper[0])
        for point in on_paper[1:]:
            path.lineTo(*point)
        path.close()
        c.drawPath(path, stroke=1, fill=1)
        c.setFillColorRGB(*BLACK)
        _edge_labels(c, font, polygon, on_paper)
        c.setFillColorRGB(*fill)
    c.restoreState()
    _north_arrow(c, font, right - 10 * mm, bottom + 8 * mm)
    c.setFont(font, 7.5)
    c.drawString(left + 4 * mm, bottom + 4 * mm, "单位：米")


def draw_plan(c: Canvas, font: str, plan: UnitPlan | None, box: tuple[float, float, float, float]) -> None:
    """The 附图 inside ``box`` (left, bottom, right, top): both drawings stacked, or the statement that the
    plan is kept in the register when the book holds no outline for the unit."""
    left, bottom, right, top = box
    if plan is None or not plan.drawn:
        c.setLineWidth(0.6)
        c.rect(left, bottom, right - left, top - bottom, stroke=1, fill=0)
        c.setFont(font, 14)
        c.drawCentredString((left + right) / 2, (bottom + top) / 2 + 4 * mm, NOT_RECORDED)
        c.setFont(font, 10)
        c.drawCentredString((left + right) / 2, (bottom + top) / 2 - 6 * mm,
                            "本单元的宗地图、房产分户图以登记簿记载为准，可向登记机构申请查阅")
        return
    middle = (bottom + top) / 2
    gap = 3 * mm
    (parcel, building) = panels(plan)
    _panel(c, font, *parcel[:3], (left, middle + gap, right, top), parcel[3])
    _panel(c, font, *building[:3], (left, bottom, right, middle - gap), building[3])
