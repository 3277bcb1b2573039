"""A process version's diagram as inline SVG, drawn server-side from its BPMN DI (shapes, edges and labels
read with lxml), with current steps highlighted and completed ones marked. It is the no-JavaScript form of
the diagram: the workbench case page and the portal's guide wrap it in a ``bpmn-viewer`` block that the
small bpmn-js viewer bundle (admin_ui/src/viewer.js) replaces with the real rendering when scripts run."""
from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

from lxml import etree
from markupsafe import Markup, escape
from sqlalchemy import select
from sqlalchemy.orm import Session

from app.catalog.models import ProcessVersion
from app.identity.models import Role

NS = {"bpmn": "http://www.omg.org/spec/BPMN/20100524/MODEL", "bpmndi": "http://www.omg.org/spec/BPMN/20100524/DI",
      "dc": "http://www.omg.org/spec/DD/20100524/DC", "di": "http://www.omg.org/spec/DD/20100524/DI"}


@dataclass(frozen=True)
class Shape:
    element_id: str
    kind: str  # lane | task | event | gateway | participant
    name: str
    x: float
    y: float
    w: float
    h: float


@dataclass(frozen=True)
class Layout:
    shapes: tuple[Shape, ...]
    edges: tuple[tuple[tuple[float, float], ...], ...]
    box: tuple[float, float, float, float]


def _kind(element: etree._Element) -> str:
    local = etree.QName(element).localname
    if local == "lane":
        return "lane"
    if local == "participant":
        return "participant"
    if local.endswith("Event"):
        return "event"
    if local.endswith("Gateway"):
        return "gateway"
    return "task"


@lru_cache(maxsize=64)
def _layout(version_id: str, xml: str) -> Layout:
    """Parsed once per process version (immutable), keyed by id."""
    root = etree.fromstring(xml.encode("utf-8"), etree.XMLParser(resolve_entities=False, no_network=True))
    elements = {element_id: e for e in root.iter() if (element_id := e.get("id"))}
    shapes = []
    for di in root.iterfind(".//bpmndi:BPMNShape", NS):
        element_id = di.get("bpmnElement") or ""
        element = elements.get(element_id)
        bounds = di.find("dc:Bounds", NS)
        if element is None or bounds is None:
            continue
        x, y, w, h = (float(bounds.get(a, 0)) for a in ("x", "y", "width", "height"))
        shapes.append(Shape(element_id, _kind(element), element.get("name") or "", x, y, w, h))
    edges = tuple(tuple((float(p.get("x", 0)), float(p.get("y", 0))) for p in e.iterfind("di:waypoint", NS))
                  for e in root.iterfind(".//bpmndi:BPMNEdge", NS))
    xs = [s.x for s in shapes] + [s.x + s.w for s in shapes] or [0.0]
    ys = [s.y for s in shapes] + [s.y + s.h for s in shapes] or [0.0]
    return Layout(tuple(shapes), edges, (min(xs) - 10, min(ys) - 10, max(xs) - min(xs) + 20, max(ys) - min(ys) + 20))


