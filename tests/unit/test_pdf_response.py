"""pdf_response (app/web.py): the one way every skin answers with a PDF."""
from __future__ import annotations

from urllib.parse import unquote

from flask import Flask

from app.web import pdf_response


def _headers(filename: str, *, inline: bool = True) -> dict[str, str]:
    with Flask(__name__).app_context():
        response = pdf_response(b"%PDF-1.7", filename, inline=inline)
        assert response.get_data() == b"%PDF-1.7"
        return dict(response.headers)


def test_a_pdf_is_shown_inline_and_never_cached() -> None:
    headers = _headers("certificate-abc.pdf")
    assert headers["Content-Type"] == "application/pdf"
    assert headers["Content-Disposition"] == "inline; filename=certificate-abc.pdf"
    assert headers["Cache-Control"] == "no-store"


def test_a_download_is_an_attachment() -> None:
    assert _headers("receipt-1.pdf", inline=False)["Content-Disposition"] == "attachment; filename=receipt-1.pdf"


def test_a_chinese_name_travels_as_rfc_5987_utf8_with_an_ascii_fallback() -> None:
    disposition = _headers("受理通知书-2026.pdf")["Content-Disposition"]
    disposition.encode("latin-1")  # a header value must be encodable
    kind, plain, extended = (part.strip() for part in disposition.split(";"))
    assert (kind, plain) == ("inline", "filename=-2026.pdf")
    assert extended.startswith("filename*=UTF-8''")
    assert unquote(extended.removeprefix("filename*=UTF-8''")) == "受理通知书-2026.pdf"
