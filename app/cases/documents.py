"""Plain A4 documents of a case (notices, 询问笔录, contract, receipt): a title, a reference line, paragraphs,
optional images (signatures) and the issuer with a date. One renderer so every letter the applicant gets
looks the same and uses the certificate font (reportlab, ~15 ms a page)."""
from __future__ import annotations

from dataclasses import dataclass, field
from io import BytesIO
from pathlib import Path

from app.pdf_page import A4, mm
from app.registry.certificate_pdf import font_name, wrap_text


@dataclass
class Document:
    title: str
    reference: str  # top right, e.g. 业务号：…
    paragraphs: list[str]
    issuer: str = ""
    date_text: str = ""
    author: str = ""
    # (caption, PNG bytes) drawn in a row under the text, e.g. each party's e-signature
    images: list[tuple[str, bytes]] = field(default_factory=list)


def render_document(doc: Document, font_path: Path) -> bytes:
    from reportlab.lib.utils import ImageReader
    from reportlab.pdfgen.canvas import Canvas

    font = font_name(font_path)
    buffer = BytesIO()
    c = Canvas(buffer, pagesize=A4, pageCompression=1, invariant=1)
    c.setTitle(f"{doc.title} {doc.reference}".strip())
    c.setAuthor(doc.author or doc.issuer)
    width, height = A4
    left, right, bottom = 25 * mm, width - 25 * mm, 25 * mm

    def heading() -> float:
        c.setFont(font, 20)
        c.drawCentredString(width / 2, height - 32 * mm, doc.title)
        c.setFont(font, 10.5)
        c.drawRightString(right, height - 42 * mm, doc.reference)
        return height - 54 * mm

    y = heading()
    for paragraph in doc.paragraphs:
        for line in wrap_text(paragraph, font, 12, right - left):
            if y < bottom:
                c.showPage()
                y = heading()
            c.setFont(font, 12)
            c.drawString(left, y, line)
            y -= 19
        y -= 6
    if doc.images:
        if y < bottom + 40 * mm:
            c.showPage()
            y = heading()
        x = left
        for caption, png in doc.images:
            c.setFont(font, 10.5)
            c.drawString(x, y, caption)
            c.drawImage(ImageReader(BytesIO(png)), x, y - 24 * mm, width=50 * mm, height=20 * mm,
                        preserveAspectRatio=True, mask="auto")
            x += 60 * mm
        y -= 30 * mm
    c.setFont(font, 12)
    if doc.issuer:
        c.drawRightString(right, y - 20 * mm, doc.issuer)
    if doc.date_text:
        c.drawRightString(right, y - 28 * mm, doc.date_text)
    c.showPage()
    c.save()
    return buffer.getvalue()
