"""Real HTTP servers in threads (the app's callback address, the department simulator) and the simulator's
control endpoint (make a department fail, slow down, or reset)."""
from __future__ import annotations

import json
import threading
import urllib.request
from typing import Any


class LiveServer:
    """A real HTTP server on a free loopback port in a thread (werkzeug ``make_server``). It counts the requests
    in flight until their response is closed — which is when the app's work after the response (the 制证 of a
    certificate, the 申请书) runs — so a test's database is not replaced under work still running for the
    previous test (``wait_idle``)."""

    def __init__(self, wsgi_app: Any) -> None:
        from werkzeug.serving import make_server

        self._app, self._busy, self._idle = wsgi_app, 0, threading.Condition()
        self.server = make_server("127.0.0.1", 0, self._counted, threaded=True)
        self.server.daemon_threads = False  # so stop() waits for requests in flight (a late callback's transaction)
        self.url = f"http://127.0.0.1:{self.server.server_port}"
        self.thread = threading.Thread(target=self.server.serve_forever, args=(0.05,), daemon=True)
        self.thread.start()

    def _counted(self, environ: Any, start_response: Any) -> Any:
        from werkzeug.wsgi import ClosingIterator

        with self._idle:
            self._busy += 1
        try:
            return ClosingIterator(self._app(environ, start_response), [self._finished])  # after the app's close
        except BaseException:
            self._finished()
            raise

    def _finished(self) -> None:
        with self._idle:
            self._busy -= 1
            self._idle.notify_all()

    def wait_idle(self, timeout_s: float = 30.0) -> bool:
        """Wait until no request is in flight (its work after the response included); False if one still is
        after ``timeout_s`` (a hung request: the caller goes on, as before this existed)."""
        with self._idle:
            return self._idle.wait_for(lambda: self._busy == 0, timeout=timeout_s)

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
