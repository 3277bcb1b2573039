"""Page geometry and colours of the platform's PDFs as plain numbers — A4 in points, the millimetre, RGB triples —
so the modules that draw them can be imported without reportlab: it is imported by the functions that draw, in
the process that renders (issue 18: a web worker that renders nothing never loads the PDF stack). The values
are reportlab's own (``reportlab.lib.units.mm``, ``reportlab.lib.pagesizes.A4``)."""
from __future__ import annotations

mm = 72.0 / 2.54 * 0.1  # points per millimetre, computed as reportlab computes it
A4 = (210 * mm, 297 * mm)  # width, height in points

Rgb = tuple[float, float, float]  # a colour for ``Canvas.setFillColorRGB(*rgb)`` / ``setStrokeColorRGB``
BLACK: Rgb = (0.0, 0.0, 0.0)
