"""The price list in memory: served while it reloads in the background once only its
time to live ran out, waited for when it may no longer be the list in force."""

from __future__ import annotations

import asyncio
import dataclasses
from datetime import UTC, datetime, timedelta
from types import TracebackType

import pytest

from app.db.catalog_repository import PriceListInForce
from app.sandbox.demo_catalog import demo_price_list
from app.services.catalog_cache import CatalogCache

TTL = timedelta(seconds=30)
START = datetime(2026, 12, 2, 9, 0, tzinfo=UTC)
OLD = dataclasses.replace(demo_price_list(), id="old")
NEW = dataclasses.replace(demo_price_list(), id="new")


class Source:
    """What the cache loads from: the list in force, a way to hold a load half-way, and
    how many loads began."""

    def __init__(self) -> None:
        self.in_force_now = PriceListInForce(OLD, None)
        self.loads = 0
        self.release = asyncio.Event()
        self.release.set()
        self.failing = False
        self.catalog = self

    async def in_force(self, moment: datetime) -> PriceListInForce:
        self.loads += 1
        self.asked_at = moment
        await self.release.wait()
        if self.failing:
            raise ConnectionError("the database went away")
        return self.in_force_now

    async def __aenter__(self) -> Source:
        return self

    async def __aexit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        return None


class Clock:
    def __init__(self) -> None:
        self.now = START

    def __call__(self) -> datetime:
        return self.now


@pytest.fixture
def source() -> Source:
    return Source()


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def cache(source: Source, clock: Clock) -> CatalogCache:
    return CatalogCache(lambda: source, clock, TTL)  # type: ignore[arg-type, return-value]


async def _background_reload_done(cache: CatalogCache) -> None:
    for _ in range(100):
        await asyncio.sleep(0)
    await cache.close()


async def test_past_the_ttl_the_list_in_memory_is_served_while_one_reload_runs(
    cache: CatalogCache, source: Source, clock: Clock
) -> None:
    assert (await cache.current()).price_list.id == "old"
    clock.now += TTL
    source.in_force_now = PriceListInForce(NEW, None)
    source.release.clear()  # the reload waits (for a pooled connection, say)

    served = await asyncio.wait_for(asyncio.gather(*(cache.current() for _ in range(20))), 1)

    assert {snapshot.price_list.id for snapshot in served} == {"old"}
    assert source.loads == 2  # the first load, and one reload for all twenty
    source.release.set()
    for _ in range(100):
        await asyncio.sleep(0)
    assert (await cache.current()).price_list.id == "new"
    assert source.loads == 2


async def test_a_failed_background_reload_keeps_the_list_and_the_next_request_retries(
    cache: CatalogCache, source: Source, clock: Clock
) -> None:
    await cache.current()
    clock.now += TTL
    source.failing = True

    assert (await cache.current()).price_list.id == "old"
    await _background_reload_done(cache)
    source.failing = False
    source.in_force_now = PriceListInForce(NEW, None)
    assert (await cache.current()).price_list.id == "old"  # and a retry begins
    await _background_reload_done(cache)

    assert (await cache.current()).price_list.id == "new"
    assert source.loads == 3


async def test_when_a_later_list_takes_over_callers_wait_for_it(
    cache: CatalogCache, source: Source, clock: Clock
) -> None:
    source.in_force_now = PriceListInForce(OLD, START + timedelta(seconds=5))
    await cache.current()
    clock.now += timedelta(seconds=5)  # within the ttl, but the later list starts now
    source.in_force_now = PriceListInForce(NEW, None)

    assert (await cache.current()).price_list.id == "new"


async def test_at_italian_midnight_callers_wait_for_the_new_day(
    cache: CatalogCache, source: Source, clock: Clock
) -> None:
    clock.now = datetime(2026, 12, 2, 22, 59, 50, tzinfo=UTC)  # 23:59:50 in Rome
    await cache.current()
    clock.now += timedelta(seconds=20)
    source.in_force_now = PriceListInForce(NEW, None)

    assert (await cache.current()).price_list.id == "new"


async def test_a_list_published_by_this_process_is_waited_for(
    cache: CatalogCache, source: Source
) -> None:
    await cache.current()
    source.in_force_now = PriceListInForce(NEW, None)
    cache.invalidate()

    assert (await cache.current()).price_list.id == "new"


async def test_when_the_list_s_own_window_closes_callers_wait_for_the_next(
    cache: CatalogCache, source: Source, clock: Clock
) -> None:
    ending = dataclasses.replace(OLD, valid_until=START + timedelta(seconds=5))
    source.in_force_now = PriceListInForce(ending, None)
    await cache.current()
    clock.now += timedelta(seconds=5)
    source.in_force_now = PriceListInForce(NEW, None)

    assert (await cache.current()).price_list.id == "new"
