"""Fitting certificate text into a cell without ever breaking a number.

A unit code, a certificate number, an ID number or an amount split over two lines cannot be read back or
matched, so lines break only between tokens: a run of letters and digits (with the separators a number
carries: spaces between the groups of a unit code, ``.``, ``-``, ``/``, ``:``) is one token, so is a whole
certificate or proof number, every other character is one. Closing punctuation stays with what precedes it,
opening brackets with what follows (the usual Chinese line-breaking rules). When a token is wider than the
cell the font shrinks, down to ``min_size``; only past that is a token split (no real value gets there).
"""
from __future__ import annotations

import re

CERT_NUMBER = r"[\u4e00-\u9fa5][(（]\d{4}[)）][\u4e00-\u9fa5]{1,24}?第\d+号"  # 浙(2026)西湖区不动产权第0000001号
_TOKEN = re.compile(rf"{CERT_NUMBER}|[0-9A-Za-z]+(?:[ .\-/:×][0-9A-Za-z]+)*[㎡%]?|\s+|.", re.S)
CLOSING = frozenset("，。；：、）)」』》】！？,.;:!?%㎡号")
OPENING = frozenset("（(「『《【")


def tokens(text: str) -> list[str]:
    """``text`` cut at the points where a line may break."""
    out: list[str] = []
    glue = False
    for match in _TOKEN.finditer(text):
        token = match.group()
        if out and (glue or token[0] in CLOSING):
            out[-1] += token
        else:
            out.append(token)
        glue = token[-1] in OPENING
    return out


def wrap_tokens(text: str, font: str, size: float, width: float) -> list[str] | None:
    """Lines no wider than ``width``, broken only between tokens; None when one token alone is wider."""
    from reportlab.pdfbase.pdfmetrics import stringWidth  # on use: importing this module loads no PDF stack

    lines: list[str] = []
    for paragraph in (text or "").split("\n"):
        line = ""
        for token in tokens(paragraph):
            if stringWidth(line + token, font, size) <= width:
                line += token
                continue
            if not line.strip():
                return None
            lines.append(line.rstrip())
            line = token.lstrip()
            if stringWidth(line, font, size) > width:
                return None
        lines.append(line)
    return lines


def fit_text(text: str, font: str, size: float, width: float, *, min_size: float = 7.0) -> tuple[float, list[str]]:
    """(font size, lines): ``size`` when every token fits the width, else the largest size ≥ ``min_size``
    at which it does; at ``min_size`` a token wider than the cell is split by characters as a last resort."""
    from reportlab.pdfbase.pdfmetrics import stringWidth

    current = size
    while current >= min_size:
        lines = wrap_tokens(text, font, current, width)
        if lines is not None:
            return current, lines
        current -= 0.5
    lines = []
    for paragraph in (text or "").split("\n"):
        line = ""
        for char in paragraph:
            if stringWidth(line + char, font, min_size) > width and line:
                lines.append(line)
                line = char
            else:
                line += char
        lines.append(line)
    return min_size, lines
