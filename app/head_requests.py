"""HEAD answers wherever GET does: the GET's status and headers, no body (RFC 9110 9.3.2).

FastAPI routes answer only the methods they declare, so HEAD /v1/plans was a 405. Done
once, for every GET, by the request-context middleware (app/middleware.py) — one layer
per request instead of two: a monitor or a mobile app can check a resource's ETag without
its body, and the OpenAPI document keeps one operation (one operation id) per GET.
"""

from __future__ import annotations

from starlette.types import Message

HEAD = "HEAD"
# Content-Length stays the GET's, as RFC 9110 allows for HEAD.
EMPTY_BODY: Message = {"type": "http.response.body", "body": b"", "more_body": False}


def without_body(message: Message) -> Message | None:
    """What a HEAD sends instead of `message`: no body, one final empty chunk (None: skip)."""
    if message["type"] != "http.response.body":
        return message
    if message.get("more_body", False):
        return None
    return dict(EMPTY_BODY)
