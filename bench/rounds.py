"""A measurement repeated in rounds: its median, its spread, and ratios taken round by round.

On shared cores the host drifts by tens of percent within a minute. A ratio whose
numerator and denominator were measured in the same round (seconds apart) cancels most
of that drift; the median of those per-round ratios then drops an outlying round, and
the spread (min-max) says how far to trust it.
"""

from __future__ import annotations

import statistics
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from bench.wrk import Load

Figure = Callable[[Load], float]


def rps(load: Load) -> float:
    return load.rps


def p50_ms(load: Load) -> float:
    return load.p50_ms


def p99_ms(load: Load) -> float:
    return load.p99_ms


def server_cpu_us(load: Load) -> float:
    return load.server_cpu_us


def database_cpu_us(load: Load) -> float:
    return load.database_cpu_us


def steal(load: Load) -> float:
    return load.steal


def tail_ratio(load: Load) -> float:
    return load.tail_ratio


def median(rounds: Sequence[Load], figure: Figure) -> float:
    return statistics.median(figure(load) for load in rounds)


@dataclass(frozen=True)
class Ratio:
    """Numerator over denominator, round by round: the median and spread of those
    ratios, and the median of each side (what the ratio is made of)."""

    value: float
    low: float
    high: float
    numerator: float
    denominator: float
    rounds: int

    @property
    def spread(self) -> str:
        """`; 4.90–5.60`, or nothing when there was a single round."""
        return f"; {self.low:.2f}–{self.high:.2f}" if self.rounds > 1 else ""


def paired_ratio(
    numerators: Sequence[Load],
    denominators: Sequence[Load],
    figure: Figure,
    denominator_figure: Figure | None = None,
) -> Ratio:
    """figure(numerator) / figure(denominator) for each round (the same round on both
    sides), then their median and spread."""
    of_denominator = denominator_figure or figure
    ratios = [
        figure(top) / of_denominator(bottom) if of_denominator(bottom) else float("inf")
        for top, bottom in zip(numerators, denominators, strict=True)
    ]
    return Ratio(
        statistics.median(ratios),
        min(ratios),
        max(ratios),
        median(numerators, figure),
        median(denominators, of_denominator),
        len(ratios),
    )


def own_ratio(rounds: Sequence[Load], top: Figure, bottom: Figure) -> Ratio:
    """A ratio of two figures of the same load (p99/p50), round by round."""
    return paired_ratio(rounds, rounds, top, bottom)


def statuses(rounds: Sequence[Load]) -> Counter[int]:
    total: Counter[int] = Counter()
    for load in rounds:
        total += load.statuses
    return total


def errors(rounds: Sequence[Load]) -> str:
    """wrk's error lines, each with the round it came from."""
    return "; ".join(
        f"round {number}: {load.errors}" for number, load in enumerate(rounds, 1) if load.errors
    )
