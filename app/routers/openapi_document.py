"""The OpenAPI document as a frontend builds on it: complete statuses, problems, headers.

FastAPI renders each route; this completes the document from what the routes depend on,
so every operation lists every status it can answer:

* 401 where a token is needed, 403 where a role is, 413/415/422 where a body is
  (422 also where parameters are validated), 503 wherever the database is touched;
* every error as `application/problem+json` with the Problem schema only;
* the headers every answer carries (X-Request-ID, Content-Language), WWW-Authenticate
  on 401 and Retry-After on 503;
* `Idempotency-Key` marked required where its absence is a 428;
* Accept-Language on every /v1 operation, and the servers.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from fastapi import FastAPI
from fastapi.routing import APIRoute

from app.routers.deps import get_caller, get_partner_caller, get_staff_caller
from app.routers.openapi_examples import restore_examples
from app.routers.problems import FieldProblem, Problem
from app.routers.rate_limit_contract import document_rate_limits
from app.routers.responses import (
    CONTENT_LANGUAGE,
    CONTENT_LANGUAGE_ON_ERRORS,
    GENERIC_PROBLEMS,
    PROBLEM_JSON,
    PROBLEM_REF,
    REQUEST_ID,
    RETRY_AFTER,
    WWW_AUTHENTICATE,
)

# Operations that never touch the database: no 503 for them.
NO_DATABASE = frozenset({"healthz", "metrics"})
SERVERS = [
    {"url": "/", "description": "This server"},
    {"url": "http://127.0.0.1:8000", "description": "The sandbox (`make run`)"},
]
ACCEPT_LANGUAGE: dict[str, Any] = {
    "name": "Accept-Language",
    "in": "header",
    "required": False,
    "schema": {"type": "string", "examples": ["it", "en-GB,en;q=0.9"]},
    "description": "Language of messages: Italian (default) or English.",
}
_FASTAPI_VALIDATION_SCHEMAS = ("HTTPValidationError", "ValidationError")


def document_contract(app: FastAPI) -> None:
    """Replace `app.openapi` with one that completes FastAPI's document once."""
    build = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            app.openapi_schema = complete(build(), _routes_by_operation(app))
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]


def complete(document: dict[str, Any], routes: dict[str, APIRoute]) -> dict[str, Any]:
    document["servers"] = SERVERS
    restore_examples(document, routes)
    document_rate_limits(document, routes)
    for path, operations in document["paths"].items():
        for operation in operations.values():
            route = routes[operation["operationId"]]
            responses = operation.setdefault("responses", {})
            for status in sorted(_generic_statuses(route, operation)):
                responses.setdefault(str(status), {"description": GENERIC_PROBLEMS[status]})
            for status, response in responses.items():
                _complete_response(int(status), response)
            operation["responses"] = dict(sorted(responses.items()))
            if "428" in responses:
                _require_idempotency_key(operation)
            if path.startswith("/v1/"):
                operation.setdefault("parameters", []).append(ACCEPT_LANGUAGE)
    schemas = document.setdefault("components", {}).setdefault("schemas", {})
    for name in _FASTAPI_VALIDATION_SCHEMAS:
        schemas.pop(name, None)
    schemas.update(_problem_schemas())
    document["components"]["schemas"] = dict(sorted(schemas.items()))
    return document


def _generic_statuses(route: APIRoute, operation: dict[str, Any]) -> set[int]:
    calls = {node.call for node in _walk(route.dependant)}
    statuses: set[int] = set()
    if get_caller in calls:
        statuses.add(401)
    if calls & {get_staff_caller, get_partner_caller}:
        statuses.add(403)
    if route.body_field is not None:
        statuses |= {413, 415, 422}
    if any(_validated(parameter) for parameter in operation.get("parameters", [])):
        statuses.add(422)
    if route.operation_id not in NO_DATABASE:
        statuses.add(503)
    return statuses


def _validated(parameter: dict[str, Any]) -> bool:
    """Whether a parameter can be refused: anything but an unconstrained string."""
    schema = parameter.get("schema", {})
    variants = schema.get("anyOf", [schema])
    keep = {"type"}
    return any(
        set(v) - {"title", "description", "examples", "default"} - keep for v in variants
    ) or any(v.get("type") not in ("string", "null") for v in variants)


def _complete_response(status: int, response: dict[str, Any]) -> None:
    headers = response.setdefault("headers", {})
    headers.update(REQUEST_ID)
    if status < 400:
        headers.setdefault("Content-Language", CONTENT_LANGUAGE["Content-Language"])
        return
    response["content"] = {PROBLEM_JSON: {"schema": PROBLEM_REF}}
    headers.update(CONTENT_LANGUAGE_ON_ERRORS)
    if status == 401:
        headers.update(WWW_AUTHENTICATE)
    if status == 503:
        headers.update(RETRY_AFTER)


def _require_idempotency_key(operation: dict[str, Any]) -> None:
    for parameter in operation.get("parameters", []):
        if parameter["in"] == "header" and parameter["name"].lower() == "idempotency-key":
            parameter["required"] = True
            parameter["description"] += " Required: this operation moves money (428 without)."


def _problem_schemas() -> dict[str, Any]:
    template = "#/components/schemas/{model}"
    problem = Problem.model_json_schema(mode="serialization", ref_template=template)
    problem.pop("$defs", None)
    field = FieldProblem.model_json_schema(mode="serialization", ref_template=template)
    # Extension members are sent only by the problems they belong to.
    problem["required"] = ["type", "title", "status", "detail", "code", "instance", "errors"]
    return {"Problem": problem, "FieldProblem": field}


def _walk(dependant: Any) -> Iterator[Any]:
    for sub in dependant.dependencies:
        yield sub
        yield from _walk(sub)


def _routes_by_operation(app: FastAPI) -> dict[str, APIRoute]:
    found: dict[str, APIRoute] = {}
    pending: list[Any] = list(app.routes)
    while pending:
        route = pending.pop()
        if isinstance(route, APIRoute) and route.operation_id:
            found[route.operation_id] = route
        nested = getattr(route, "original_router", None) or getattr(route, "router", None)
        if nested is not None and nested is not route:
            pending.extend(getattr(nested, "routes", []))
    return found
