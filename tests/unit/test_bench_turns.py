"""`make bench` compares the bare app and the trivial endpoint in turns of a second, so a
host whose speed moves within seconds weighs on both alike."""

from __future__ import annotations

from pathlib import Path

import pytest

from bench import wrk
from bench.wrk import Aim, Load, Loader, Request, merged, steady_alternated

TRIVIAL = Request("GET", "/bench/trivial")


def _turns_taken(
    monkeypatch: pytest.MonkeyPatch,
) -> tuple[list[tuple[str, int, int]], list[list[str]]]:
    """Every timed wrk run, as (label, seconds, warm-up), and every warm-up's command; each
    timed turn answers 100 requests more than the one before, at 10 µs of server CPU per
    request more."""
    taken: list[tuple[str, int, int]] = []

    def run(
        _wrk: str, aims: list[Aim], *, connections: int, seconds: int, warmup: int
    ) -> list[Load]:
        taken.append((aims[0].label, seconds, warmup))
        n = len(taken)
        return [Load(aims[0].label, connections, 100 * n, seconds, n, 10 * n, 10.0 * n)]

    warmed: list[list[str]] = []
    monkeypatch.setattr(wrk, "for_duration", run)
    monkeypatch.setattr(wrk, "_run_together", lambda commands, _t: warmed.append(commands[0]))
    monkeypatch.setattr(wrk, "static_script", lambda _r, directory: directory / "static.lua")
    return taken, warmed


def _loader(port: int) -> Loader:
    return Loader("wrk", f"http://127.0.0.1:{port}", port, Path("/nonexistent"), 2, 1)


def test_the_two_sides_take_turns_a_b_b_a_and_each_gets_as_many(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    taken, warmed = _turns_taken(monkeypatch)
    pair = [(_loader(1), TRIVIAL, "bare"), (_loader(2), TRIVIAL, "trivial")]

    steady_alternated(pair, 64, turns=4)

    # One warm-up of the loader's length each, before any turn.
    assert [(command[-1], "-d1s" in command) for command in warmed] == [
        ("http://127.0.0.1:1/bench/trivial", True),
        ("http://127.0.0.1:2/bench/trivial", True),
    ]

    order = "".join("A" if label == "bare" else "B" for label, _, _ in taken)
    assert order == "ABBAABBA"
    assert {(seconds, warmup) for _, seconds, warmup in taken} == {(1, 0)}


def test_each_side_is_its_turns_added_up(monkeypatch: pytest.MonkeyPatch) -> None:
    _turns_taken(monkeypatch)
    pair = [(_loader(1), TRIVIAL, "bare"), (_loader(2), TRIVIAL, "trivial")]

    bare, trivial = steady_alternated(pair, 64, turns=2)

    # Turns 1 and 4 were the bare app's (100 and 400 requests), 2 and 3 the trivial's.
    assert (bare.label, bare.requests, bare.seconds, bare.rps) == ("bare", 500, 2, 250)
    assert (trivial.label, trivial.requests, trivial.rps) == ("trivial", 500, 250)
    # CPU per request weighed by the requests of each turn: (100*10 + 400*40) / 500.
    assert bare.server_cpu_us == pytest.approx(34.0)
    assert (bare.p99_ms, trivial.p99_ms) == (40, 30)  # the slowest turn's


def test_merged_keeps_every_turns_errors_and_counts_nothing_twice() -> None:
    turns = [
        Load("trivial", 64, 1_000, 1.0, 5.0, 9.0, 100.0, "Non-2xx responses: 3"),
        Load("trivial", 64, 3_000, 1.0, 4.0, 8.0, 80.0),
        Load("trivial", 64, 2_000, 1.0, 6.0, 30.0, 90.0, "Socket errors: read 1"),
    ]

    load = merged(turns)

    assert (load.requests, load.seconds, load.p50_ms, load.p99_ms) == (6_000, 3.0, 5.0, 30.0)
    assert load.server_cpu_us == pytest.approx((100_000 + 240_000 + 180_000) / 6_000)
    assert load.errors == "Non-2xx responses: 3; Socket errors: read 1"


def test_only_a_pair_is_taken_in_turns() -> None:
    with pytest.raises(ValueError, match="exactly two"):
        steady_alternated([(_loader(1), TRIVIAL, "bare")], 64, turns=2)
