"""Real HTTP servers in threads (the app's callback address, the department simulator) and the simulator's
control endpoint (make a department fail, slow down, or reset)."""
from __future__ import annotations

import json
import threading
import urllib.request
from typing import Any


class LiveServer:
    """A real HTTP server on a free loopback port in a thread (werkzeug ``make_server``)."""

    def __init__(self, wsgi_app: Any) -> None:
        from werkzeug.serving import make_server

        self.server = make_server("127.0.0.1", 0, wsgi_app, threaded=True)
        self.server.daemon_threads = False  # so stop() waits for requests in flight (a late callback's transaction)
        self.url = f"http://127.0.0.1:{self.server.server_port}"
        self.thread = threading.Thread(target=self.server.serve_forever, args=(0.05,), daemon=True)
        self.thread.start()

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()  # joins the request threads
        self.thread.join(timeout=5)


def simulator_control(simulator: LiveServer, department: str, mode: str, delay_s: float = 0) -> None:
    """Set ``department``'s behaviour in the simulator (e.g. mode "down", or a delay before it answers)."""
    body = json.dumps({"mode": mode, "delay_s": delay_s}).encode()
    request = urllib.request.Request(f"{simulator.url}/_control/{department}", data=body, method="POST",
                                     headers={"Content-Type": "application/json"})
    urllib.request.urlopen(request, timeout=5).close()


def simulator_reset(simulator: LiveServer) -> None:
    """Every department back to normal and the simulator's memory (SMS, callbacks) emptied."""
    request = urllib.request.Request(f"{simulator.url}/_control/reset", method="POST")
    urllib.request.urlopen(request, timeout=5).close()
