"""A unit's recorded outline (界址 / 分户 geometry) — the 宗地图 and 房产分户图 the certificate's 附图 page draws.

Stored on ``RealtyUnit.outline`` as ``{"parcel": [polygon, …], "building": [polygon, …]}``: each polygon a list
of ``[x, y]`` points in metres (a local survey frame; x east, y north), closed implicitly. ``parcel`` is the
宗地 boundary, ``building`` the unit's own floor plan (户). Either may be missing; a unit without any outline
has ``None`` and its certificate says the plan is kept in the register.

The importer reads each as JSON (``[[x, y], …]`` or a list of such polygons) or as WKT-like text
(``"x y, x y, …"``, polygons separated by ``;``, optionally ``POLYGON((…))``). Every problem is a Chinese
sentence naming the column and the polygon/point, so a clerk can fix the file.
"""
from __future__ import annotations

import json
import math
import re
from typing import Any

PARTS = {"parcel": "宗地图形（parcel_outline）", "building": "房屋图形（building_outline）"}
MAX_POLYGONS = 20
MAX_POINTS = 500
MAX_COORD = 100_000.0  # metres from the survey origin
_WKT = re.compile(r"^\s*(?:MULTI)?POLYGON\s*\((.*)\)\s*$", re.IGNORECASE | re.DOTALL)

Point = tuple[float, float]
Polygon = list[Point]


class OutlineError(ValueError):
    """A Chinese message naming what is wrong (the caller adds the line and the column)."""


def _number(value: Any, where: str) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        raise OutlineError(f"{where}的坐标应为数字")
    try:
        number = float(str(value).strip())
    except ValueError:
        raise OutlineError(f"{where}的坐标“{value}”不是数字") from None
    if not math.isfinite(number) or abs(number) > MAX_COORD:
        raise OutlineError(f"{where}的坐标“{value}”超出范围（以米为单位，绝对值不超过 {MAX_COORD:.0f}）")
    return round(number, 2)


def _point(raw: Any, where: str) -> Point:
    if isinstance(raw, str):
        raw = raw.split()
    if not isinstance(raw, list | tuple) or len(raw) != 2:
        raise OutlineError(f"{where}应为两个数（x y），实为“{_show(raw)}”")
    return _number(raw[0], where), _number(raw[1], where)


def _show(raw: Any) -> str:
    text = " ".join(map(str, raw)) if isinstance(raw, list | tuple) else str(raw)
    return text if len(text) <= 30 else text[:30] + "…"


def _text_polygons(text: str) -> list[Any]:
    """``"0 0, 20 0, 20 15; 30 0, …"`` or ``POLYGON((0 0, 20 0, …))`` → lists of ``"x y"`` strings."""
    match = _WKT.match(text)
    if match:
        body = match.group(1).strip()
        rings = re.findall(r"\(\s*([^()]*?)\s*\)", body)
        if not rings:
            raise OutlineError("POLYGON 的写法应为 POLYGON((x y, x y, …))")
        return [ring.split(",") for ring in rings]
    return [part.split(",") for part in text.split(";") if part.strip()]


def _polygons(raw: Any) -> list[Any]:
    if isinstance(raw, str):
        text = raw.strip()
        if text.startswith("["):
            try:
                raw = json.loads(text)
            except json.JSONDecodeError as exc:
                raise OutlineError(f"不是有效的 JSON（第 {exc.colno} 个字符：{exc.msg}）") from None
        else:
            return _text_polygons(text)
    if not isinstance(raw, list) or not raw:
        raise OutlineError("应为坐标串“x y, x y, …”或 JSON 数组 [[x, y], …]")
    first = raw[0]
    is_single = isinstance(first, list | tuple) and first and not isinstance(first[0], list | tuple)
    return [raw] if is_single else raw


def _segments_cross(a: Point, b: Point, c: Point, d: Point) -> bool:
    def side(p: Point, q: Point, r: Point) -> float:
        return (q[0] - p[0]) * (r[1] - p[1]) - (q[1] - p[1]) * (r[0] - p[0])

    d1, d2, d3, d4 = side(c, d, a), side(c, d, b), side(a, b, c), side(a, b, d)
    return d1 * d2 < 0 and d3 * d4 < 0


def _self_crossing(points: Polygon) -> bool:
    n = len(points)
    edges = [(points[i], points[(i + 1) % n]) for i in range(n)]
    for i in range(n):
        for j in range(i + 2, n):
            if i == 0 and j == n - 1:
                continue  # neighbours through the closing edge
            if _segments_cross(*edges[i], *edges[j]):
                return True
    return False


def area(points: Polygon) -> float:
    """Shoelace area in square metres (always positive)."""
    total = sum(x1 * y2 - x2 * y1 for (x1, y1), (x2, y2) in zip(points, points[1:] + points[:1], strict=True))
    return abs(total) / 2


def parse_part(raw: Any, label: str) -> list[Polygon]:
    """One column's value → checked polygons, or ``OutlineError`` with ``label`` (the column) in its text."""
    try:
        found = _polygons(raw)
    except OutlineError as exc:
        raise OutlineError(f"{label}{exc}") from None
    if len(found) > MAX_POLYGONS:
        raise OutlineError(f"{label}最多 {MAX_POLYGONS} 个多边形")
    polygons: list[Polygon] = []
    for n, polygon_raw in enumerate(found, start=1):
        where = f"{label}第 {n} 个多边形" if len(found) > 1 else label
        if not isinstance(polygon_raw, list | tuple):
            raise OutlineError(f"{where}应为点的数组")
        points = [_point(p, f"{where}第 {i} 个点") for i, p in enumerate(polygon_raw, start=1)
                  if not (isinstance(p, str) and not p.strip())]
        if len(points) > 1 and points[0] == points[-1]:
            points.pop()  # a closed ring repeats its first point
        if len(points) > MAX_POINTS:
            raise OutlineError(f"{where}最多 {MAX_POINTS} 个点")
        if len(set(points)) < 3 or len(set(points)) != len(points):
            raise OutlineError(f"{where}至少应有 3 个互不相同的点（不含闭合点）")
        if _self_crossing(points):
            raise OutlineError(f"{where}的边自相交，请按顺序列出界址点")
        if area(points) < 0.01:
            raise OutlineError(f"{where}面积为 0（各点共线）")
        polygons.append(points)
    return polygons


def parse_outline(parcel: Any, building: Any) -> dict[str, list[list[list[float]]]] | None:
    """Both columns (either may be empty) → the stored JSON shape, ``None`` when neither is given."""
    outline: dict[str, list[list[list[float]]]] = {}
    for key, raw in (("parcel", parcel), ("building", building)):
        if raw is None or (isinstance(raw, str) and not raw.strip()):
            continue
        outline[key] = [[[x, y] for x, y in polygon] for polygon in parse_part(raw, PARTS[key])]
    return outline or None


def polygons_of(outline: dict[str, Any] | None, key: str) -> list[Polygon]:
    """The stored polygons of one part as point tuples (empty when not recorded)."""
    return [[(float(x), float(y)) for x, y in polygon] for polygon in (outline or {}).get(key) or []]
