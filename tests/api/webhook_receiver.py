"""A partner's webhook receiver on loopback: verifies our signature with the
`standardwebhooks` library, as a partner would, and can fail its first N deliveries."""

from __future__ import annotations

import dataclasses
import threading
from collections.abc import AsyncIterator, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import httpx
import pytest
from standardwebhooks import Webhook
from standardwebhooks.webhooks import WebhookVerificationError

from app.container import Container
from app.main import create_app
from app.services.outbox_delivery import DeliveryReport, deliver_due
from app.worker import deliverers
from tests.api.loopback_servers import serving


@dataclasses.dataclass(frozen=True)
class Delivered:
    headers: dict[str, str]
    body: bytes
    verified: dict[str, Any] | None  # the payload, when the signature verified
    status: int


class Receiver(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), _Handler)
        self.secret = ""
        self.fail_first = 0  # answer 503 to this many deliveries, then 204
        self.received: list[Delivered] = []
        self.lock = threading.Lock()

    @property
    def port(self) -> int:
        return int(self.server_address[1])

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/hooks/pec"


class _Handler(BaseHTTPRequestHandler):
    server: Receiver

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        headers = {k.lower(): v for k, v in self.headers.items()}
        receiver = self.server
        try:
            verified = Webhook(receiver.secret).verify(body, headers)
        except WebhookVerificationError:
            verified = None
        with receiver.lock:
            if verified is None:
                status = 400
            elif len(receiver.received) < receiver.fail_first:
                status = 503
            else:
                status = 204
            receiver.received.append(Delivered(headers, body, verified, status))
        self.send_response(status)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, format: str, *args: Any) -> None:
        pass


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    with serving(Receiver()) as server:
        yield server


def local_hooks(db: Container, *, allow_local: bool = True) -> Container:
    """The container of a development machine: endpoints on 127.0.0.1 allowed (or not)."""
    settings = db.settings.model_copy(update={"partner_webhook_allow_local_urls": allow_local})
    return dataclasses.replace(db, settings=settings)


class Delivery:
    """Runs the outbox delivery with the worker's own deliverers, at the clock's now."""

    def __init__(self, container: Container, http: httpx.AsyncClient) -> None:
        self._container = container
        self._senders = deliverers(container, http)

    async def run(self) -> DeliveryReport:
        container = self._container
        return await deliver_due(container.unit_of_work, self._senders, container.clock())


@pytest.fixture
async def delivery(db: Container) -> AsyncIterator[Delivery]:
    async with httpx.AsyncClient() as http:
        yield Delivery(local_hooks(db), http)


@pytest.fixture
async def local_client(db: Container) -> AsyncIterator[httpx.AsyncClient]:
    """The API of a development machine (PUT an endpoint on 127.0.0.1)."""
    transport = httpx.ASGITransport(app=create_app(container=local_hooks(db)))
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as http:
        yield http
