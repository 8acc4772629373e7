"""`make bench` compares the product's trivial endpoint with a bare FastAPI app on a pair
of servers started for each round, so a run's median is a median of pairings, not the
luck of one pair of processes."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path

import pytest

from bench import phases
from bench.harness import BARE_APP, PRODUCT_APP, BenchDatabase
from bench.order_flow import Sizes
from bench.phases import Bench, Plan, measure_pair
from bench.targets import BARE, PAIRED_TRIVIAL, TRIVIAL, trivial_vs_bare_row
from bench.wrk import Load, Loader, Request


class Servers:
    """Stands in for uvicorn: each started server gets a new port, and what ran is kept."""

    def __init__(self) -> None:
        self.started: list[tuple[int, str]] = []  # (port, factory)
        self.stopped: list[int] = []
        self.turns: list[list[int]] = []  # the ports of each alternated pair, in order

    @contextmanager
    def loader(
        self, _env: dict[str, str], factory: str = PRODUCT_APP, *_args: str
    ) -> Iterator[tuple[Loader, Path]]:
        port = 9000 + len(self.started)
        self.started.append((port, factory))
        try:
            yield Loader("wrk", f"http://127.0.0.1:{port}", port, Path("/x"), 2, 1), Path("/x")
        finally:
            self.stopped.append(port)

    def alternated(
        self, pair: Sequence[tuple[Loader, Request, str]], connections: int, _turns: int
    ) -> list[Load]:
        ports = [loader.pgid for loader, _, _ in pair]
        assert not set(ports) & set(self.stopped), "a pair is loaded while its servers run"
        self.turns.append(ports)
        # req/s that tells the servers apart: the port itself
        return [Load(label, connections, port, 1.0, 1.0, 2.0, 100.0) for port, (_, _, label)
                in zip(ports, pair, strict=True)]  # fmt: skip


@pytest.fixture
def servers(monkeypatch: pytest.MonkeyPatch) -> Servers:
    fake = Servers()
    monkeypatch.setattr(Bench, "loader", fake.loader)
    monkeypatch.setattr(phases, "steady_alternated", fake.alternated)
    return fake


def _bench() -> Bench:
    plan = Plan(3, 2, 1, 64, 8, Sizes(1, 1, 1, 1), ())
    return Bench("wrk", Path("/x"), BenchDatabase("", "db", "postgresql+asyncpg://h/db", ""), plan)


def test_every_round_loads_a_bare_app_and_a_product_server_of_its_own(servers: Servers) -> None:
    bench = _bench()

    pairs = [measure_pair(bench, number) for number in (1, 2, 3)]

    assert [factory for _, factory in servers.started] == [BARE_APP, PRODUCT_APP] * 3
    ports = [port for port, _ in servers.started]
    assert len(set(ports)) == 6
    # Each round's servers are stopped before the next round starts its own.
    assert servers.stopped == [9001, 9000, 9003, 9002, 9005, 9004]
    # Trivial's load first, from the product server; the bare app's second.
    assert [(trivial.label, trivial.requests, bare.label, bare.requests)
            for trivial, bare in pairs] == [
        (PAIRED_TRIVIAL, 9001, BARE, 9000),
        (PAIRED_TRIVIAL, 9003, BARE, 9002),
        (PAIRED_TRIVIAL, 9005, BARE, 9004),
    ]  # fmt: skip


def test_the_side_that_starts_the_turns_changes_each_round(servers: Servers) -> None:
    bench = _bench()

    for number in (1, 2, 3):
        measure_pair(bench, number)

    # bare first in odd rounds, the product first in even ones
    assert servers.turns == [[9000, 9001], [9003, 9002], [9004, 9005]]


def test_trivial_vs_bare_is_the_median_of_the_rounds_pairs() -> None:
    def loads(label: str, rates: Sequence[int]) -> list[Load]:
        return [Load(label, 64, rate, 1.0, 1.0, 2.0, 100.0) for rate in rates]

    # The product server's own trivial endpoint serves far less: not the row's figure.
    by_label = {
        BARE: {64: loads(BARE, [1000, 1000, 1000])},
        PAIRED_TRIVIAL: {64: loads(PAIRED_TRIVIAL, [700, 900, 950])},
        TRIVIAL: {c: loads(TRIVIAL, [100, 100, 100]) for c in (64, 8)},
    }

    row = trivial_vs_bare_row(by_label, 64)

    assert row.measured == "0.90 (900 / 1,000; 0.70–0.95)"
    assert row.met
    by_label[PAIRED_TRIVIAL] = {64: loads(PAIRED_TRIVIAL, [700, 790, 950])}
    assert not trivial_vs_bare_row(by_label, 64).met
