"""Structured logs: one JSON object a line, each carrying the id of the request it belongs to."""

from __future__ import annotations

import json
import logging
import re
import secrets
import sys
import time
from contextvars import ContextVar
from datetime import UTC, datetime
from typing import Any

from litestar.enums import ScopeType
from litestar.types import ASGIApp, Message, Receive, Scope, Send

request_id_var: ContextVar[str | None] = ContextVar("request_id", default=None)
_SAFE_ID = re.compile(r"^[A-Za-z0-9._-]{1,64}$")


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "at": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": record.getMessage(),
        }
        request_id = request_id_var.get()
        if request_id:
            entry["request_id"] = request_id
        entry.update(getattr(record, "fields", {}))
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        return json.dumps(entry, ensure_ascii=False, default=str)


def configure_logging(level: str = "INFO") -> None:
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(JsonFormatter())
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level.upper())
    for noisy in ("uvicorn.access",):
        logging.getLogger(noisy).disabled = True
    # The ticker runs jobs every few seconds: log its failures, not each run.
    logging.getLogger("apscheduler").setLevel(max(logging.WARNING, root.level))
    # HTTP clients log each request's full URL, query string (and any token in it) included.
    for client in ("httpx", "httpcore"):
        logging.getLogger(client).setLevel(max(logging.WARNING, root.level))


access_log = logging.getLogger("breachdesk.access")


def request_id_middleware(app: ASGIApp) -> ASGIApp:
    """Give each request an id (a caller's well-formed X-Request-ID, or a new one), log it once.

    Only method, path, status and timing are logged: never query strings,
    headers or bodies, which can carry tokens and personal data.
    """

    async def middleware(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != ScopeType.HTTP:
            await app(scope, receive, send)
            return
        given = dict(scope["headers"]).get(b"x-request-id", b"").decode("latin-1")
        request_id = given if _SAFE_ID.match(given) else secrets.token_hex(8)
        scope.setdefault("state", {})["request_id"] = request_id
        token = request_id_var.set(request_id)
        started, status = time.perf_counter(), 500

        async def send_with_id(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                message["headers"] = [*message.get("headers", []),
                                      (b"x-request-id", request_id.encode())]
            await send(message)

        try:
            await app(scope, receive, send_with_id)
        except Exception as exc:
            # Errors raised before a response (authentication, guards) are answered by the
            # handler outside this middleware; log the status it will send.
            status = int(getattr(exc, "status", None) or getattr(exc, "status_code", None) or 500)
            raise
        finally:
            method = scope["method"]
            access_log.info("%s %s %s", method, scope["path"], status, extra={"fields": {
                "method": method, "path": scope["path"], "status": status,
                "ms": round((time.perf_counter() - started) * 1000, 1)}})
            request_id_var.reset(token)

    return middleware
