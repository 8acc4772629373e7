"""The counters behind the rate limits: this process's count as `limits`' memory storage
does, a refused request spends no window's budget, and Redis's stay counted (not served
unlimited) when many callers share its connection or Redis lost the script; each caller
gets its own answer; a silent Redis costs a request no more than the store's timeout."""

from __future__ import annotations

import asyncio
import hashlib
import time
import uuid
from dataclasses import replace

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from limits.aio.storage import MemoryStorage
from limits.aio.strategies import SlidingWindowCounterRateLimiter

import app.rate_limit_store as store
from app.rate_limit_policy import LimitedGroup, Policy
from app.rate_limit_store import Decision, InProcessCounters, RedisCounters
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


@given(gaps=GAPS, start=st.floats(1_700_000_000, 1_800_000_000))
@settings(max_examples=60, deadline=None)
def test_in_process_hits_decide_as_the_windows_they_saw(gaps: list[float], start: float) -> None:
    # The hit's shortcut for an allowed request (no windows built) against the general
    # rule: allowed when every window has room, then counted, reported by the tightest.
    policy = Policy.of(LimitedGroup.QUOTES, "3/10 seconds;5/minute")
    now = [start]
    counters = InProcessCounters(clock=lambda: now[0])

    async def compare() -> None:
        for gap in gaps:
            now[0] += gap
            seen = counters.windows(policy, "customer:acc-1")
            allowed = all(window.remaining > 0 for window in seen)
            if allowed:
                seen = [replace(w, current_count=w.current_count + 1) for w in seen]
            assert await counters.hit(policy, "customer:acc-1") == Decision.of(allowed, seen)

    asyncio.run(compare())


def _script_answer(limit: int, expiry: int) -> st.SearchStrategy[list[int]]:
    """One window of the Redis script's answer: previous count and TTL (ms), current
    count and TTL (ms), as an allowed hit can leave them (the hit counted)."""
    return st.tuples(
        st.integers(0, limit),
        st.integers(0, expiry * 1000),
        st.integers(1, limit),
        st.integers(expiry * 1000, 2 * expiry * 1000),
    ).map(list)


@given(
    quick=_script_answer(3, 10),
    slow=_script_answer(5, 60),
)
@settings(max_examples=300, deadline=None)
def test_redis_allowed_hits_decide_as_the_windows_the_script_saw(
    quick: list[int], slow: list[int]
) -> None:
    # The hit's shortcut for an allowed request (no windows built) against the general rule.
    policy = Policy.of(LimitedGroup.QUOTES, "3/10 seconds;5/minute")
    seen = [1, *quick, *slow]
    general = Decision.of(True, RedisCounters._windows(policy, seen))
    shortcut = RedisCounters._allowed(policy, seen)
    if general.remaining:
        assert shortcut == general
    else:  # no room left: when one more fits is the general rule's to say
        assert shortcut is None


async def test_a_refused_request_spends_no_windows_budget() -> None:
    policy = Policy.of(LimitedGroup.QUOTES, "100/minute;2/hour")
    counters = InProcessCounters()
    answers = [await counters.hit(policy, "customer:acc-1") for _ in range(3)]
    minute = Policy.of(LimitedGroup.QUOTES, "100/minute")
    left = await counters.peek(minute, "customer:acc-1")

    assert [a.allowed for a in answers if a] == [True, True, False]
    assert left is not None
    assert left.remaining == 98


async def test_callers_sharing_the_redis_connection_are_all_counted(redis_prefix: str) -> None:
    failures: list[None] = []
    counters = RedisCounters(REDIS_TEST_URL, redis_prefix, lambda: failures.append(None))
    policy = Policy.of(LimitedGroup.QUOTES, "100000/minute")
    callers = 9

    async def caller() -> list[bool]:
        # Hit after hit with no pause: the calls of every caller interleave on the one
        # connection, each reply handed to its own caller.
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


async def test_callers_sharing_the_connection_each_get_their_own_answer(
    redis_prefix: str,
) -> None:
    # Each caller has spent a different part of its budget: an answer handed to the
    # wrong caller would show another caller's count.
    counters = RedisCounters(REDIS_TEST_URL, redis_prefix, lambda: None)
    policy = Policy.of(LimitedGroup.QUOTES, "1000/minute")
    identities = [f"customer:acc-{n}" for n in range(12)]

    async def gives_up(identity: str) -> None:
        with pytest.raises(TimeoutError):  # stops waiting at once: its reply is dropped
            async with asyncio.timeout(0):
                await counters.hit(policy, identity)

    try:
        for spent, identity in enumerate(identities):
            for _ in range(spent):
                await counters.hit(policy, identity)
        quitters = [gives_up(f"customer:quitter-{n}") for n in range(5)]
        answers = await asyncio.gather(
            *quitters[:2], *(counters.hit(policy, i) for i in identities), *quitters[2:]
        )
    finally:
        await counters.close()

    remaining = [answer.remaining for answer in answers if answer is not None]
    assert remaining == [1000 - spent - 1 for spent in range(len(identities))]


async def test_a_silent_redis_costs_a_request_the_timeout_then_serves_unlimited() -> None:
    async def never_answer(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await reader.read(1 << 16)
        await asyncio.sleep(3600)

    server = await asyncio.start_server(never_answer, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    failures: list[None] = []
    counters = RedisCounters(f"redis://127.0.0.1:{port}/0", "silent", lambda: failures.append(None))
    policy = Policy.of(LimitedGroup.QUOTES, "5/minute")
    try:
        started = time.monotonic()
        first = await counters.hit(policy, "customer:acc-1")
        waited = time.monotonic() - started
        again = await counters.hit(policy, "customer:acc-1")  # not tried for a while
    finally:
        await counters.close()
        server.close()

    assert (first, again) == (None, None)
    assert failures == [None]
    assert waited < 2  # bounded by the store's timeout (0.25 s), not by Redis


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
