"""Electronic archives (电子档案, guide 三.4 "推进无纸质档案办理"): when a case ends, a job builds its archive
package — every document, the descriptive metadata and the process history in a DA/T 48 EEP, signed with the
office key and time-stamped — records each file's SHA-256, re-verifies stored packages periodically, and
exports them to the archive system. Pages: app/workbench/archive_views.py; docs/archives.md."""
from __future__ import annotations

from flask import Flask


def init_app(app: Flask) -> None:
    """``flask archives``; the export directory (``ARCHIVE_EXPORT_DIR``)."""
    from app.archives.cli import archives

    app.extensions["archive_export_dir"] = app.config["SETTINGS"].archive_export_dir
    app.cli.add_command(archives)
