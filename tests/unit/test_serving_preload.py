"""gunicorn's master imports the libraries every worker uses before forking (app/serving.py ``SHARED_LIBRARIES``,
issue 18: the workers share those pages instead of each holding a copy). What the master may load is limited:
no app code (``kill -HUP`` must still start workers on the code on disk), no thread and nothing a forked worker
would inherit half-used. Run in a fresh interpreter: this one has long imported everything."""
from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

PROBE = """
import json, sys, threading
import app.serving as serving
loaded = serving.preload_libraries()
print(json.dumps({"loaded": loaded, "threads": threading.active_count(),
                  "app_modules": sorted(m for m in sys.modules if m == "app" or m.startswith("app."))}))
"""


def test_the_master_preloads_libraries_only_and_starts_no_thread() -> None:
    done = subprocess.run([sys.executable, "-W", "ignore", "-c", PROBE], cwd=ROOT, capture_output=True, text=True,
                          check=True, timeout=120)
    found = json.loads(done.stdout.strip().splitlines()[-1])
    from app.serving import SHARED_LIBRARIES

    assert found["loaded"] == list(SHARED_LIBRARIES)  # every one installed: none misspelt or gone
    assert found["threads"] == 1
    assert found["app_modules"] == ["app", "app.config", "app.serving"]  # gunicorn reads app.serving itself
