"""Real peers on loopback for the outbox tests: an SMTP server (aiosmtpd) that keeps what
it receives, and a mail platform (HTTP) that records renewals and can be down for a while.
The fixtures `smtp`, `platform` and `worker` (one pass of the real worker pointed at them)
are registered in tests/api/conftest.py.
"""

from __future__ import annotations

import contextlib
import dataclasses
import email
import email.policy
import json
import socket
import threading
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from email.message import EmailMessage
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, TypeVar

import httpx
import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, Envelope, Session

from app.container import Container
from app.worker import deliverers, run_once

_Server = TypeVar("_Server", bound=ThreadingHTTPServer)

RunOnce = Callable[[], Awaitable[int]]


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


# --- an SMTP server that keeps what it receives ----------------------------------------------


@dataclasses.dataclass(frozen=True)
class Received:
    mail_from: str
    rcpt_tos: list[str]
    message: EmailMessage

    @property
    def text(self) -> str:
        body = self.message.get_body(preferencelist=("plain",))
        assert body is not None
        content: str = body.get_content()
        return content


class Inbox:
    def __init__(self) -> None:
        self.received: list[Received] = []

    async def handle_DATA(self, _server: SMTP, _session: Session, envelope: Envelope) -> str:
        raw = envelope.original_content or envelope.content
        assert isinstance(raw, bytes)
        message = email.message_from_bytes(raw, policy=email.policy.default)
        assert isinstance(message, EmailMessage)
        self.received.append(Received(str(envelope.mail_from), list(envelope.rcpt_tos), message))
        return "250 Message accepted for delivery"


@dataclasses.dataclass
class SmtpServer:
    port: int
    inbox: Inbox = dataclasses.field(default_factory=Inbox)
    controller: Controller | None = None

    def start(self) -> None:
        self.controller = Controller(self.inbox, hostname="127.0.0.1", port=self.port)
        self.controller.start()

    def stop(self) -> None:
        if self.controller is not None:
            self.controller.stop()
            self.controller = None


@pytest.fixture
def smtp() -> Iterator[SmtpServer]:
    server = SmtpServer(free_port())
    server.start()
    try:
        yield server
    finally:
        server.stop()


# --- a mail platform that records renewals, and can be down for a while ----------------------


@dataclasses.dataclass(frozen=True)
class PlatformCall:
    method: str
    path: str
    headers: dict[str, str]
    body: dict[str, Any]
    status: int


class MailPlatform(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), _PlatformHandler)
        self.calls: list[PlatformCall] = []
        self.fail_first = 0  # answer 503 to this many calls, then 201
        self.lock = threading.Lock()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}"

    def answered(self, status: int) -> list[PlatformCall]:
        with self.lock:
            return [call for call in self.calls if call.status == status]


class _PlatformHandler(BaseHTTPRequestHandler):
    server: MailPlatform

    def do_POST(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length)
        platform = self.server
        with platform.lock:
            status = 503 if len(platform.calls) < platform.fail_first else 201
            platform.calls.append(
                PlatformCall(
                    "POST",
                    self.path,
                    {k.lower(): v for k, v in self.headers.items()},
                    json.loads(raw) if raw else {},
                    status,
                )
            )
        answer = json.dumps({"ok": status == 201}).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(answer)))
        self.end_headers()
        self.wfile.write(answer)

    def log_message(self, format: str, *args: Any) -> None:
        pass


@contextlib.contextmanager
def serving(server: _Server) -> Iterator[_Server]:
    """A loopback HTTP server answering on its own thread until the block ends."""
    # Polled every 50 ms rather than the default 500: shutdown() waits for the next poll.
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    try:
        yield server
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


@pytest.fixture
def platform() -> Iterator[MailPlatform]:
    with serving(MailPlatform()) as server:
        yield server


def worker_container(db: Container, smtp_port: int, platform_url: str) -> Container:
    settings = db.settings.model_copy(
        update={
            "smtp_host": "127.0.0.1",
            "smtp_port": smtp_port,
            "mail_platform_url": platform_url,
            "mail_platform_token": "t",
        }
    )
    return dataclasses.replace(db, settings=settings)


@pytest.fixture
async def worker(db: Container, smtp: SmtpServer, platform: MailPlatform) -> AsyncIterator[RunOnce]:
    """One pass of the real worker, with the real deliverers pointed at the servers above."""
    container = worker_container(db, smtp.port, platform.url)
    async with httpx.AsyncClient() as http:
        senders = deliverers(container, http)

        async def once() -> int:
            return await run_once(container, senders)

        yield once
