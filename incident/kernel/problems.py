"""The one mapping from any error to an RFC 9457 problem details body, at the HTTP edge."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import Any

from litestar import Request, Response
from litestar.exceptions import HTTPException, ValidationException
from litestar.status_codes import HTTP_500_INTERNAL_SERVER_ERROR

from incident.kernel.errors import DomainError

log = logging.getLogger("breachdesk.errors")


PROBLEM_JSON = "application/problem+json"


@dataclass
class Problem:
    status: int
    slug: str
    title: str
    detail: str
    extensions: dict[str, Any] = field(default_factory=dict)

    def body(self, instance: str) -> dict[str, Any]:
        return {"type": f"urn:breachdesk:problem:{self.slug}", "title": self.title,
                "status": self.status, "detail": self.detail, "instance": instance,
                **self.extensions}


def to_problem(exc: Exception) -> Problem:
    """Every error the service can raise, as a problem. Unknown errors reveal nothing."""
    if isinstance(exc, DomainError):
        return Problem(exc.status, exc.slug, exc.title, exc.detail, dict(exc.extensions))
    if isinstance(exc, ValidationException):
        return Problem(400, "malformed-request", "Malformed request", _validation_detail(exc),
                       {"errors": _validation_errors(exc.extra)})
    if isinstance(exc, HTTPException):
        slug = {401: "unauthenticated", 403: "forbidden", 404: "not-found",
                405: "method-not-allowed", 413: "body-too-large",
                429: "too-many-requests"}.get(exc.status_code, "http-error")
        return Problem(exc.status_code, slug, _reason(exc.status_code), exc.detail)
    return Problem(500, "internal-error", "Internal server error",
                   "the server failed to handle this request; it has been logged")


def _reason(status: int) -> str:
    from http import HTTPStatus

    try:
        return HTTPStatus(status).phrase
    except ValueError:
        return "Error"


def _validation_detail(exc: ValidationException) -> str:
    errors = _validation_errors(exc.extra)
    if errors:
        return "; ".join(f"{e['field']}: {e['message']}" for e in errors[:5])
    return exc.detail


def _validation_errors(extra: Any) -> list[dict[str, str]]:
    if not isinstance(extra, list):
        return []
    out = []
    for item in extra:
        if isinstance(item, dict):
            key = str(item.get("key") or item.get("loc") or "body")
            # pydantic prefixes a validator's own words; the field name says enough.
            message = str(item.get("message", "")).removeprefix("Value error, ")
            out.append({"field": key, "message": message})
    return out


def problem_response(request: Request[Any, Any, Any], exc: Exception) -> Response[Any]:
    problem = to_problem(exc)
    if problem.status == HTTP_500_INTERNAL_SERVER_ERROR:
        log.error("unhandled error on %s %s", request.method, request.url.path, exc_info=exc)
    body = problem.body(request.url.path)
    request_id = request.scope.get("state", {}).get("request_id")
    if request_id:
        body["request_id"] = request_id
    headers = dict(exc.headers or {}) if isinstance(exc, HTTPException) else {}
    if problem.status == 401:
        headers["WWW-Authenticate"] = 'Bearer realm="breachdesk"'
    return Response(body, status_code=problem.status, media_type=PROBLEM_JSON, headers=headers)