def _svg_shape(s: Shape, current: bool, lane_names: dict[str, str], done: bool = False) -> str:
    cls = f"bpmn-{s.kind}" + (" current" if current else " done" if done else "")
    stroke = "#b91c1c" if current else "#15803d" if done else "#374151"
    width = 3 if current else 2 if done else 1.2
    fill = "#fee2e2" if current else "#dcfce7" if done else "#fff"
    label = escape(s.name)
    if s.kind in ("lane", "participant"):
        text = escape(lane_names.get(s.name, s.name)) if s.kind == "lane" else label
        return (f'<g class="{cls}"><rect x="{s.x}" y="{s.y}" width="{s.w}" height="{s.h}" fill="none" '
                f'stroke="#9ca3af"/><text x="{s.x + 16}" y="{s.y + s.h / 2}" font-size="13" '
                f'transform="rotate(-90 {s.x + 16} {s.y + s.h / 2})" text-anchor="middle">{text}</text></g>')
    cx, cy = s.x + s.w / 2, s.y + s.h / 2
    if s.kind == "event":
        body = f'<circle cx="{cx}" cy="{cy}" r="{s.w / 2}" fill="{fill}" stroke="{stroke}" stroke-width="{width}"/>'
        text_y = s.y + s.h + 14
    elif s.kind == "gateway":
        points = f"{cx},{s.y} {s.x + s.w},{cy} {cx},{s.y + s.h} {s.x},{cy}"
        body = f'<polygon points="{points}" fill="{fill}" stroke="{stroke}" stroke-width="{width}"/>'
        text_y = s.y + s.h + 14
    else:
        body = (f'<rect x="{s.x}" y="{s.y}" width="{s.w}" height="{s.h}" rx="8" fill="{fill}" stroke="{stroke}" '
                f'stroke-width="{width}"/>')
        text_y = cy + 5
    current_attr = ' aria-current="step"' if current else ""
    return (f'<g class="{cls}" data-element-id="{escape(s.element_id)}"{current_attr}>{body}'
            f'<text x="{cx}" y="{text_y}" font-size="13" text-anchor="middle">{label}</text></g>')


def diagram_svg(session: Session, version_id: str, *, current: frozenset[str] = frozenset(),
                done: frozenset[str] = frozenset()) -> Markup:
    """The version's diagram; ``current`` / ``done`` are element ids (task names) to highlight / mark."""
    xml = session.execute(select(ProcessVersion.bpmn_xml).where(ProcessVersion.id == version_id)).scalar_one()
    layout = _layout(version_id, xml)
    lane_names = _role_names(session)
    x, y, w, h = layout.box
    label = "办理流程图（当前环节已标红，已完成环节标绿）" if current or done else "办理流程图"
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="{x} {y} {w} {h}" role="img" '
             f'aria-label="{label}" font-family="sans-serif">',
             '<defs><marker id="arrow" viewBox="0 0 10 10" refX="10" refY="5" markerWidth="7" markerHeight="7" '
             'orient="auto"><path d="M0,0 L10,5 L0,10 z" fill="#374151"/></marker></defs>']
    order = {"participant": 0, "lane": 1}
    for shape in sorted(layout.shapes, key=lambda s: order.get(s.kind, 2)):
        if shape.kind in ("participant", "lane"):
            parts.append(_svg_shape(shape, False, lane_names))
    for edge in layout.edges:
        points = " ".join(f"{px},{py}" for px, py in edge)
        parts.append(f'<polyline points="{points}" fill="none" stroke="#374151" marker-end="url(#arrow)"/>')
    for shape in layout.shapes:
        if shape.kind not in ("participant", "lane"):
            parts.append(_svg_shape(shape, shape.element_id in current, lane_names,
                                    done=shape.element_id in done))
    parts.append("</svg>")
    return Markup("".join(parts))


def _role_names(session: Session) -> dict[str, str]:
    return {code: name for code, name in session.execute(select(Role.code, Role.name))}


def lane_names(session: Session, version_id: str) -> dict[str, str]:
    """``{role code: Chinese name}`` for the version's lanes (a lane's name is a role code), so the bpmn-js
    viewer labels lanes as the server SVG does; a lane named by no known role keeps its own name."""
    xml = session.execute(select(ProcessVersion.bpmn_xml).where(ProcessVersion.id == version_id)).scalar_one()
    names = _role_names(session)
    lanes = {s.name for s in _layout(version_id, xml).shapes if s.kind == "lane"}
    return {code: names[code] for code in sorted(lanes) if code in names}


def version_xml(session: Session, version_id: str) -> str:
    """The BPMN text the bpmn-js viewer fetches (a version is immutable, so it may be cached)."""
    return session.execute(select(ProcessVersion.bpmn_xml).where(ProcessVersion.id == version_id)).scalar_one()
