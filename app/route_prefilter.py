"""Cheaper routing for every route: skip a route or an included router whose paths cannot match.

FastAPI 0.16x keeps each `include_router` as one lazy entry that, for every request, walks
all of its routes, setting and restoring per-route context in the scope around each regex
match. The app's router walks those entries in order until one matches, so a request to a
route registered late paid for every route before it: ~100 µs of a ~200 µs request on
these machines (issue 10). Here each included router gets a guard: the literal beginnings
of its routes' paths (`/v1/quotes/{quote_id}` -> `/v1/quotes/`), checked with one
`str.startswith` before the walk. A route's regex can only match a path that begins with
its literal part, so the guard never turns away a path the router would have taken (nor a
405's partial match, nor a redirect_slashes retry): it only saves the walk that would have
answered "no match". An entry whose routes are not plain API routes (mounts, hosts,
frontends) keeps FastAPI's walk unchanged.

The app's own routes (the OpenAPI document, the docs pages and their static mount) get the
same guard, their literal prefix read once: a regex match each cost a request to any
route after them ~1-2 µs (issue 10: the trivial endpoint walked past five of them).

Even a guard is a call: 22 of them before a route registered last. So the app's router
walks, for each request, only the entries that can match a path with its first segment
(`v1` in /v1/quotes): FastAPI's own walk over a copy of the router holding just those, in
their order. The narrowed walk finds the same route, the same partial match (405) and the
same redirect (a trailing slash never changes the first segment) as the whole walk would.
"""

from __future__ import annotations

import copy
from collections.abc import Callable, Iterable
from typing import Any

from fastapi import FastAPI
from fastapi.routing import APIRoute, APIRouter
from starlette._utils import get_route_path
from starlette.routing import BaseRoute, Match, Mount, Route, WebSocketRoute
from starlette.types import ASGIApp, Receive, Scope, Send

Matcher = Callable[[Scope], tuple[Match, Scope]]
# Each distinct first segment keeps a narrowed walk; past these, the whole walk serves.
MAX_WALKS = 64
# The router reads a child scope only from a FULL or PARTIAL match: one shared answer will do.
_NO_MATCH: tuple[Match, Scope] = (Match.NONE, {})


def prefilter_routes(app: FastAPI) -> None:
    """Guard each route and included router of `app` (those so far) with its path prefixes,
    and let the app's router walk only the entries that can match a request's first segment."""
    router = app.router
    for route in router.routes:
        # An instance attribute shadows the class's method for `route.matches(...)`.
        if callable(getattr(route, "effective_route_contexts", None)):
            setattr(route, "matches", _guarded_router(route, route.matches))  # noqa: B010
        elif isinstance(route, Route | WebSocketRoute | Mount):
            setattr(route, "matches", _guarded((_literal_prefix(route),), route.matches))  # noqa: B010
    if router.middleware_stack == router.app:  # no router-level middleware to keep
        router.middleware_stack = FirstSegmentDispatch(router)


class FirstSegmentDispatch:
    """The router's walk, over the entries that can match a path with this first segment."""

    def __init__(self, router: APIRouter) -> None:
        self.router = router
        self._walks: dict[str, ASGIApp] = {}
        self._indexed = -1  # how many routes the walks were built from

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        router = self.router
        if scope["type"] == "lifespan":
            await router.app(scope, receive, send)
            return
        if len(router.routes) != self._indexed:  # a route added since (before serving)
            self._walks.clear()
            self._indexed = len(router.routes)
        path: str = get_route_path(scope) if scope.get("root_path") else scope["path"]
        end = path.find("/", 1)
        segment = path[1:end] if end > 0 else path[1:]
        walk = self._walks.get(segment)
        if walk is None:
            walk = self._walks[segment] = self._narrowed(segment)
        if "router" not in scope:
            scope["router"] = router  # url_for and the like see every route
        await walk(scope, receive, send)

    def _narrowed(self, segment: str) -> ASGIApp:
        if len(self._walks) >= MAX_WALKS:  # first segments a client made up
            return self.router.app
        narrowed = copy.copy(self.router)
        narrowed.routes = [r for r in self.router.routes if _may_match(r, segment)]
        return narrowed.app


def _literal_prefix(route: Route | WebSocketRoute | Mount) -> str:
    # A mount's path_format ends in its `{path}` (starlette compiles `path/{path:path}`).
    return route.path_format.split("{", 1)[0]


def _may_match(route: BaseRoute, segment: str) -> bool:
    """False only if `route` matches no path whose first segment is `segment`."""
    if isinstance(route, Route | WebSocketRoute | Mount):
        prefixes: tuple[str, ...] | None = (_literal_prefix(route),)
    elif callable(getattr(route, "effective_route_contexts", None)):
        if any(True for _ in route.effective_low_priority_routes()):  # type: ignore[attr-defined]
            return True  # frontends: the router's fallback walk reads them from each entry
        prefixes = literal_prefixes(route.effective_route_contexts())  # type: ignore[attr-defined]
    else:
        prefixes = None  # a host, or what else may come: always walked
    if prefixes is None:
        return True
    return any(_prefix_may_start(prefix, segment) for prefix in prefixes)


def _prefix_may_start(prefix: str, segment: str) -> bool:
    """Whether a path beginning with `prefix` ("/v1/quotes/") can have first segment `segment`."""
    rest = prefix[1:]
    end = rest.find("/")
    # The prefix's first segment is whole (it is followed by "/") or only begun.
    return rest[:end] == segment if end >= 0 else segment.startswith(rest)


def literal_prefixes(contexts: Iterable[Any]) -> tuple[str, ...] | None:
    """The literal beginnings of these routes' path templates, or None if one is not an
    API route (then no prefix can be promised). Shortest first, none covered by another."""
    prefixes: list[str] = []
    for context in contexts:
        if not isinstance(getattr(context, "original_route", None), APIRoute):
            return None
        path_format = getattr(context, "path_format", None)
        if not isinstance(path_format, str) or not path_format.startswith("/"):
            return None
        prefixes.append(path_format.split("{", 1)[0])
    kept: list[str] = []
    for prefix in sorted(set(prefixes), key=len):
        if not any(prefix.startswith(shorter) for shorter in kept):
            kept.append(prefix)
    return tuple(kept)


def _guarded(prefixes: tuple[str, ...], matches: Matcher) -> Matcher:
    def guarded_matches(scope: Scope) -> tuple[Match, Scope]:
        # As below: the path read inline, most often "no match" with one startswith.
        path = get_route_path(scope) if scope.get("root_path") else scope["path"]
        if path.startswith(prefixes):
            return matches(scope)
        return _NO_MATCH

    return guarded_matches


def _guarded_router(route: BaseRoute, matches: Matcher) -> Matcher:
    # Prefixes are read on the first request, when every route has been added to the
    # included routers (an app adds none while it serves).
    prefixes: tuple[str, ...] | None = None
    ready = False

    def guarded_matches(scope: Scope) -> tuple[Match, Scope]:
        nonlocal prefixes, ready
        if not ready:
            prefixes = literal_prefixes(route.effective_route_contexts())  # type: ignore[attr-defined]
            ready = True
        # Called for every included router on every request: the path is read inline
        # (get_route_path's answer when the app is not mounted under a root path).
        path = get_route_path(scope) if scope.get("root_path") else scope["path"]
        if prefixes is not None and not path.startswith(prefixes):
            return _NO_MATCH
        return matches(scope)

    return guarded_matches
