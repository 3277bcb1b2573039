"""Run 缮证 of one case in a separate process, then its 制证 (``complete_stage`` renders after 缮证 commits), and
stop at a hook point inside the 制证 transaction, for the kill -9 test in test_crash_safe_certify.py. Usage:
``python crash_certify.py '<json settings>'``.

The hook wraps the storage's ``put``: once the signed PDF has been written (still uncommitted), it prints
``HOOK <storage key>`` and waits forever, so the parent kills it exactly there.
"""
from __future__ import annotations

import json
import sys
import threading
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from support.cases import complete_stage  # noqa: E402
from support.personas import Api  # noqa: E402
from support.settings import make_settings  # noqa: E402

from app import create_app  # noqa: E402


def main() -> None:
    args = json.loads(sys.argv[1])
    app = create_app(make_settings(args["database_url"], Path(args["tmp_path"]),
                                   integrations_base_url=args["simulator_url"], callback_base_url=args["live_url"]))
    app.config["TESTING"] = True
    storage = app.extensions["storage"]
    real_put = storage.put

    def put_then_stop(session, content, *, tenant_id):  # type: ignore[no-untyped-def]
        key = real_put(session, content, tenant_id=tenant_id)
        print(f"HOOK {key}", flush=True)
        threading.Event().wait()  # the parent kills this process here (kill -9)
        return key

    storage.put = put_then_stop
    complete_stage(Api(app.test_client(), "xh_certifier"), args["business_no"], "缮证")
    print("COMMITTED", flush=True)


if __name__ == "__main__":
    main()
