"""The one mapping from errors to RFC 9457 problem details: each kind of DomainError keeps its
status, slug, title and extensions; framework errors get theirs; anything else is a 500 that
reveals nothing but is logged."""

from __future__ import annotations

import logging

import pytest
from litestar import Litestar, get
from litestar.exceptions import (
    MethodNotAllowedException,
    NotAuthorizedException,
    NotFoundException,
    ValidationException,
)
from litestar.testing import TestClient

from incident.inventory.service import ImportRefused
from incident.kernel.access import CsrfRejected, PasswordChangeRequired
from incident.kernel.errors import (
    Conflict,
    DomainError,
    Forbidden,
    Invalid,
    NotFound,
    TooManyAttempts,
    Unauthenticated,
)
from incident.kernel.problems import PROBLEM_JSON, problem_response, to_problem
from incident.lifecycle.rules import Status, TransitionNotAllowed

KINDS: list[tuple[type[DomainError], int, str, str]] = [
    (DomainError, 400, "bad-request", "Bad request"),
    (NotFound, 404, "not-found", "Not found"),
    (Conflict, 409, "conflict", "Conflict"),
    (Unauthenticated, 401, "unauthenticated", "Authentication required"),
    (TooManyAttempts, 429, "too-many-attempts", "Too many attempts"),
    (Invalid, 422, "invalid", "Invalid input"),
    (Forbidden, 403, "forbidden", "Forbidden"),
    (CsrfRejected, 403, "csrf", "Forbidden"),
    (PasswordChangeRequired, 403, "password-change-required", "Password change required"),
    (ImportRefused, 422, "import-refused", "Import refused"),
]
"""Written out, so that a changed status or slug (which clients match on) fails a test."""

SECRET = "password=hunter2 at db.internal:5432"


@pytest.mark.parametrize(("kind", "status", "slug", "title"), KINDS,
                         ids=[kind.__name__ for kind, *_ in KINDS])
def test_each_domain_error_kind_keeps_its_status_slug_and_title(
        kind: type[DomainError], status: int, slug: str, title: str) -> None:
    problem = to_problem(kind("what went wrong"))
    assert (problem.status, problem.slug, problem.title, problem.detail) == (
        status, slug, title, "what went wrong")
    assert problem.body("/api/v1/x") == {
        "type": f"urn:breachdesk:problem:{slug}", "title": title, "status": status,
        "detail": "what went wrong", "instance": "/api/v1/x",
        **({"errors": []} if kind is Invalid else {})}


def test_extensions_travel_into_the_body() -> None:
    throttled = to_problem(TooManyAttempts("wait", retry_after=31)).body("/login")
    assert throttled["retry_after"] == 31
    invalid = to_problem(Invalid.fields([("email", "is not an e-mail address"),
                                         ("role", "is unknown")])).body("/api/v1/users")
    assert invalid["detail"] == "email is not an e-mail address; role is unknown"
    assert invalid["errors"] == [{"field": "email", "message": "is not an e-mail address"},
                                 {"field": "role", "message": "is unknown"}]
    moved = to_problem(TransitionNotAllowed(Status.CLOSED, Status.OPEN))
    assert (moved.status, moved.slug) == (409, "transition-not-allowed")
    assert moved.extensions == {"from": "closed", "to": "open", "allowed": []}


def test_a_validation_error_is_400_naming_each_field() -> None:
    problem = to_problem(ValidationException(
        detail="Validation failed", extra=[{"key": "title", "message": "too long"},
                                           {"key": "kind", "message": "unknown value"}]))
    assert (problem.status, problem.slug) == (400, "malformed-request")
    assert problem.detail == "title: too long; kind: unknown value"
    assert problem.extensions == {"errors": [{"field": "title", "message": "too long"},
                                             {"field": "kind", "message": "unknown value"}]}
    bare = to_problem(ValidationException(detail="Malformed body"))
    assert (bare.detail, bare.extensions) == ("Malformed body", {"errors": []})


@pytest.mark.parametrize(("exc", "status", "slug", "title"), [
    (NotAuthorizedException(), 401, "unauthenticated", "Unauthorized"),
    (NotFoundException(), 404, "not-found", "Not Found"),
    (MethodNotAllowedException(), 405, "method-not-allowed", "Method Not Allowed"),
])
def test_framework_errors_get_their_own_slug(exc: Exception, status: int, slug: str,
                                             title: str) -> None:
    problem = to_problem(exc)
    assert (problem.status, problem.slug, problem.title) == (status, slug, title)


def test_an_unknown_exception_is_a_500_that_reveals_nothing() -> None:
    problem = to_problem(RuntimeError(SECRET))
    assert (problem.status, problem.slug) == (500, "internal-error")
    assert SECRET not in repr(problem.body("/api/v1/x"))
    assert problem.extensions == {}


@get("/boom", sync_to_thread=False)
def boom() -> None:
    raise RuntimeError(SECRET)


@get("/who", sync_to_thread=False)
def who() -> None:
    raise Unauthenticated("sign in, or send an API token")


def test_the_response_is_problem_json_and_a_500_is_logged_not_shown(
        caplog: pytest.LogCaptureFixture) -> None:
    # No logging_config: Litestar would reconfigure this process's logging, and caplog with it.
    app = Litestar(route_handlers=[boom, who], exception_handlers={Exception: problem_response},
                   logging_config=None)
    with TestClient(app) as client, caplog.at_level(logging.ERROR, "breachdesk.errors"):
        failed = client.get("/boom")
        refused = client.get("/who")
    assert failed.status_code == 500
    assert failed.headers["content-type"].startswith(PROBLEM_JSON)
    assert failed.json()["instance"] == "/boom"
    assert SECRET not in failed.text and "Traceback" not in failed.text
    logged = [r for r in caplog.records if r.name == "breachdesk.errors"]
    assert len(logged) == 1 and logged[0].exc_info is not None
    assert SECRET in str(logged[0].exc_info[1])
    assert refused.status_code == 401
    assert refused.headers["www-authenticate"] == 'Bearer realm="breachdesk"'
    assert refused.json()["type"] == "urn:breachdesk:problem:unauthenticated"
