"""The scale run's traffic: quotes, orders and signed payment webhooks, spread over
the api processes (request i goes to process i mod N, its next step to the next one),
`concurrency` in flight; some events delivered twice, at once, to two processes."""

from __future__ import annotations

import asyncio
import json
import uuid
from collections import Counter
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, TypeVar

import httpx

from app.adapters.webhook_signing import generic_payment, generic_signed
from bench.order_data import mailbox_id, order_body
from bench.scale_client import Answer, post, run_concurrently

T = TypeVar("T")
Order = dict[str, Any]
WEBHOOK_PATH = "/v1/webhooks/payments/generic"


CpuMeter = Callable[[], dict[str, float]]  # on-CPU seconds so far, by process kind


@dataclass(frozen=True)
class Timing:
    label: str
    count: int
    seconds: float
    cpu: dict[str, float] = field(default_factory=dict)  # seconds used, by process kind

    def cpu_per_op_us(self, kind: str) -> float | None:
        if not self.count or kind not in self.cpu:
            return None
        return self.cpu[kind] / self.count * 1e6

    @property
    def rate(self) -> float:
        return self.count / self.seconds if self.seconds else 0.0


@dataclass
class Traffic:
    """The api processes' clients, and every answer's status seen so far."""

    clients: Sequence[httpx.AsyncClient]
    auth: dict[str, str]
    webhook_secret: str
    concurrency: int
    meter: CpuMeter
    statuses: Counter[int] = field(default_factory=Counter)
    unexpected: list[str] = field(default_factory=list)  # a few, for the report
    timings: list[Timing] = field(default_factory=list)

    def client(self, i: int) -> httpx.AsyncClient:
        return self.clients[i % len(self.clients)]

    async def send(self, i: int, path: str, body: bytes, headers: dict[str, str]) -> Answer:
        answer = await post(self.client(i), path, body, headers)
        self.statuses[answer[0]] += 1
        return answer

    def expect(self, answer: Answer, status: int, what: str) -> bool:
        if answer[0] == status:
            return True
        if len(self.unexpected) < 5:
            self.unexpected.append(
                f"{what}: {answer[0]} {answer[1][:300].decode(errors='replace')}"
            )
        return False

    async def timed(self, label: str, count: int, call: Callable[[int], Awaitable[T]]) -> list[T]:
        before = self.meter()
        results, _, seconds = await run_concurrently(count, self.concurrency, call)
        self.timings.append(Timing(label, count, seconds, used_since(before, self.meter())))
        return results


def used_since(before: dict[str, float], after: dict[str, float]) -> dict[str, float]:
    return {kind: after[kind] - before.get(kind, 0.0) for kind in after}


def years_for(i: int) -> int:
    """1, 2 or 3 years: each mailbox's expiry must move by its own order's years."""
    return 1 + i % 3


async def make_quotes(traffic: Traffic, count: int) -> list[str | None]:
    """A quote per bench mailbox: each one's id, None where not `ok`."""

    async def quote(i: int) -> str | None:
        body = json.dumps({"years": years_for(i), "items": [{"mailbox_id": mailbox_id(i)}]})
        answer = await traffic.send(i, "/v1/quotes", body.encode(), traffic.auth)
        if not traffic.expect(answer, 201, "quote"):
            return None
        document = json.loads(answer[1])
        return str(document["id"]) if document.get("status") == "ok" else None

    return await traffic.timed("POST /v1/quotes", count, quote)


async def place_orders(traffic: Traffic, quote_ids: Sequence[str | None]) -> list[Order | None]:
    """A bank-transfer order per quote, on the process the quote was NOT made on."""

    async def order(i: int) -> Order | None:
        quote_id = quote_ids[i]
        if quote_id is None:
            return None
        headers = {**traffic.auth, "Idempotency-Key": f"scale-{uuid.uuid4().hex}"}
        answer = await traffic.send(i + 1, "/v1/orders", order_body(quote_id), headers)
        if not traffic.expect(answer, 201, "order"):
            return None
        placed: Order = json.loads(answer[1])
        return placed

    return await traffic.timed("POST /v1/orders", len(quote_ids), order)


@dataclass(frozen=True)
class Event:
    index: int  # the order's (and mailbox's) index
    event_id: str
    payload: dict[str, Any]


def payment_events(orders: Sequence[Order | None]) -> list[Event]:
    """One generic payment.succeeded per order placed, each with its own webhook-id."""
    return [
        Event(
            i,
            f"msg_scale_{uuid.uuid4().hex}",
            generic_payment(
                "payment.succeeded", o["number"], o["payable"]["amount"], o["payable"]["currency"]
            ),
        )
        for i, o in enumerate(orders)
        if o is not None
    ]


@dataclass(frozen=True)
class Acks:
    """The answers one event got: (status, duplicate, outcome) per delivery."""

    event: Event
    answers: tuple[tuple[int, bool | None, str | None], ...]

    @property
    def applied(self) -> int:
        """Deliveries answered 200 and not as a duplicate: exactly one is expected."""
        return sum(1 for status, duplicate, _ in self.answers if status == 200 and not duplicate)


async def pay(traffic: Traffic, events: Sequence[Event], twice_every: int) -> list[Acks]:
    """Each event signed at sending time and POSTed; every `twice_every`-th also to the
    next process at the same moment (same webhook-id and body, signed again)."""

    async def deliver(event: Event, process: int) -> tuple[int, bool | None, str | None]:
        body, headers = generic_signed(
            event.payload, traffic.webhook_secret, datetime.now(UTC), event.event_id
        )
        answer = await traffic.send(process, WEBHOOK_PATH, body, headers)
        if not traffic.expect(answer, 200, "webhook"):
            return answer[0], None, None
        ack = json.loads(answer[1])
        return answer[0], bool(ack["duplicate"]), ack.get("outcome")

    async def one(n: int) -> Acks:
        event = events[n]
        deliveries = [deliver(event, n)]
        if twice_every and n % twice_every == 0:
            deliveries.append(deliver(event, n + 1))
        return Acks(event, tuple(await asyncio.gather(*deliveries)))

    return await traffic.timed(f"POST {WEBHOOK_PATH}", len(events), one)
