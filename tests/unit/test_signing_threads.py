"""Signing from several threads of one process at once (issue 18): gunicorn's gthread workers serve requests in
threads, and two 申请书 signed at the same moment used to share the loaded certificate objects, which asn1crypto
fills in lazily — one of them failed with a 500. Every signature made concurrently must be whole and valid."""
from __future__ import annotations

import threading
from io import BytesIO
from pathlib import Path

from reportlab.pdfgen import canvas

from app.registry.signing import dev_key_paths, ensure_dev_keys, sign_pdf, trust_root, validate_certificate_pdf

THREADS, EACH = 8, 3


def small_pdf(text: str) -> bytes:
    out = BytesIO()
    page = canvas.Canvas(out)
    page.drawString(72, 720, text)
    page.save()
    return out.getvalue()


def test_pdfs_signed_by_several_threads_at_once_are_all_valid(tmp_path: Path) -> None:
    paths = dev_key_paths(tmp_path)
    ensure_dev_keys(paths)  # generated once, as `flask setup` does before any worker starts
    start = threading.Barrier(THREADS)
    signed: list[bytes] = []
    failures: list[BaseException] = []

    def sign_some(n: int) -> None:
        start.wait()  # every thread signs its first PDF with freshly loaded keys at the same moment
        try:
            for k in range(EACH):
                signed.append(sign_pdf(small_pdf(f"doc {n}-{k}"), reason="test", location="test", paths=paths))
        except BaseException as exc:  # noqa: BLE001 — collected and asserted below
            failures.append(exc)

    threads = [threading.Thread(target=sign_some, args=(n,)) for n in range(THREADS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert failures == []
    assert len(signed) == THREADS * EACH
    root = trust_root(paths)
    assert all(validate_certificate_pdf(pdf, root=root)[0] for pdf in signed)
