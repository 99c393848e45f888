"""Structured logs: one JSON object a line carrying its request's id; each request gets an id
(the caller's, when well formed) and one access line without query strings."""

from __future__ import annotations

import json
import logging
import sys

import pytest
from litestar import Litestar, get
from litestar.exceptions import NotAuthorizedException
from litestar.testing import TestClient

from incident.kernel.logs import (
    JsonFormatter,
    configure_logging,
    request_id_middleware,
    request_id_var,
)


def record(message: str = "sent %s", *args: object, **fields: object) -> logging.LogRecord:
    made = logging.LogRecord("breachdesk.test", logging.WARNING, __file__, 1, message, args or None,
                             None)
    if fields:
        made.fields = fields
    return made


def test_a_record_is_one_json_line_with_its_fields() -> None:
    line = JsonFormatter().format(record("sent %s", 3, outbox="smtp", count=3))
    assert "\n" not in line
    entry = json.loads(line)
    assert entry.pop("at").endswith("+00:00")
    assert entry == {"level": "warning", "logger": "breachdesk.test", "message": "sent 3",
                     "outbox": "smtp", "count": 3}


def test_the_request_id_of_the_moment_is_carried() -> None:
    token = request_id_var.set("0123456789abcdef")
    try:
        entry = json.loads(JsonFormatter().format(record("x")))
    finally:
        request_id_var.reset(token)
    assert entry["request_id"] == "0123456789abcdef"
    assert "request_id" not in json.loads(JsonFormatter().format(record("x")))


def test_an_exception_is_kept_in_the_same_line() -> None:
    try:
        raise ValueError("ünïcödé")
    except ValueError:
        failed = record("failed")
        failed.exc_info = sys.exc_info()
    line = JsonFormatter().format(failed)
    assert "\n" not in line and "ünïcödé" in line  # readable, not escaped
    assert "ValueError: ünïcödé" in json.loads(line)["exception"]


@get("/ok", sync_to_thread=False)
def ok() -> dict[str, str | None]:
    return {"request_id": request_id_var.get()}


@get("/refused", sync_to_thread=False)
def refused() -> None:
    raise NotAuthorizedException()


@pytest.fixture
def client() -> TestClient[Litestar]:
    # No logging_config: Litestar would reconfigure this process's logging, and caplog with it.
    return TestClient(Litestar(route_handlers=[ok, refused], middleware=[request_id_middleware],
                               logging_config=None))


def access_lines(caplog: pytest.LogCaptureFixture) -> list[dict[str, object]]:
    return [dict(r.fields) for r in caplog.records if r.name == "breachdesk.access"]  # type: ignore[attr-defined]


def test_a_well_formed_caller_id_is_kept_and_anything_else_replaced(
        client: TestClient[Litestar]) -> None:
    with client:
        kept = client.get("/ok", headers={"X-Request-ID": "trace-42.a_b"})
        replaced = client.get("/ok", headers={"X-Request-ID": "bad id\r\nX-Evil: 1"})
        fresh = client.get("/ok")
    assert kept.headers["x-request-id"] == kept.json()["request_id"] == "trace-42.a_b"
    for response in (replaced, fresh):
        assert len(response.headers["x-request-id"]) == 16
        assert response.json()["request_id"] == response.headers["x-request-id"]
    assert fresh.headers["x-request-id"] != replaced.headers["x-request-id"]
    assert request_id_var.get() is None  # reset after each request


def test_each_request_is_logged_once_without_its_query_string(
        client: TestClient[Litestar], caplog: pytest.LogCaptureFixture) -> None:
    with client, caplog.at_level(logging.INFO, "breachdesk.access"):
        client.get("/ok?token=bd_secret&email=a@example.com")
        client.get("/refused")
    lines = access_lines(caplog)
    assert [(line["method"], line["path"], line["status"]) for line in lines] == [
        ("GET", "/ok", 200), ("GET", "/refused", 401)]
    assert all(isinstance(line["ms"], float) for line in lines)
    assert "bd_secret" not in caplog.text and "example.com" not in caplog.text


def test_http_clients_never_log_urls_once_logging_is_configured() -> None:
    # httpx logs "HTTP Request: GET <full URL>" at INFO: a token in a query string would leak.
    root = logging.getLogger()
    handlers, level = root.handlers[:], root.level
    configure_logging("INFO")
    try:
        assert root.isEnabledFor(logging.INFO)
        assert not logging.getLogger("httpx").isEnabledFor(logging.INFO)
        assert not logging.getLogger("httpcore").isEnabledFor(logging.INFO)
    finally:
        root.handlers[:], root.level = handlers, level
