"""The gate in front of the pool serves waiters in arrival order (the pool itself lets a
newcomer overtake them, which made a few requests wait past the pool timeout)."""

from __future__ import annotations

import asyncio

import pytest

from app.db.connection_gate import ConnectionGate, gate_of
from app.db.engine import DatabaseTimeouts, make_engine


async def test_waiters_get_a_connection_in_arrival_order_and_newcomers_queue_behind() -> None:
    gate = ConnectionGate(permits=1, timeout=5)
    served: list[int] = []

    async def request(number: int) -> None:
        async with gate:
            served.append(number)
            await asyncio.sleep(0)  # hand the loop over while holding the connection

    await gate.__aenter__()  # the one connection is busy
    waiting = [asyncio.create_task(request(n)) for n in range(5)]
    await asyncio.sleep(0)  # all five are queued
    await gate.__aexit__(None, None, None)
    late = asyncio.create_task(request(99))  # arrives just as the connection comes back
    await asyncio.gather(*waiting, late)
    assert served == [0, 1, 2, 3, 4, 99]


async def test_a_caller_that_waits_past_the_pool_timeout_gets_timeout_error() -> None:
    gate = ConnectionGate(permits=1, timeout=0.05)
    await gate.__aenter__()
    with pytest.raises(TimeoutError):  # answered as 503 database_unavailable
        await gate.__aenter__()
    await gate.__aexit__(None, None, None)
    await gate.__aenter__()  # the timed-out waiter took no permit with it
    await gate.__aexit__(None, None, None)


async def test_the_gate_has_a_permit_per_pooled_connection() -> None:
    engine = make_engine(
        "postgresql+asyncpg://postgres@127.0.0.1:5432/test", 3, 2, DatabaseTimeouts()
    )
    try:
        gate = gate_of(engine)
        assert gate is gate_of(engine)
        for _ in range(5):
            await gate.__aenter__()
        with pytest.raises(TimeoutError):
            async with asyncio.timeout(0.05):
                await gate.__aenter__()
    finally:
        await engine.dispose()
