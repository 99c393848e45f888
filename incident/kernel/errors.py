"""The one root of domain errors, and its common kinds.

Every rule broken anywhere raises a `DomainError`: the HTTP edge turns it into
RFC 9457 problem details (kernel/problems.py), the CLI into one line on stderr and
a non-zero exit status (kernel/console.py). Pure code; no framework imported here.
"""

from __future__ import annotations

from typing import Any


class DomainError(Exception):
    """A broken rule: `status` and `slug` say which kind, `detail` says what, for a person."""

    status = 400
    slug = "bad-request"
    title = "Bad request"

    def __init__(self, detail: str, **extensions: Any) -> None:
        super().__init__(detail)
        self.detail = detail
        self.extensions = extensions


class NotFound(DomainError):
    status, slug, title = 404, "not-found", "Not found"


class Conflict(DomainError):
    status, slug, title = 409, "conflict", "Conflict"


class Unauthenticated(DomainError):
    status, slug, title = 401, "unauthenticated", "Authentication required"


class TooManyAttempts(DomainError):
    status, slug, title = 429, "too-many-attempts", "Too many attempts"


class Invalid(DomainError):
    """Input that parsed but breaks a rule; `errors` lists each field and what is wrong."""

    status, slug, title = 422, "invalid", "Invalid input"

    def __init__(self, detail: str, errors: list[dict[str, str]] | None = None) -> None:
        super().__init__(detail, errors=errors or [])

    @classmethod
    def fields(cls, problems: list[tuple[str, str]]) -> Invalid:
        errors = [{"field": name, "message": message} for name, message in problems]
        return cls("; ".join(f"{name} {message}" for name, message in problems), errors)


class Forbidden(DomainError):
    """The actor's role does not carry the permission the action needs."""

    status, slug, title = 403, "forbidden", "Forbidden"


class ConfigurationError(Exception):
    """A file the service is configured to read (a regime, a runbook…) is invalid.

    Not a `DomainError`: no request caused it. The service and every command that needs the
    file refuse to start, printing the message: one line per problem, naming the file, the
    field and the problem."""
