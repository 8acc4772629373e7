"""A timed share of orders or webhooks follows its lead-in: one untimed request per
connection, replayed just before it, as a steady run follows its warm-up."""

from __future__ import annotations

from collections import Counter
from datetime import date

import pytest

from bench.order_flow import OrderReplay, Sizes, lead_in
from bench.wrk import Load, Request


class _Replays:
    """A Loader that records each replay: its label and requests."""

    base = "http://127.0.0.1:1"

    def __init__(self) -> None:
        self.sent: list[tuple[str, list[str]]] = []

    def replay(
        self,
        requests: list[Request],
        label: str,
        connections: int,
        match: str | None = None,  # noqa: ARG002
    ) -> Load:
        self.sent.append((label, [request.path for request in requests]))
        return Load(label, connections, len(requests), 1.0, 1.0, 2.0, 100.0, "", Counter({201: 1}))


def _flow(monkeypatch: pytest.MonkeyPatch, replays: _Replays, unpaid: int) -> OrderReplay:
    flow = OrderReplay(replays, "postgresql://x", {}, "s", Sizes(0, 10, 3, 0), (8, 2), date.today())  # type: ignore[arg-type]

    def take(count: int, analyzed: bool = False) -> list[Request]:
        return [Request("POST", f"/order/{i}") for i in range(count)]

    def webhooks(analyzed: bool = False) -> list[Request]:
        return [Request("POST", f"/hook/{i}") for i in range(unpaid)]

    monkeypatch.setattr(flow, "_take", take)
    monkeypatch.setattr(flow, "_webhooks", webhooks)
    return flow


def test_a_lead_in_is_one_request_per_connection_never_more_than_the_share() -> None:
    assert lead_in(8, 400) == 8
    assert lead_in(64, 4) == 4
    assert lead_in(8, 0) == 0


def test_every_order_the_run_places_counts_the_lead_ins() -> None:
    sizes = Sizes(warmup=5, timed=10, low=3, duplicates=0)
    # per round: 10 timed + 8 lead-in at 8 connections, 3 timed + 2 lead-in at 2
    assert sizes.total(2, (8, 2)) == 2 * 5 + 2 * (10 + 8 + 3 + 2)


def test_a_share_of_orders_is_timed_after_its_lead_in_and_both_count_as_placed(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    replays = _Replays()
    flow = _flow(monkeypatch, replays, unpaid=0)
    timed = flow.place(10, 8)
    assert replays.sent[0] == ("POST /v1/orders (lead-in)", [f"/order/{i}" for i in range(8)])
    assert replays.sent[1] == ("POST /v1/orders", [f"/order/{i}" for i in range(8, 18)])
    assert timed.requests == 10
    assert [load.label for load in flow.placing] == ["POST /v1/orders (lead-in)", "POST /v1/orders"]


def test_a_round_pays_each_share_after_its_own_lead_in_and_keeps_only_timed_ones_for_resending(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    replays = _Replays()
    flow = _flow(monkeypatch, replays, unpaid=(8 + 10) + (2 + 3))
    flow.round()
    webhooks = [sent for sent in replays.sent if sent[0].startswith("payment webhook")]
    assert [(label, len(paths)) for label, paths in webhooks] == [
        ("payment webhook (lead-in)", 8),
        ("payment webhook", 10),
        ("payment webhook (lead-in)", 2),
        ("payment webhook", 3),
    ]
    assert [request.path for request in flow.timed_webhooks] == [f"/hook/{i}" for i in range(8, 18)]
    assert [load.requests for load in flow.webhooks[8]] == [10]
    assert [load.requests for load in flow.webhooks[2]] == [3]
