"""Drawing a certificate: the register page (title, number, a two-column table of fields, the verification QR
code and the office seal), then for a 不动产权证书 the 附记 page and for both it and the 不动产登记证明 the 附图
page (``certificate_plan``), in the layout of the 簿证样式 (DOMAIN §4.2, §4.3), with a CJK TrueType font
embedded (subset). Numbers never break across lines (``certificate_text``).

reportlab draws straight onto the page (~15 ms), several times faster than HTML → PDF, which keeps
render + sign above the throughput target. The font is a TrueType-outline CJK font installed by the
project (Debian ``fonts-wqy-zenhei`` via ``make install``; ``CERT_FONT_FILE`` points elsewhere). Nothing
is fetched at run time.
"""
from __future__ import annotations

import math
import threading
from dataclasses import dataclass, field
from io import BytesIO
from pathlib import Path
from typing import TYPE_CHECKING

from app.errors import DomainError
from app.pdf_page import A4, BLACK, Rgb, mm
from app.registry.certificate_plan import UnitPlan, draw_plan
from app.registry.certificate_text import fit_text

if TYPE_CHECKING:
    from reportlab.pdfgen.canvas import Canvas

DEFAULT_FONT = Path("/usr/share/fonts/truetype/wqy/wqy-zenhei.ttc")
SEAL_RED: Rgb = (0.82, 0.1, 0.1)
_fonts: dict[Path, str] = {}
_font_lock = threading.Lock()
PREVIEW_NOTE = "预览件：缮证完成后编号、签章，不作证书使用"


class FontMissing(DomainError):
    status = 500
    code = "certificate_font_missing"


@dataclass(frozen=True)
class CertificatePage:
    title: str  # 不动产权证书 | 不动产登记证明 | 无房证明
    number: str
    rows: list[tuple[str, str]]
    office: str  # 杭州市西湖区不动产登记中心
    issued_on: str  # 2026年03月01日
    verify_url: str
    remarks: list[str] = field(default_factory=list)
    notes: list[str] | None = None  # the 附记 page's lines; None: no 附记 page (a proof keeps 附记 in its table)
    plan_page: bool = False  # a 附图 page follows
    plan: UnitPlan | None = None  # what it draws; None or empty: "附图存于不动产登记簿"
    preview: bool = False  # 缮证's preview: no QR code and no seal, said so where they would be

    @property
    def page_count(self) -> int:
        return 1 + (self.notes is not None) + self.plan_page


def font_name(path: Path = DEFAULT_FONT) -> str:
    """The name the CJK font at ``path`` is registered under with reportlab, parsing it on first use (≈ 50 MB
    once parsed: only a process that renders a PDF loads it; app/serving.py). Once per process: two request
    threads rendering their first PDF at once wait for one parse."""
    name = _fonts.get(path)
    if name is not None:
        return name
    with _font_lock:
        name = _fonts.get(path)
        if name is None:
            if not path.exists():
                raise FontMissing(f"证书字体文件不存在：{path}（请运行 make install 或设置 CERT_FONT_FILE）")
            from reportlab.pdfbase import pdfmetrics
            from reportlab.pdfbase.ttfonts import TTFont

            name = f"CJK{len(_fonts)}"
            pdfmetrics.registerFont(TTFont(name, str(path), subfontIndex=0))  # the first face of a .ttc collection
            _fonts[path] = name
    return name


def wrap_text(text: str, font: str, size: float, width: float) -> list[str]:
    from reportlab.pdfbase.pdfmetrics import stringWidth

    lines: list[str] = []
    for paragraph in (text or "").split("\n"):
        line = ""
        for char in paragraph:
            if stringWidth(line + char, font, size) > width and line:
                lines.append(line)
                line = char
            else:
                line += char
        lines.append(line)
    return lines


def _qr(c: Canvas, url: str, x: float, y: float, size: float) -> None:
    import segno

    matrix = segno.make(url, error="m").matrix
    count = len(matrix) + 8  # quiet zone of 4 modules each side
    module = size / count
    c.setFillColorRGB(*BLACK)
    path = c.beginPath()
    for r, row in enumerate(matrix):
        for col, dark in enumerate(row):
            if dark:
                path.rect(x + (col + 4) * module, y + size - (r + 5) * module, module, module)
    c.drawPath(path, stroke=0, fill=1)


def _seal(c: Canvas, font: str, office: str, cx: float, cy: float, radius: float) -> None:
    c.saveState()
    c.setStrokeColorRGB(*SEAL_RED)
    c.setFillColorRGB(*SEAL_RED)
    c.setLineWidth(2.2)
    c.circle(cx, cy, radius, stroke=1, fill=0)
    star = c.beginPath()
    for i in range(10):
        r = radius * (0.2 if i % 2 == 0 else 0.08)
        angle = math.pi / 2 + i * math.pi / 5
        point = (cx + r * math.cos(angle), cy + r * math.sin(angle))
        star.moveTo(*point) if i == 0 else star.lineTo(*point)
    star.close()
    c.drawPath(star, stroke=0, fill=1)
    size = radius * 0.24
    span = math.radians(240)
    for i, char in enumerate(office):
        angle = math.radians(210) - span * (i + 0.5) / len(office)
        c.saveState()
        c.translate(cx + (radius - size * 1.05) * math.cos(angle), cy + (radius - size * 1.05) * math.sin(angle))
        c.rotate(math.degrees(angle) - 90)
        c.setFont(font, size)
        c.drawCentredString(0, -size * 0.35, char)
        c.restoreState()
    c.setFont(font, radius * 0.15)
    c.drawCentredString(cx, cy - radius * 0.5, "不动产登记专用章")
    c.restoreState()


