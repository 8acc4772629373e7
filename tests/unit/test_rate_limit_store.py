"""The counters behind the rate limits: this process's count as `limits`' memory storage
does, a refused request spends no window's budget, and Redis's stay counted (not served
unlimited) when more callers than connections hit at once or Redis lost the script."""

from __future__ import annotations

import asyncio
import hashlib
import time
import uuid

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from limits.aio.storage import MemoryStorage
from limits.aio.strategies import SlidingWindowCounterRateLimiter

import app.rate_limit_store as store
from app.rate_limit_policy import LimitedGroup, Policy
from app.rate_limit_store import InProcessCounters, RedisCounters
from tests.rate_limit_fixtures import REDIS_TEST_URL, redis_prefix

__all__ = ["redis_prefix"]  # a fixture

# Gaps between requests: bursts within a window, and pauses past one, two and a sweep.
GAPS = st.lists(
    st.one_of(st.floats(0, 2.5), st.sampled_from([10.0, 19.99, 20.0, 35.0, 61.0])),
    max_size=40,
)


@given(gaps=GAPS, start=st.floats(1_700_000_000, 1_800_000_000))
@settings(max_examples=60, deadline=None)
def test_in_process_counters_decide_and_report_as_the_limits_memory_storage(
    gaps: list[float], start: float
) -> None:
    policy = Policy.of(LimitedGroup.QUOTES, "3/10 seconds")
    now = [start]

    async def compare() -> None:
        ours = InProcessCounters(clock=lambda: now[0])
        stock = SlidingWindowCounterRateLimiter(MemoryStorage())
        for gap in gaps:
            now[0] += gap
            decision = await ours.hit(policy, "customer:acc-1")
            allowed = await stock.hit(policy.items[0], "quotes", "customer:acc-1")
            stats = await stock.get_window_stats(policy.items[0], "quotes", "customer:acc-1")
            assert decision is not None
            assert (decision.allowed, decision.remaining) == (allowed, stats.remaining)

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(time, "time", lambda: now[0])
        asyncio.run(compare())


async def test_a_refused_request_spends_no_windows_budget() -> None:
    policy = Policy.of(LimitedGroup.QUOTES, "100/minute;2/hour")
    counters = InProcessCounters()
    answers = [await counters.hit(policy, "customer:acc-1") for _ in range(3)]
    minute = Policy.of(LimitedGroup.QUOTES, "100/minute")
    left = await counters.peek(minute, "customer:acc-1")

    assert [a.allowed for a in answers if a] == [True, True, False]
    assert left is not None
    assert left.remaining == 98


async def test_more_callers_than_redis_connections_are_all_counted(redis_prefix: str) -> None:
    failures: list[None] = []
    counters = RedisCounters(REDIS_TEST_URL, redis_prefix, lambda: failures.append(None))
    policy = Policy.of(LimitedGroup.QUOTES, "100000/minute")
    callers = RedisCounters.CONNECTIONS * 2 + 1

    async def caller() -> list[bool]:
        # Hit after hit with no pause: a connection freed goes to who waited for it,
        # not back to the same caller's next hit.
        return [bool(await counters.hit(policy, "customer:acc-1")) for _ in range(100)]

    try:
        answers = await asyncio.gather(*(caller() for _ in range(callers)))
        left = await counters.peek(policy, "customer:acc-1")
    finally:
        await counters.close()

    assert failures == []
    assert all(all(a) for a in answers)
    assert left is not None
    assert left.remaining == 100000 - callers * 100


async def test_redis_that_lost_the_script_still_counts(
    redis_prefix: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A script of its own, never loaded: as after a Redis restart or SCRIPT FLUSH
    # (which would flush the scripts of everyone sharing this Redis).
    script = f"{store.SLIDING_WINDOWS_LUA}-- {uuid.uuid4()}\n"
    monkeypatch.setattr(store, "SLIDING_WINDOWS_LUA", script)
    monkeypatch.setattr(
        store, "SLIDING_WINDOWS_SHA", hashlib.sha1(script.encode()).hexdigest().encode()
    )
    failures: list[None] = []
    counters = RedisCounters(REDIS_TEST_URL, redis_prefix, lambda: failures.append(None))
    policy = Policy.of(LimitedGroup.QUOTES, "5/minute")
    try:
        answers = [await counters.hit(policy, "customer:acc-1") for _ in range(2)]
    finally:
        await counters.close()

    assert failures == []
    assert [a.remaining for a in answers if a] == [4, 3]
