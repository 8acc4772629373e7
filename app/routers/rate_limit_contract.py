"""Rate limits in the contract: which operations answer 429, and the RateLimit headers.

Every operation that takes a token can answer 429 (an address that failed to
authenticate too often); quotes, orders, the sandbox and payment webhooks also have a
budget of their own, and their answers carry the RateLimit headers
(draft-ietf-httpapi-ratelimit-headers-09). docs/rate-limits.md says the rest.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from fastapi.routing import APIRoute

from app.rate_limit_policy import LimitedGroup, limited_group
from app.routers.deps import get_caller
from app.routers.responses import RETRY_AFTER, header, problem

RATE_LIMIT_HEADERS = {
    "RateLimit-Policy": header(
        "This operation's limits: one item per window, `q` requests per `w` seconds.",
        required=False,
        examples=['"quotes/1s";q=20;w=1, "quotes/60s";q=600;w=60'],
    ),
    "RateLimit": header(
        "The tightest window: `r` requests left, `t` seconds until it frees one (or ends).",
        required=False,
        examples=['"quotes/60s";r=599;t=42'],
    ),
}
_WHO = {
    LimitedGroup.QUOTES: "per caller",
    LimitedGroup.ORDERS: "per caller",
    LimitedGroup.SANDBOX: "per caller",
    LimitedGroup.WEBHOOKS: "per payment provider",
}


def document_rate_limits(document: dict[str, Any], routes: dict[str, APIRoute]) -> None:
    """Add 429 (and the RateLimit headers) to the operations that can answer it."""
    for path, operations in document["paths"].items():
        for method, operation in operations.items():
            group = limited_group(method.upper(), path)
            authenticated = _takes_a_token(routes[operation["operationId"]])
            if group is None and not authenticated:
                continue
            causes = [f"too many requests {_WHO[group]}"] if group is not None else []
            if authenticated:
                causes.append("too many failed authentications from your address")
            refused = problem(f"`rate_limited`: {'; '.join(causes)}. Retry after `Retry-After`.")
            refused["headers"] = {**RETRY_AFTER, **(RATE_LIMIT_HEADERS if group else {})}
            responses = operation.setdefault("responses", {})
            responses["429"] = refused
            if group is not None:
                for status, response in responses.items():
                    if status.startswith("2"):
                        response.setdefault("headers", {}).update(RATE_LIMIT_HEADERS)


def _takes_a_token(route: APIRoute) -> bool:
    return any(node.call is get_caller for node in _walk(route.dependant))


def _walk(dependant: Any) -> Iterator[Any]:
    for sub in dependant.dependencies:
        yield sub
        yield from _walk(sub)
