"""HEAD answers wherever GET does: the GET's status and headers, no body (RFC 9110 9.3.2).

FastAPI routes answer only the methods they declare, so HEAD /v1/plans was a 405. Done
here, once, for every GET: a monitor or a mobile app can check a resource's ETag without
its body, and the OpenAPI document keeps one operation (one operation id) per GET.
"""

from __future__ import annotations

from starlette.types import ASGIApp, Message, Receive, Scope, Send


class HeadAsGetMiddleware:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] != "HEAD":
            await self.app(scope, receive, send)
            return

        async def send_without_body(message: Message) -> None:
            if message["type"] == "http.response.body":
                if message.get("more_body", False):
                    return
                # Content-Length stays the GET's, as RFC 9110 allows for HEAD.
                message = {"type": "http.response.body", "body": b"", "more_body": False}
            await send(message)

        # The same scope, not a copy: the outer middleware reads the matched route from it
        # for its metrics, and logs the request as the HEAD it was.
        scope["method"] = "GET"
        try:
            await self.app(scope, receive, send_without_body)
        finally:
            scope["method"] = "HEAD"
