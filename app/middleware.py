"""Pure ASGI middleware: request id, body-size limit, HEAD as GET, one log line and metrics
per request.

Pure ASGI (not BaseHTTPMiddleware), one layer, because it sits on every request's hot path:
issue 10 measured the product's trivial endpoint at 0.57 of a bare FastAPI app's req/s.
What it does per request is kept to what it needs: two header lookups, a counter-based
request id, the body limit wrapped around `receive` only when a body can come unannounced,
and metric children looked up once per (route, method, status).
"""

from __future__ import annotations

import json
import logging
from time import perf_counter
from typing import Any

from fastapi import HTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from app.head_requests import HEAD, without_body
from app.metrics import Metrics
from app.request_ids import new_request_id
from app.routers.messages import message, pick_language

log = logging.getLogger("app.requests")
REQUEST_ID = b"x-request-id"
# scope["state"] key: the headers every answer to the request gets, the request id first.
# A layer inside adds its own there (the rate limits) rather than wrapping `send` again.
RESPONSE_HEADERS = "response_headers"
CONTENT_LENGTH = b"content-length"
TRANSFER_ENCODING = b"transfer-encoding"


class BodyTooLarge(HTTPException):
    """An HTTPException so FastAPI's body parsing lets it through as a 413."""

    def __init__(self) -> None:
        super().__init__(status_code=413)


class RequestContextMiddleware:
    def __init__(self, app: ASGIApp, metrics: Metrics, max_body_bytes: int) -> None:
        self.app = app
        self.max_body_bytes = max_body_bytes
        self._record_request = metrics.requests.record

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = perf_counter()
        headers = dict(scope["headers"])
        sent_id = headers.get(REQUEST_ID)
        request_id = (sent_id is not None and _clean_request_id(sent_id)) or new_request_id()
        state = scope.setdefault("state", {})
        state["request_id"] = request_id
        added = state[RESPONSE_HEADERS] = [(REQUEST_ID, request_id.encode("latin-1"))]
        method = scope["method"]
        head = method == HEAD
        status = 0  # until the response starts

        async def send_with_id(msg: Message) -> None:
            nonlocal status
            if msg["type"] == "http.response.start":
                status = msg["status"]
                msg["headers"] = [*msg.get("headers", ()), *added]
            elif head:
                stripped = without_body(msg)
                if stripped is None:
                    return
                msg = stripped
            await send(msg)

        declared = headers.get(CONTENT_LENGTH)
        if declared is not None and (not declared.isdigit() or int(declared) > self.max_body_bytes):
            await _send_problem(scope, send_with_id, 413, "request_too_large")
        else:
            # A declared length is enforced by the server's framing, and HTTP/1.1 sends a
            # body without one only chunked: only then must the bytes be counted as they come.
            if declared is None and TRANSFER_ENCODING in headers:
                receive = self._limited(receive)
            if head:
                # The same scope, not a copy: the matched route is read from it for the
                # metrics, and the request is logged as the HEAD it was.
                scope["method"] = "GET"
            try:
                await self.app(scope, receive, send_with_id)
            except BodyTooLarge:
                if status:
                    raise
                await _send_problem(scope, send_with_id, 413, "request_too_large")
            except Exception:
                # A bug: still answer problem+json with the request id, log it, count it.
                log.exception("unhandled error", extra={"request_id": request_id})
                if status:
                    raise
                await _send_problem(scope, send_with_id, 500, "internal_error")
            finally:
                scope["method"] = method
        elapsed = perf_counter() - started
        template = _route_template(scope)
        # An app that returned without answering: the server answers 500 for it.
        self._record_request(template, method, status or 500, elapsed)
        if log.isEnabledFor(logging.INFO):
            log.info(
                "request",
                extra={
                    "request_id": request_id,
                    "method": method,
                    "path": scope["path"],
                    "route": template,
                    "status": status or 500,
                    "duration_ms": round(elapsed * 1000, 2),
                },
            )

    def _limited(self, receive: Receive) -> Receive:
        seen = 0

        async def limited_receive() -> Message:
            nonlocal seen
            msg = await receive()
            if msg["type"] == "http.request":
                seen += len(msg.get("body", b""))
                if seen > self.max_body_bytes:
                    raise BodyTooLarge()
            return msg

        return limited_receive


def _route_template(scope: Scope) -> str:
    """The matched route's full template (/v1/mailboxes/{mailbox_id}), never a raw path.

    FastAPI 0.16x matches included routers lazily: the prefixed template is on its
    effective route context; `scope["route"]` only knows the router's own path.
    """
    fastapi_scope = scope.get("fastapi")
    context = fastapi_scope.get("effective_route_context") if fastapi_scope else None
    template = getattr(context, "path_format", None) or getattr(scope.get("route"), "path", None)
    return template if isinstance(template, str) else "unmatched"


def _clean_request_id(raw: bytes) -> str | None:
    value = raw.decode("latin-1").strip()
    if 0 < len(value) <= 128 and value.isprintable():
        return value
    return None


async def _send_problem(scope: Scope, send: Send, status: int, code: str) -> None:
    """A problem+json answer for what happens outside FastAPI's exception handlers."""
    headers = dict(scope["headers"])
    accept = headers.get(b"accept-language")
    language = pick_language(accept.decode("latin-1") if accept else None)
    text = message(code, language)
    body: dict[str, Any] = {
        "type": f"urn:pec-renewal:problem:{code}",
        "title": text,
        "status": status,
        "detail": text,
        "code": code,
        "instance": scope["path"],
        "errors": [],
    }
    payload = json.dumps(body).encode()
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [
                (b"content-type", b"application/problem+json"),
                (b"content-length", str(len(payload)).encode()),
                (b"content-language", language.encode()),
            ],
        }
    )
    await send({"type": "http.response.body", "body": payload})
