"""The published OpenAPI document, made to describe what the server enforces.

Litestar describes the routes (paths, parameters, operation ids). Every JSON body and JSON
response is then described by pydantic, the validator that enforces it, so the document and
the server cannot disagree on a field, a bound or an unknown property. Every problem a
route can answer is declared as `application/problem+json`: those its shape implies (a
guard: 401 and 403; parameters: 400; a path: 404; a body: 413 and 422) and those its
service raises, which the handler names in its `opt` with `also_answers`.
"""

from __future__ import annotations

import copy
import json
from collections.abc import Iterator
from typing import Any

import yaml
from litestar import Litestar, Request
from litestar.enums import RequestEncodingType
from litestar.handlers import HTTPRouteHandler
from litestar.openapi.plugins import JsonRenderPlugin, YamlRenderPlugin
from litestar.response import File, Redirect, Response, Stream, Template
from litestar.response.base import ASGIResponse
from litestar.routes import HTTPRoute
from pydantic import TypeAdapter
from pydantic.json_schema import JsonSchemaMode

from incident.kernel.access import UNSAFE, handler_permission, is_public
from incident.kernel.problems import PROBLEM_JSON

PROBLEMS_OPT = "problems"
BODY_OPT = "body"
CONTENT_OPT = "content"

REF = "#/components/schemas/{model}"

PROBLEM_SCHEMA: dict[str, Any] = {
    "title": "Problem",
    "description": "RFC 9457 problem details. `errors` names each refused field; other members "
                   "are extensions of the problem's type.",
    "type": "object",
    "required": ["type", "title", "status", "detail", "instance"],
    "properties": {
        "type": {"type": "string", "description": "urn:breachdesk:problem:<slug>"},
        "title": {"type": "string"},
        "status": {"type": "integer", "minimum": 400, "maximum": 599},
        "detail": {"type": "string"},
        "instance": {"type": "string", "description": "the request's path"},
        "request_id": {"type": "string"},
        "errors": {"type": "array", "items": {
            "type": "object", "required": ["field", "message"],
            "properties": {"field": {"type": "string"}, "message": {"type": "string"}}}},
    },
    "additionalProperties": True,
}

DESCRIPTIONS = {
    400: "Malformed request: it does not match this document (a type, a bound, an unknown "
         "field, JSON nested too deep)",
    401: "No valid credentials: a missing, unknown, expired or revoked token",
    403: "The credentials' role or token scope does not allow this",
    404: "No such resource",
    409: "The resource changed since it was read, or is in a state that does not allow this",
    413: "The request body is larger than the service accepts",
    422: "The request matches this document but breaks a rule of the service",
    429: "Too many attempts; retry later",
}

def also_answers(*statuses: int) -> dict[str, Any]:
    """A handler's `opt`: the problem statuses its service raises beyond what its shape implies
    (409 for a version conflict, 422 for a rule a query breaks, 404 for a named record)."""
    return {PROBLEMS_OPT: frozenset(statuses)}


def described_body(annotation: Any) -> dict[str, Any]:
    """A handler's `opt`: the JSON body it reads itself (to report every wrong field at once,
    as the CLI does), described as the model that validates it."""
    return {BODY_OPT: annotation}


def uploaded_body(*media_types: str) -> dict[str, Any]:
    """A handler's `opt`: the raw body it streams itself (a file), in one of `media_types`."""
    return {BODY_OPT: tuple(media_types)}


def answers_in(*media_types: str) -> dict[str, Any]:
    """A handler's `opt`: the media types of the file it answers with (an export, a download)."""
    return {CONTENT_OPT: tuple(media_types)}


def problem_statuses(handler: HTTPRouteHandler, method: str, path_params: bool) -> set[int]:
    """Every problem status `handler` can answer `method` with."""
    statuses: set[int] = set(handler.opt.get(PROBLEMS_OPT, ()))
    signature = handler.parsed_fn_signature.parameters
    has_body = "data" in signature
    if handler_permission(handler) is not None:
        statuses |= {401, 403}
    if path_params:
        statuses |= {400, 404}
    if _request_parameters(handler):
        statuses.add(400)
    if method in UNSAFE:
        statuses |= {400, 413}
        if path_params:  # a change to a record its state or version may not allow
            statuses.add(409)
    if has_body or BODY_OPT in handler.opt:
        statuses |= {400, 413, 422}
    return statuses


def _request_parameters(handler: HTTPRouteHandler) -> bool:
    """Whether the request itself carries parameters (query, header, cookie), beyond the
    dependencies the app injects."""
    provided = set(handler.resolve_dependencies())
    reserved = {"self", "request", "state", "scope", "socket", "headers", "cookies", "query",
                "body", "data"}
    return any(name not in provided and name not in reserved
               for name in handler.parsed_fn_signature.parameters)


def _operations(app: Litestar) -> Iterator[tuple[str, str, HTTPRouteHandler, bool]]:
    for route in app.routes:
        if not isinstance(route, HTTPRoute):
            continue
        for handler in route.route_handlers:
            for method in handler.http_methods:
                yield route.path_format, method, handler, bool(route.path_parameters)


def _json_body(handler: HTTPRouteHandler) -> Any | None:
    if (declared := handler.opt.get(BODY_OPT)) is not None:
        return None if isinstance(declared, tuple) else declared
    data = handler.parsed_fn_signature.parameters.get("data")
    if data is None:
        return None
    kwarg = data.kwarg_definition
    media_type = getattr(kwarg, "media_type", RequestEncodingType.JSON)
    if media_type not in (RequestEncodingType.JSON, "application/json"):
        return None
    return data.annotation


