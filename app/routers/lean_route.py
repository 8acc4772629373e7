"""Routes that serve the everyday request without FastAPI's per-request dependency solving.

FastAPI 0.165 solves a route's whole dependency tree again for every request, walking
each node's parameters by kind and recomputing what it knows of each (is it a generator,
does it use scopes, its cache key): for POST /v1/quotes (a JSON body, the caller, an
Idempotency-Key header) that was ~40% of the HTTP layer's CPU (issue 10). A LeanRoute
reads the same parameters directly when the request is the everyday one: a JSON body that
validates, a bearer token verified before, well-formed headers and path parameters.
Anything else (no token or a new one, a malformed body or header, another content type)
goes through FastAPI's own handler, so every error answer, and every first sight of a
token, is exactly FastAPI's.

A route is served this way only when all of its parameters are of the kinds read here and
its endpoint returns a Response (so nothing of FastAPI's response handling is skipped);
any other route keeps FastAPI's handler unchanged.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Coroutine
from dataclasses import dataclass
from typing import Annotated, Any, get_type_hints

from fastapi import Request, Response
from fastapi.dependencies.models import Dependant
from fastapi.routing import APIRoute
from pydantic import TypeAdapter

from app.routers.deps import get_caller, known_caller

Handler = Callable[[Request], Coroutine[Any, Any, Response]]
_ONE_HEADER = (str, str | None)  # header parameters read here: one value, its first copy
# What a dependency gives when it can be had without work; None: ask FastAPI.
FAST_DEPENDENCIES: dict[Callable[..., Any], Callable[[Request], Any]] = {get_caller: known_caller}


class LeanRoute(APIRoute):
    def get_route_handler(self) -> Handler:
        standard = super().get_route_handler()
        plan = _plan(self)
        if plan is None:
            return standard
        endpoint: Callable[..., Awaitable[Response]] = self.endpoint

        async def handler(request: Request) -> Response:
            values = await plan.values(request)
            if values is None:
                return await standard(request)
            return await endpoint(**values)

        return handler


@dataclass(frozen=True, slots=True)
class _Plan:
    """How to read a route's parameters from the everyday request."""

    request_name: str | None
    body_name: str
    body_adapter: TypeAdapter[Any] | None  # validates the body's JSON as FastAPI's field does
    paths: tuple[tuple[str, str, Any], ...]  # (parameter, path parameter, ModelField)
    headers: tuple[tuple[str, str, Any], ...]  # (parameter, header name, ModelField)
    dependencies: tuple[tuple[str, Callable[[Request], Any]], ...]

    async def values(self, request: Request) -> dict[str, Any] | None:
        """The endpoint's arguments, or None where FastAPI must decide."""
        values: dict[str, Any] = {}
        for name, fast in self.dependencies:
            value = fast(request)
            if value is None:
                return None
            values[name] = value
        for name, key, field in self.paths:
            value, errors = field.validate(request.path_params[key], values, loc=("path", key))
            if errors:
                return None
            values[name] = value
        for name, header, field in self.headers:
            raw = request.headers.get(header)
            if raw is None:
                if field.field_info.is_required():
                    return None
                values[name] = field.field_info.get_default(call_default_factory=True)
                continue
            value, errors = field.validate(raw, values, loc=("header", header))
            if errors:
                return None
            values[name] = value
        if self.body_adapter is not None:
            content_type = request.headers.get("content-type") or ""
            if content_type.partition(";")[0].strip().lower() != "application/json":
                return None
            raw_body = await request.body()  # kept on the request, should FastAPI read it
            if not raw_body:
                return None
            try:
                # Parsed and validated in one pass, in pydantic's core; what fails here
                # (bad JSON, `null`, a wrong field) FastAPI's handler answers.
                values[self.body_name] = self.body_adapter.validate_json(raw_body)
            except (ValueError, RecursionError):  # ValidationError is a ValueError
                return None
        if self.request_name is not None:
            values[self.request_name] = request
        return values


def _plan(route: APIRoute) -> _Plan | None:
    """The route's plan, or None when a parameter is of a kind not read here."""
    dependant = route.dependant
    if not _returns_response(route.endpoint) or _has_other_parameters(dependant):
        return None
    if len(dependant.body_params) > 1 or route._embed_body_fields:
        return None
    if any(f.field_info.annotation not in _ONE_HEADER for f in dependant.header_params):
        return None  # a list of values (FastAPI reads every copy of the header)
    dependencies = []
    for sub in dependant.dependencies:
        fast = FAST_DEPENDENCIES.get(sub.call) if sub.call is not None else None
        if fast is None or sub.name is None or sub.use_cache is False:
            return None
        dependencies.append((sub.name, fast))
    paths = tuple((f.name, f.alias, f) for f in dependant.path_params)
    # A header's alias is its name on the wire (FastAPI turned `x_key` into `x-key`).
    headers = tuple((f.name, f.alias.lower(), f) for f in dependant.header_params)
    body = dependant.body_params[0] if dependant.body_params else None
    return _Plan(
        request_name=dependant.request_param_name,
        body_name=body.name if body is not None else "",
        # FastAPI's own adapter for a body field is built the same way.
        body_adapter=(
            TypeAdapter(Annotated[body.field_info.annotation, body.field_info])  # type: ignore[arg-type]
            if body is not None
            else None
        ),
        paths=paths,
        headers=headers,
        dependencies=tuple(dependencies),
    )


def _has_other_parameters(dependant: Dependant) -> bool:
    return bool(
        dependant.query_params
        or dependant.cookie_params
        or dependant.websocket_param_name
        or dependant.http_connection_param_name
        or dependant.response_param_name
        or dependant.background_tasks_param_name
        or dependant.security_scopes_param_name
    )


def _returns_response(endpoint: Callable[..., Any]) -> bool:
    returned = get_type_hints(endpoint).get("return")
    return isinstance(returned, type) and issubclass(returned, Response)
