"""Real peers on loopback, outside any test framework: an SMTP server (aiosmtpd) that
keeps what it receives, and a mail platform (HTTP) that records what it is told and can
be down for a while. The tests' fixtures (tests/api/loopback_servers.py) and the scale
run (bench/scale.py) both use them; each can count what arrived by its dedupe key.
"""

from __future__ import annotations

import contextlib
import dataclasses
import email
import email.policy
import hashlib
import json
import socket
import threading
from collections import Counter
from collections.abc import Iterator
from email.message import EmailMessage
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, TypeVar

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, Envelope, Session

_Server = TypeVar("_Server", bound=ThreadingHTTPServer)


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


# --- an SMTP server that keeps what it receives ----------------------------------------------


def email_message_id(dedupe_key: str) -> str:
    """The Message-ID the outbox's email sender derives from a dedupe key
    (app/adapters/email_sender.py): how a receiver tells a message sent twice."""
    return f"<{hashlib.sha256(dedupe_key.encode()).hexdigest()}@pec-renewal>"


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
        self.lock = threading.Lock()

    async def handle_DATA(self, _server: SMTP, _session: Session, envelope: Envelope) -> str:
        raw = envelope.original_content or envelope.content
        assert isinstance(raw, bytes)
        message = email.message_from_bytes(raw, policy=email.policy.default)
        assert isinstance(message, EmailMessage)
        with self.lock:
            self.received.append(
                Received(str(envelope.mail_from), list(envelope.rcpt_tos), message)
            )
        return "250 Message accepted for delivery"

    def message_ids(self) -> Counter[str]:
        """How many times each Message-ID arrived."""
        with self.lock:
            return Counter(str(r.message["Message-ID"]) for r in self.received)


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


@contextlib.contextmanager
def smtp_serving() -> Iterator[SmtpServer]:
    """An SMTP server on a free loopback port until the block ends."""
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
    request_queue_size = 128  # two workers and their retries never find the door shut

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

    def idempotency_keys(self, status: int = 201) -> Counter[str]:
        """How many times each Idempotency-Key was answered `status`."""
        return Counter(call.headers.get("idempotency-key", "") for call in self.answered(status))


class JsonHandler(BaseHTTPRequestHandler):
    """A loopback peer's handler: JSON answers, and no access log on stderr."""

    def answer(self, status: int, body: Any) -> None:
        payload = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)

    def log_message(self, format: str, *args: Any) -> None:
        pass


class _PlatformHandler(JsonHandler):
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
        self.answer(status, {"ok": status == 201})


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
