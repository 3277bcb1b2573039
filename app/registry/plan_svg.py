"""The certificate's 附图 as inline SVG, for the 缮证 screen: the certifier sees the unit plan the certificate will
carry before he confirms (issue 17). Drawn from the same ``UnitPlan`` and the same panels, side lengths and
captions as the PDF page (``certificate_plan``); only the surface differs (no map scale: the screen's size
is not paper's, the PDF preview has the scale)."""
from __future__ import annotations

import math

from markupsafe import Markup, escape

from app.pdf_page import Rgb
from app.registry.certificate_plan import NOT_RECORDED, UnitPlan, panels, side_length
from app.registry.unit_plan import Polygon

WIDTH, HEIGHT = 320, 240  # one panel, in CSS pixels
MARGIN = 34


def _hex(colour: Rgb) -> str:
    return "#" + "".join(f"{round(v * 255):02x}" for v in colour)


def _panel(title: str, polygons: list[Polygon], caption: str | None, fill: Rgb) -> str:
    head = f'<text x="6" y="16" font-size="13">{escape(title)}</text>'
    if caption:
        head += f'<text x="{WIDTH - 6}" y="16" font-size="11" text-anchor="end">{escape(caption)}</text>'
    frame = f'<rect x="0.5" y="0.5" width="{WIDTH - 1}" height="{HEIGHT - 1}" fill="none" stroke="#555"/>'
    if not polygons:
        return (f'{frame}{head}<text x="{WIDTH / 2}" y="{HEIGHT / 2}" font-size="12" text-anchor="middle">'
                f'{escape(title + NOT_RECORDED)}</text>')
    xs = [x for polygon in polygons for x, _ in polygon]
    ys = [y for polygon in polygons for _, y in polygon]
    per_metre = min((WIDTH - 2 * MARGIN) / max(max(xs) - min(xs), 0.01),
                    (HEIGHT - 2 * MARGIN - 14) / max(max(ys) - min(ys), 0.01))
    cx = WIDTH / 2 - (min(xs) + max(xs)) / 2 * per_metre
    cy = (HEIGHT + 14) / 2 + (min(ys) + max(ys)) / 2 * per_metre  # y grows downwards on screen: north up

    def at(x: float, y: float) -> tuple[float, float]:
        return round(cx + x * per_metre, 1), round(cy - y * per_metre, 1)

    shapes = []
    for polygon in polygons:
        on_screen = [at(x, y) for x, y in polygon]
        points = " ".join(f"{px},{py}" for px, py in on_screen)
        shapes.append(f'<polygon points="{points}" fill="{_hex(fill)}" stroke="#000" stroke-width="1.2"/>')
        centre = (sum(x for x, _ in on_screen) / len(on_screen), sum(y for _, y in on_screen) / len(on_screen))
        for a, b, (ax, ay), (bx, by) in zip(polygon, polygon[1:] + polygon[:1], on_screen,
                                            on_screen[1:] + on_screen[:1], strict=True):
            length = math.hypot(bx - ax, by - ay)
            if length < 30:
                continue  # too short on screen to carry its length
            mx, my = (ax + bx) / 2, (ay + by) / 2
            nx, ny = (by - ay) / length, (ax - bx) / length  # the side's normal, turned away from the centre
            if nx * (mx - centre[0]) + ny * (my - centre[1]) < 0:
                nx, ny = -nx, -ny
            across = abs(ny) >= abs(nx)  # a level side: the length above or below it, else beside it
            anchor = "middle" if across else ("start" if nx > 0 else "end")
            x, y = mx + nx * 4, my + ny * 4 + ((8 if ny > 0 else 0) if across else 3)  # text sits on its baseline
            shapes.append(f'<text x="{x:.1f}" y="{y:.1f}" font-size="10" text-anchor="{anchor}">'
                          f'{side_length(a, b)}</text>')
    north = f'<text x="{WIDTH - 12}" y="{HEIGHT - 8}" font-size="11" text-anchor="middle">↑北</text>'
    return frame + head + "".join(shapes) + north + '<text x="6" y="232" font-size="10">单位：米</text>'


def plan_svg(plan: UnitPlan | None) -> Markup:
    """Both drawings side by side (they wrap on a narrow screen), or the statement the PDF page makes when the
    book holds no outline for the unit."""
    if plan is None or not plan.drawn:
        return Markup('<p class="plan-missing">{}：本单元的宗地图、房产分户图以登记簿记载为准</p>').format(NOT_RECORDED)
    figures = [Markup('<svg xmlns="http://www.w3.org/2000/svg" role="img" aria-label="{}" viewBox="0 0 {} {}" '
                      'width="{}" height="{}">{}</svg>').format(title, WIDTH, HEIGHT, WIDTH, HEIGHT,
                                                                Markup(_panel(title, polygons, caption, fill)))
               for title, polygons, caption, fill in panels(plan)]
    return Markup("").join(figures)
