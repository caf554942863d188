"""A real HTTP receiver on loopback for webhook tests.

``Receiver()`` serves on a free 127.0.0.1 port in a thread and records every
request (path, headers, raw body). ``answers`` is a list of what to answer
next, one entry per request: an HTTP status, or ``"hang"`` (answer only after
the sender's timeout has passed); when it is empty the answer is 200.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs


@dataclass
class Received:
    path: str
    headers: dict[str, str]
    body: bytes

    @property
    def form(self) -> dict[str, str]:
        return {k: v[0] for k, v in parse_qs(self.body.decode(), keep_blank_values=True).items()}


@dataclass
class Receiver:
    answers: list = field(default_factory=list)
    received: list[Received] = field(default_factory=list)
    hang_s: float = 1.5
    # path -> function of the request answering (status, body) instead of ``answers``.
    responders: dict = field(default_factory=dict)

    def __post_init__(self) -> None:
        owner = self
        self._lock = threading.Lock()

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802 (http.server's name)
                body = self.rfile.read(int(self.headers.get("content-length") or 0))
                got = Received(self.path, {k.lower(): v for k, v in self.headers.items()}, body)
                reply = b"ok"
                with owner._lock:
                    owner.received.append(got)
                    responder = owner.responders.get(self.path.split("?")[0])
                    if responder is not None:
                        answer, reply = responder(got)
                    else:
                        answer = owner.answers.pop(0) if owner.answers else 200
                if answer == "hang":
                    time.sleep(owner.hang_s)
                    answer = 200
                try:
                    self.send_response(answer)
                    self.send_header("Content-Length", str(len(reply)))
                    self.end_headers()
                    self.wfile.write(reply)
                except OSError:
                    pass  # the sender gave up waiting

            def log_message(self, *args) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def url(self, path: str = "/hook") -> str:
        return f"http://127.0.0.1:{self.server.server_port}{path}"

    def wait_for(self, count: int, path: str | None = None, within_s: float = 20.0) -> list[Received]:
        """Block until ``count`` requests (to ``path``) arrived; returns them."""
        deadline = time.monotonic() + within_s
        while True:
            got = [r for r in self.received if path is None or r.path == path]
            if len(got) >= count or time.monotonic() > deadline:
                return got
            time.sleep(0.02)

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()
