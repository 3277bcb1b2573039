"""Layout (DI) of an imported diagram: shapes resized, edges redirected, lanes placed, prefixes normalised.

Why apart from the rewrite: the semantic rewrite (foreign_import.py) decides what an element becomes; this
module only keeps the drawing consistent with it, so the designer opens the import where the analyst drew it.
"""
from __future__ import annotations

from lxml import etree

from app.catalog.foreign_bpmn import BPMN_NS, BPMNDI_NS, DC_NS, DI_NS, NS, SPIFF_NS, XSI_NS, detach, num

OUR_NSMAP = {"bpmn": BPMN_NS, "bpmndi": BPMNDI_NS, "dc": DC_NS, "di": DI_NS, "xsi": XSI_NS, "spiffworkflow": SPIFF_NS}


def shape_bounds(root: etree._Element, element_id: str | None) -> list[etree._Element]:
    """The bounds of the shape drawn for ``element_id`` (none for an element without an id)."""
    if element_id is None:
        return []
    return list(root.xpath("//bpmndi:BPMNShape[@bpmnElement=$id]/dc:Bounds", namespaces=NS, id=element_id))


def lane_shape(root: etree._Element, lane_id: str) -> None:
    plane = root.find("bpmndi:BPMNDiagram/bpmndi:BPMNPlane", NS)
    participant = root.find("bpmn:collaboration/bpmn:participant", NS)
    pool = shape_bounds(root, participant.get("id") if participant is not None else "")
    if plane is None or not pool:
        return
    b = pool[0]
    shape = etree.Element(f"{{{BPMNDI_NS}}}BPMNShape", id=f"{lane_id}_di", bpmnElement=lane_id, isHorizontal="true")
    etree.SubElement(shape, f"{{{DC_NS}}}Bounds", x=coord(num(b, "x") + 30), y=b.get("y", ""),
                     width=coord(num(b, "width") - 30), height=b.get("height", ""))
    plane.insert(1, shape)


def redirect_edges(root: etree._Element, old: str, new: str) -> None:
    """Edges into a merged end event end on the kept one (its shape's centre), so the layout stays readable."""
    kept = shape_bounds(root, new)
    if not kept:
        return
    b = kept[0]
    cx, cy = num(b, "x") + num(b, "width") / 2, num(b, "y") + num(b, "height") / 2
    flows = [f.get("id") for f in root.iter(f"{{{BPMN_NS}}}sequenceFlow") if f.get("targetRef") == old]
    for edge in root.iter(f"{{{BPMNDI_NS}}}BPMNEdge"):
        points = edge.findall("di:waypoint", NS)
        if edge.get("bpmnElement") in flows and points:
            points[-1].set("x", coord(cx))
            points[-1].set("y", coord(cy))


def remove_with_di(el: etree._Element) -> None:
    root = el.getroottree().getroot()
    element_id = el.get("id")
    if element_id is not None:
        for di in root.xpath("//bpmndi:BPMNShape[@bpmnElement=$id]", namespaces=NS, id=element_id):
            detach(di)
    detach(el)


def resize_shape(root: etree._Element, element_id: str | None, size: tuple[float, float]) -> None:
    for bounds in shape_bounds(root, element_id):
        cx = num(bounds, "x") + num(bounds, "width") / 2
        cy = num(bounds, "y") + num(bounds, "height") / 2
        bounds.set("x", coord(cx - size[0] / 2))
        bounds.set("y", coord(cy - size[1] / 2))
        bounds.set("width", coord(size[0]))
        bounds.set("height", coord(size[1]))
        shape = bounds.getparent()
        label = shape.find("bpmndi:BPMNLabel", NS) if shape is not None else None
        if label is not None:
            detach(label)


def lane_around(root: etree._Element, node_id: str | None, lanes: list[etree._Element]) -> etree._Element | None:
    """The lane whose drawn rectangle holds the node's centre (nodes a modeler left out of every lane)."""
    node = shape_bounds(root, node_id)
    if not node:
        return None
    cx = num(node[0], "x") + num(node[0], "width") / 2
    cy = num(node[0], "y") + num(node[0], "height") / 2
    for lane in lanes:
        b = shape_bounds(root, lane.get("id"))
        if b and num(b[0], "x") <= cx <= num(b[0], "x") + num(b[0], "width") \
                and num(b[0], "y") <= cy <= num(b[0], "y") + num(b[0], "height"):
            return lane
    return None


def extent(plane: etree._Element) -> tuple[float, float, float, float]:
    xs, ys = [], []
    for b in plane.iter(f"{{{DC_NS}}}Bounds"):
        xs += [num(b, "x"), num(b, "x") + num(b, "width")]
        ys += [num(b, "y"), num(b, "y") + num(b, "height")]
    for w in plane.iter(f"{{{DI_NS}}}waypoint"):
        xs.append(num(w, "x"))
        ys.append(num(w, "y"))
    return (min(xs), min(ys), max(xs), max(ys)) if xs else (0.0, 0.0, 600.0, 200.0)


def canonical(root: etree._Element) -> str:
    """Re-emit with our prefixes (bpmn:, bpmndi:, dc:, di:, spiffworkflow:) whatever the source used."""
    def copy_into(src: etree._Element, parent: etree._Element | None) -> etree._Element:
        el = etree.Element(src.tag, nsmap=OUR_NSMAP) if parent is None else etree.SubElement(parent, src.tag)
        for k, v in src.attrib.items():
            el.set(k, v)
        el.text = src.text if len(src) == 0 or (src.text or "").strip() else None
        for child in src:
            if isinstance(child.tag, str):
                copy_into(child, el).tail = None
        return el

    new = copy_into(root, None)
    etree.indent(new, space="  ")
    return etree.tostring(new, xml_declaration=True, encoding="UTF-8").decode("utf-8")


def coord(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else f"{value:.1f}"


def connect_shapes(root: etree._Element, edge_of: str, source: str, target: str) -> None:
    """A straight edge between two drawn shapes (a link pair turned into a sequence flow)."""
    plane = root.find("bpmndi:BPMNDiagram/bpmndi:BPMNPlane", NS)
    if plane is None:
        return
    ends = []
    for element_id in (source, target):
        b = shape_bounds(root, element_id)
        if not b:
            return
        ends.append((num(b[0], "x") + num(b[0], "width") / 2,
                     num(b[0], "y") + num(b[0], "height") / 2))
    edge = etree.SubElement(plane, f"{{{BPMNDI_NS}}}BPMNEdge", id=f"{edge_of}_di", bpmnElement=edge_of)
    for x, y in ends:
        etree.SubElement(edge, f"{{{DI_NS}}}waypoint", x=coord(x), y=coord(y))
