"""`make bench` takes a steady run again while the host's steal spoils it, and says so."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from bench import wrk
from bench.harness import stolen_cpu_seconds
from bench.wrk import (
    STEAL_LIMIT,
    STEAL_RETAKES,
    Aim,
    Load,
    Loader,
    Request,
    steady_together,
)


def _loader_whose_runs_read(monkeypatch: pytest.MonkeyPatch, steals: list[float]) -> Loader:
    runs = iter(steals)

    def run(_wrk: str, aims: list[Aim], *, connections: int, **_kwargs: Any) -> list[Load]:
        steal = next(runs)
        return [
            Load(aim.label, connections, 1_000, 2.0, 1.0, 3.0, 300.0, steal=steal) for aim in aims
        ]

    monkeypatch.setattr(wrk, "for_duration", run)
    return Loader("wrk", "http://127.0.0.1:1", 1, Path("/nonexistent"), 2, 0)


def test_a_run_spoiled_by_steal_is_taken_again_until_one_is_clean(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    loader = _loader_whose_runs_read(monkeypatch, [0.35, STEAL_LIMIT + 0.01, 0.02])

    load = loader.steady(Request("GET", "/bench/trivial"), "trivial", 8)

    assert (load.steal, load.retakes) == (0.02, 2)


def test_a_clean_run_is_kept_as_it_is(monkeypatch: pytest.MonkeyPatch) -> None:
    loader = _loader_whose_runs_read(monkeypatch, [STEAL_LIMIT, 0.5])

    load = loader.steady(Request("GET", "/bench/trivial"), "trivial", 8)

    assert (load.steal, load.retakes) == (STEAL_LIMIT, 0)


def test_retakes_are_bounded_and_the_last_run_is_kept(monkeypatch: pytest.MonkeyPatch) -> None:
    steals = [0.3 + i / 100 for i in range(STEAL_RETAKES + 2)]
    loader = _loader_whose_runs_read(monkeypatch, steals)

    load = loader.steady(Request("GET", "/bench/trivial"), "trivial", 8)

    assert (load.steal, load.retakes) == (steals[STEAL_RETAKES], STEAL_RETAKES)


def test_loads_side_by_side_are_taken_again_together_each_under_its_own_label(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    loader = _loader_whose_runs_read(monkeypatch, [0.35, 0.01])
    other = Loader("wrk", "http://127.0.0.1:2", 2, Path("/nonexistent"), 2, 0)
    quote = Request("POST", "/v1/quotes")

    loads = steady_together([(loader, quote, "off"), (other, quote, "on")], 64)

    assert [(load.label, load.steal, load.retakes) for load in loads] == [
        ("off", 0.01, 1),
        ("on", 0.01, 1),
    ]


def test_the_hosts_steal_is_read_as_a_count_that_only_grows() -> None:
    first = stolen_cpu_seconds()
    assert 0 <= first <= stolen_cpu_seconds()