def _json_return(handler: HTTPRouteHandler) -> Any | None:
    returned = handler.parsed_fn_signature.return_type
    if CONTENT_OPT in handler.opt:
        return None
    if returned.is_subclass_of((File, Stream, Redirect, Template, ASGIResponse, bytes, str)) \
            or returned.annotation is None:
        return None
    if returned.is_subclass_of(Response):
        inner = returned.inner_types
        return inner[0].annotation if inner else None
    if handler.media_type not in ("application/json",):
        return None
    return returned.annotation


def _content_schemas(app: Litestar) -> tuple[dict[tuple[str, str, str], dict[str, Any]],
                                                 dict[str, Any]]:
    """Pydantic's schema of every JSON body (as validated) and response (as serialised),
    keyed by (path, method, "request"|"response"), with the definitions they refer to."""
    inputs: list[tuple[tuple[str, str, str], JsonSchemaMode, TypeAdapter[Any]]] = []
    for path, method, handler, _ in _operations(app):
        if handler.include_in_schema is False:
            continue
        if (body := _json_body(handler)) is not None:
            inputs.append(((path, method, "request"), "validation", TypeAdapter(body)))
        if (returned := _json_return(handler)) is not None:
            inputs.append(((path, method, "response"), "serialization", TypeAdapter(returned)))
    mapping, definitions = TypeAdapter.json_schemas(inputs, ref_template=REF)
    return ({key: schema for (key, _mode), schema in mapping.items()},
            definitions.get("$defs", {}))


def _references(node: Any) -> Iterator[str]:
    if isinstance(node, dict):
        ref = node.get("$ref")
        if isinstance(ref, str) and ref.startswith("#/components/schemas/"):
            yield ref.rsplit("/", 1)[1]
        for value in node.values():
            yield from _references(value)
    elif isinstance(node, list):
        for value in node:
            yield from _references(value)


def publish(app: Litestar, generated: dict[str, Any]) -> dict[str, Any]:
    """The document as served: `generated` (Litestar's) with bodies, responses, problems and
    public routes told as the server enforces them."""
    document = copy.deepcopy(generated)
    schemas, definitions = _content_schemas(app)
    for path, method, handler, path_params in _operations(app):
        operation = document.get("paths", {}).get(path, {}).get(method.lower())
        if operation is None:
            continue
        if isinstance(uploaded := handler.opt.get(BODY_OPT), tuple):
            operation["requestBody"] = {"required": True, "content": {
                media_type: {"schema": {"type": "string"}} for media_type in uploaded}}
        if (request := schemas.get((path, method, "request"))) is not None:
            operation["requestBody"]["content"] = {"application/json": {"schema": request}}
        success = str(handler.status_code)
        answer = operation["responses"].setdefault(success, {"description": "Success"})
        if (response := schemas.get((path, method, "response"))) is not None:
            answer["content"] = {"application/json": {"schema": response}}
        if media_types := handler.opt.get(CONTENT_OPT):
            answer["content"] = {media_type: {"schema": {"type": "string"}}
                                 for media_type in media_types}
        for status in sorted(problem_statuses(handler, method, path_params)):
            operation["responses"][str(status)] = {
                "description": DESCRIPTIONS.get(status, "Problem"),
                "content": {PROBLEM_JSON: {"schema": {"$ref": REF.format(model="Problem")}}}}
        if is_public(path):
            operation["security"] = []
    kept = {**document.get("components", {}).get("schemas", {}), **definitions,
            "Problem": PROBLEM_SCHEMA}
    document.setdefault("components", {})["schemas"] = _reachable(document, kept)
    return document


def _reachable(document: dict[str, Any], schemas: dict[str, Any]) -> dict[str, Any]:
    """The component schemas the paths refer to, directly or through each other."""
    seen: set[str] = set()
    pending = list(_references(document.get("paths", {})))
    while pending:
        name = pending.pop()
        if name in seen or name not in schemas:
            continue
        seen.add(name)
        pending.extend(_references(schemas[name]))
    return {name: schemas[name] for name in sorted(seen)}


class _Published:
    """Builds the served document once for both renderings (each app makes its own render
    plugins, and its routes do not change after start-up)."""

    def __init__(self) -> None:
        self._document: dict[str, Any] | None = None

    def __call__(self, request: Request[Any, Any, Any], generated: dict[str, Any]) -> dict[str, Any]:
        if self._document is None:
            self._document = publish(request.app, generated)
        return self._document


class PublishedJson(JsonRenderPlugin):
    """`/schema/openapi.json`: the published document."""

    def __init__(self, published: _Published) -> None:
        super().__init__()
        self._published = published

    def render(self, request: Request[Any, Any, Any], openapi_schema: dict[str, Any]) -> bytes:
        return json.dumps(self._published(request, openapi_schema)).encode()


class PublishedYaml(YamlRenderPlugin):
    """`/schema/openapi.yaml`: the published document."""

    def __init__(self, published: _Published) -> None:
        super().__init__()
        self._published = published

    def render(self, request: Request[Any, Any, Any], openapi_schema: dict[str, Any]) -> bytes:
        return yaml.safe_dump(self._published(request, openapi_schema), sort_keys=False,
                              allow_unicode=True).encode()


def render_plugins() -> list[JsonRenderPlugin | YamlRenderPlugin]:
    """The served renderings of the published document, sharing its one build."""
    published = _Published()
    return [PublishedJson(published), PublishedYaml(published)]