def _heading(c: Canvas, font: str, title: str, number: str) -> None:
    width, height = A4
    c.setFillColorRGB(*BLACK)
    c.setFont(font, 24)
    c.drawCentredString(width / 2, height - 32 * mm, title)
    c.setFont(font, 12)
    c.drawCentredString(width / 2, height - 42 * mm, number)


def _footer(c: Canvas, font: str, page: CertificatePage, n: int) -> None:
    if page.page_count > 1:
        c.setFillColorRGB(*BLACK)
        c.setFont(font, 8)
        c.drawCentredString(A4[0] / 2, 10 * mm, f"{page.number}  第 {n} 页 共 {page.page_count} 页")


def _notes_page(c: Canvas, font: str, page: CertificatePage) -> None:
    """附记: what the register records beside the right (业务号, 登簿时间, the holders' ID documents …)."""
    width, height = A4
    left, right = 22 * mm, width - 22 * mm
    _heading(c, font, "附  记", page.number)
    top, bottom = height - 54 * mm, 24 * mm
    c.setLineWidth(0.6)
    c.rect(left, bottom, right - left, top - bottom, stroke=1, fill=0)
    y, leading = top - 8 * mm, 16
    for note in page.notes or []:
        size, lines = fit_text(note, font, 10.5, right - left - 10 * mm)
        c.setFont(font, size)
        for line in lines:
            c.drawString(left + 5 * mm, y, line)
            y -= leading
        y -= 4


def _plan_page(c: Canvas, font: str, page: CertificatePage) -> None:
    width, height = A4
    _heading(c, font, "附  图", page.number)
    draw_plan(c, font, page.plan, (22 * mm, 20 * mm, width - 22 * mm, height - 52 * mm))


def render_certificate(page: CertificatePage, font_path: Path = DEFAULT_FONT) -> bytes:
    """The register page, then the 附记 and 附图 pages the certificate has, on A4. Returns the unsigned PDF."""
    from reportlab.pdfgen.canvas import Canvas

    font = font_name(font_path)
    buffer = BytesIO()
    c = Canvas(buffer, pagesize=A4, pageCompression=1, invariant=0)
    c.setTitle(f"{page.title} {page.number}")
    c.setAuthor(page.office)
    c.setSubject(page.number)
    _register_page(c, font, page)
    _footer(c, font, page, 1)
    if page.notes is not None:
        c.showPage()
        _notes_page(c, font, page)
        _footer(c, font, page, 2)
    if page.plan_page:
        c.showPage()
        _plan_page(c, font, page)
        _footer(c, font, page, page.page_count)
    c.showPage()
    c.save()
    return buffer.getvalue()


def _register_page(c: Canvas, font: str, page: CertificatePage) -> None:
    width, height = A4
    left, right = 22 * mm, width - 22 * mm
    _heading(c, font, page.title, page.number)

    label_w, size, leading = 34 * mm, 10.5, 15.5
    y = height - 54 * mm
    c.setLineWidth(0.6)
    c.line(left, y, right, y)
    for label, value in page.rows:
        fitted, lines = fit_text(value, font, size, right - left - label_w - 6 * mm)
        row_h = max(1, len(lines)) * leading + 6
        c.setFont(font, size)
        c.drawString(left + 3 * mm, y - leading + 1, label)
        c.setFont(font, fitted)
        for i, line in enumerate(lines):
            c.drawString(left + label_w + 3 * mm, y - leading * (i + 1) + 1, line)
        y -= row_h
        c.line(left, y, right, y)
    top = height - 54 * mm
    c.line(left, top, left, y)
    c.line(left + label_w, top, left + label_w, y)
    c.line(right, top, right, y)

    y -= 8 * mm
    for remark in page.remarks:
        fitted, lines = fit_text(remark, font, 9, right - left)
        c.setFont(font, fitted)
        for line in lines:
            c.drawString(left, y, line)
            y -= 13

    if page.preview:
        c.setFillColorRGB(*SEAL_RED)
        c.setFont(font, 14)
        c.drawString(left, 40 * mm, PREVIEW_NOTE)
    else:
        qr_size = 32 * mm
        _qr(c, page.verify_url, left, 24 * mm, qr_size)
        c.setFont(font, 8)
        c.drawString(left, 20 * mm, "扫码核验证书状态")
        _seal(c, font, page.office, right - 30 * mm, 52 * mm, 21 * mm)
    c.setFillColorRGB(*BLACK)
    c.setFont(font, 11)
    c.drawRightString(right, 26 * mm, f"登记机构：{page.office}")
    c.drawRightString(right, 20 * mm, f"{page.issued_on}")
