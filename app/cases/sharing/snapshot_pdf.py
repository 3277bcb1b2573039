"""A verification snapshot as a printable PDF (A4, CJK font embedded): the fixed-format record that goes into
the case file. Drawn with reportlab like the certificates; personal data masked unless the caller may see
it in full."""
from __future__ import annotations

from io import BytesIO
from pathlib import Path
from typing import Any

from app.clock import local_time
from app.pdf_page import A4, BLACK, Rgb, mm
from app.registry.certificate_pdf import DEFAULT_FONT, font_name

FOOTER = ("本记录由不动产登记系统通过部门信息共享接口自动生成，"
          "作为登记原始资料归档（《不动产登记暂行条例实施细则》第九十四条）。")
MARK_COLOURS: dict[str, Rgb] = {"一致": (0.1, 0.5, 0.2), "不一致": (0.8, 0.1, 0.1), "未核验": (0.45, 0.45, 0.45)}


def render_snapshot(shown: dict[str, Any], font_path: Path = DEFAULT_FONT) -> bytes:
    """``shown`` is ``snapshots.show(...)``: already masked as the reader is entitled to see it."""
    from reportlab.pdfgen.canvas import Canvas

    font = font_name(font_path)
    buffer = BytesIO()
    c = Canvas(buffer, pagesize=A4, pageCompression=1)
    c.setTitle(f"部门共享信息核验记录 {shown['business_no'] or ''}")
    width, height = A4
    c.setFont(font, 18)
    c.drawCentredString(width / 2, height - 30 * mm, "部门共享信息核验记录")
    c.setFont(font, 10.5)
    y = height - 45 * mm
    header = [("业务号", shown.get("business_no") or "—"), ("核验部门", shown["department"]),
              ("核验事项", shown["operation"]), ("核验对象", shown.get("subject_label") or "本申请"),
              ("核验时间", local_time(shown["checked_at"]) + "（北京时间）"), ("核验结论", shown["result"])]
    for label, value in header:
        c.drawString(25 * mm, y, f"{label}：{value}")
        y -= 7 * mm
    y -= 3 * mm
    columns = [25 * mm, 70 * mm, 115 * mm, 165 * mm]
    c.setLineWidth(0.6)
    c.line(22 * mm, y + 5 * mm, width - 22 * mm, y + 5 * mm)
    for x, title in zip(columns, ("核验项目", "申请填报", "部门记录", "结果"), strict=True):
        c.drawString(x, y, title)
    y -= 8 * mm
    for line in shown["fields"]:
        c.setFillColorRGB(*BLACK)
        for x, value in zip(columns[:3], (line["label"], line["declared"], line["found"]), strict=True):
            c.drawString(x, y, str(value if value not in (None, "") else "—")[:26])
        c.setFillColorRGB(*MARK_COLOURS.get(line["mark"], BLACK))
        c.drawString(columns[3], y, line["mark"])
        y -= 7 * mm
    c.setFillColorRGB(*BLACK)
    c.line(22 * mm, y + 3 * mm, width - 22 * mm, y + 3 * mm)
    c.setFont(font, 9)
    c.drawString(25 * mm, y - 5 * mm, FOOTER)
    c.showPage()
    c.save()
    return buffer.getvalue()
