"""How operations declare their answers in the contract: problems and response headers.

A route names only what is its own (a 404's or a 409's codes, a 201's Location); the
statuses every operation of a kind can answer (401, 403, 413, 415, 422, 503) and the
headers every response carries are added to the document by `app.routers.openapi_document`
from the route's dependencies, so they can't be forgotten on a new operation.
"""

from __future__ import annotations

from typing import Any

PROBLEM_JSON = "application/problem+json"
PROBLEM_REF = {"$ref": "#/components/schemas/Problem"}


def problem(description: str) -> dict[str, Any]:
    """An error answer: problem+json with the Problem schema (and nothing else)."""
    return {"description": description, "content": {PROBLEM_JSON: {"schema": PROBLEM_REF}}}


def header(description: str, *, required: bool = True, **schema: Any) -> dict[str, Any]:
    return {
        "description": description,
        "required": required,
        "schema": {"type": "string", **schema},
    }


LOCATION = {"Location": header("The new resource's path.", examples=["/v1/quotes/q_1f2e3d"])}
REPLAYED = {
    "Idempotent-Replayed": header(
        "`true` when this is the replay of the Idempotency-Key's first answer "
        "(absent on the first answer).",
        required=False,
        enum=["true"],
    )
}
CACHING = {
    "ETag": header("The price list's version, for `If-None-Match`.", examples=['"pl-2026-1"']),
    "Cache-Control": header(
        "How long the answer may be reused.", examples=["public, max-age=60, must-revalidate"]
    ),
}
REQUEST_ID = {
    "X-Request-ID": header(
        "The request's id (yours if you sent a printable one of up to 128 characters): "
        "quote it when reporting a problem.",
        maxLength=128,
    )
}
CONTENT_LANGUAGE_ON_ERRORS = {
    "Content-Language": header("Language of the messages: `it` or `en`.", enum=["it", "en"])
}
CONTENT_LANGUAGE = {
    "Content-Language": header(
        "Language of the messages in the body (`it` or `en`), where it has any.",
        required=False,
        enum=["it", "en"],
    )
}
RETRY_AFTER = {"Retry-After": header("Seconds to wait before retrying.", pattern=r"^\d+$")}
WWW_AUTHENTICATE = {
    "WWW-Authenticate": header(
        'The Bearer challenge (`Bearer`, or `Bearer error="invalid_token"` when the token '
        "sent was refused).",
        examples=["Bearer", 'Bearer error="invalid_token"'],
    )
}

# What each generic status means, where a route says nothing more specific.
GENERIC_PROBLEMS: dict[int, str] = {
    401: "`not_authenticated`: no token, or an invalid or expired one.",
    403: "`forbidden`: your role may not call this operation.",
    413: "`request_too_large`: the body is larger than the service accepts.",
    415: "`unsupported_media_type`: the body must be `application/json`.",
    422: "`validation_failed`: the request is malformed; `errors[]` names every field.",
    503: "`database_unavailable`: retry after `Retry-After` seconds.",
}
