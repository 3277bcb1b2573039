"""Signatures from several threads at once (a gunicorn thread per request, the 制证 job beside them): the cached
office signer is shared, and asn1crypto's lazily serialised objects are not safe to use from two threads at
once — two confirmations signing their 申请书 together failed with a TypeError (issue 18's load test)."""
from __future__ import annotations

import threading
from pathlib import Path

from pyhanko.keys import load_cert_from_pemder

from app.registry.signing import dev_key_paths, ensure_dev_keys, sign_pdf, validate_certificate_pdf


def _pdf() -> bytes:
    from io import BytesIO

    from reportlab.pdfgen import canvas

    out = BytesIO()
    page = canvas.Canvas(out)
    page.drawString(72, 720, "signing test")
    page.save()
    return out.getvalue()


def test_threads_signing_at_once_all_get_valid_signatures(tmp_path: Path) -> None:
    paths = dev_key_paths(tmp_path)
    ensure_dev_keys(paths)
    results: list[bytes] = []
    errors: list[BaseException] = []
    start, pdf = threading.Barrier(4), _pdf()

    def sign_some() -> None:
        start.wait()
        for n in range(6):
            try:
                results.append(sign_pdf(pdf, reason=f"test {n}", location="test", paths=paths))
            except BaseException as exc:  # reported below
                errors.append(exc)

    threads = [threading.Thread(target=sign_some) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    root = load_cert_from_pemder(str(paths.root))
    assert all(validate_certificate_pdf(signed, root=root)[0] for signed in results[:3])
    assert len(results) == 24
