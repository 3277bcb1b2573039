"""What a BPMN file says, without how it is written: for comparing a diagram before and after a tool (the
designer, an importer) handled it. Formatting, comments, namespace prefixes and attribute order do not count;
DI coordinates are compared rounded to whole units (bpmn-js may round them)."""
from __future__ import annotations

from collections import Counter
from typing import Any

from lxml import etree

DI_NAMESPACES = frozenset({"http://www.omg.org/spec/DD/20100524/DC", "http://www.omg.org/spec/DD/20100524/DI"})
Fact = tuple[str, tuple[tuple[str, str], ...], str]


def _value(namespace: str | None, value: str) -> str:
    if namespace in DI_NAMESPACES:
        try:
            return str(round(float(value)))
        except ValueError:
            return value
    return value


def _step(node: etree._Element) -> str:
    """An element's place among its siblings: its id when it has one, else its position among same tags."""
    if node.get("id"):
        return f"{node.tag}#{node.get('id')}"
    parent = node.getparent()
    same = [n for n in parent if n.tag == node.tag] if parent is not None else [node]
    return f"{node.tag}[{same.index(node)}]"


def facts(xml: str | bytes) -> Counter[Fact]:
    """Every element as (path, attributes, text); whitespace-only text is layout, other text is kept exact."""
    data = xml.encode("utf-8") if isinstance(xml, str) else xml
    root = etree.fromstring(data, etree.XMLParser(resolve_entities=False, no_network=True, remove_comments=True))
    found: Counter[Fact] = Counter()
    for node in root.iter():
        if not isinstance(node.tag, str):
            continue
        namespace = etree.QName(node).namespace
        path = "/".join(_step(n) for n in reversed([node, *node.iterancestors()]))
        attributes = tuple(sorted((name, _value(namespace, value)) for name, value in node.attrib.items()))
        text = node.text if node.text and node.text.strip() else ""
        found[(path, attributes, text)] += 1
    return found


def differences(before: str | bytes, after: str | bytes) -> dict[str, list[Any]]:
    """``lost``: what ``before`` says and ``after`` no longer does; ``added``: the reverse."""
    a, b = facts(before), facts(after)
    return {"lost": sorted((a - b).elements()), "added": sorted((b - a).elements())}
