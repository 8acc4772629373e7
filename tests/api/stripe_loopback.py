"""A loopback HTTP server that plays Stripe's PaymentIntents API for the automatic
renewal tests: it records every POST /v1/payment_intents (form, headers) and approves,
or declines with Stripe's 402 card_error body."""

from __future__ import annotations

import dataclasses
import threading
from collections.abc import Iterator
from http.server import ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qsl

import pytest

from bench.loopback_peers import JsonHandler
from tests.api.loopback_servers import serving

DECLINED = {
    "error": {
        "type": "card_error",
        "code": "card_declined",
        "decline_code": "insufficient_funds",
        "message": "Your card has insufficient funds.",
    }
}


@dataclasses.dataclass(frozen=True)
class IntentRequest:
    path: str
    headers: dict[str, str]
    form: dict[str, str]


class FakeStripe(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), _StripeHandler)
        self.requests: list[IntentRequest] = []
        self.decline = False
        self.lock = threading.Lock()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}"


class _StripeHandler(JsonHandler):
    server: FakeStripe

    def do_POST(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        form = dict(parse_qsl(self.rfile.read(length).decode()))
        stripe = self.server
        with stripe.lock:
            stripe.requests.append(
                IntentRequest(self.path, {k.lower(): v for k, v in self.headers.items()}, form)
            )
            decline = stripe.decline
        status, body = (402, DECLINED) if decline else (200, _intent(form))
        self.answer(status, body)


def _intent(form: dict[str, str]) -> dict[str, Any]:
    return {
        "id": "pi_loopback",
        "object": "payment_intent",
        "amount": int(form.get("amount", "0")),
        "currency": form.get("currency"),
        "customer": form.get("customer"),
        "payment_method": form.get("payment_method"),
        "status": "succeeded",
    }


@pytest.fixture
def fake_stripe() -> Iterator[FakeStripe]:
    with serving(FakeStripe()) as server:
        yield server
