"""A webhook receiver on loopback (real sockets, in a thread) that can be down, then up."""

from __future__ import annotations

import socket
import threading
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


@dataclass
class Received:
    body: bytes
    headers: dict[str, str]


@dataclass
class Receiver:
    """Listens on `port` while up; refuses connections while down (nothing listens)."""

    port: int = 0
    received: list[Received] = field(default_factory=list)
    status: int = 204
    arrived: threading.Event = field(default_factory=threading.Event)
    """Set whenever a message was accepted (a browser test waits on it)."""
    entries: list[Received] = field(default_factory=list)
    """Every request that reached the receiver, answered or not yet."""
    entered: threading.Event = field(default_factory=threading.Event)
    """Set whenever a request reached the receiver."""
    gate: threading.Event | None = None
    """While set to an Event, each request is held (not answered) until it is set: the
    answer of a request on the wire when its sender stops."""
    server: ThreadingHTTPServer | None = None
    thread: threading.Thread | None = None

    def __post_init__(self) -> None:
        if not self.port:
            with socket.socket() as probe:
                probe.bind(("127.0.0.1", 0))
                self.port = probe.getsockname()[1]

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/hooks/breachdesk"

    def up(self) -> None:
        owner = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                length = int(self.headers.get("content-length", "0"))
                body = self.rfile.read(length)
                owner.entries.append(Received(body, dict(self.headers.items())))
                owner.entered.set()
                if owner.gate is not None:
                    owner.gate.wait(timeout=60)
                if owner.status < 300:
                    owner.received.append(Received(body, dict(self.headers.items())))
                    owner.arrived.set()
                try:
                    self.send_response(owner.status)
                    self.send_header("content-length", "0")
                    self.end_headers()
                except OSError:  # the sender stopped waiting for this answer
                    return

            def log_message(self, format: str, *args: object) -> None:
                return

        self.server = ThreadingHTTPServer(("127.0.0.1", self.port), Handler)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def down(self) -> None:
        if self.gate is not None:
            self.gate.set()  # a held request ends, so the server can close
        if self.server is not None:
            self.server.shutdown()
            self.server.server_close()
            self.server = None
