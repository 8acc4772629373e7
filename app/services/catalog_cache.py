"""The price list in force, kept in memory: `/v1/plans` and quoting read no table.

Each process reloads it after `ttl`, when its validity window closes, or at the very
moment a later-dated list starts: a new price list reaches every api copy within `ttl`
without a restart, and a list published in advance takes over on time everywhere.
"""

from __future__ import annotations

import asyncio
import hashlib
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from app.clock import Clock
from app.domain.calendar import italian_date
from app.domain.catalog import PriceList
from app.services.errors import CatalogUnavailable
from app.services.unit_of_work import UnitOfWorkProtocol


@dataclass(frozen=True, slots=True)
class CatalogSnapshot:
    price_list: PriceList
    etag: str
    loaded_at: datetime
    next_valid_from: datetime | None = None  # a later-dated list takes over then


class CatalogCache:
    def __init__(
        self, uow_factory: Callable[[], UnitOfWorkProtocol], clock: Clock, ttl: timedelta
    ) -> None:
        self._uow_factory = uow_factory
        self._clock = clock
        self._ttl = ttl
        self._snapshot: CatalogSnapshot | None = None
        self._lock = asyncio.Lock()
        self._generation = 0  # bumped by invalidate(): a load begun before it is not kept

    async def current(self) -> CatalogSnapshot:
        now = self._clock()
        snapshot = self._snapshot
        if snapshot is not None and self._fresh(snapshot, now):
            return snapshot
        async with self._lock:  # one reload, however many requests are waiting
            snapshot = self._snapshot
            if snapshot is None or not self._fresh(snapshot, now):
                generation = self._generation
                snapshot = await self._load(now)
                if generation == self._generation:
                    self._snapshot = snapshot
            return snapshot

    def invalidate(self) -> None:
        """Forget the list in memory: this process just published one."""
        self._snapshot = None
        self._generation += 1

    def _fresh(self, snapshot: CatalogSnapshot, now: datetime) -> bool:
        return (
            now - snapshot.loaded_at < self._ttl
            and snapshot.price_list.is_valid_at(now)
            and (snapshot.next_valid_from is None or now < snapshot.next_valid_from)
            # Promotions and conventions turn on and off at Italian midnight.
            and italian_date(now) == italian_date(snapshot.loaded_at)
        )

    async def _load(self, now: datetime) -> CatalogSnapshot:
        async with self._uow_factory() as uow:
            found = await uow.catalog.in_force(now)
        if found is None:
            raise CatalogUnavailable("no price list is in force")
        price_list = found.price_list
        return CatalogSnapshot(price_list, _etag(price_list, now), now, found.next_valid_from)


def _etag(price_list: PriceList, now: datetime) -> str:
    # Promotions and conventions switch on and off by date, so the day is part of it.
    digest = hashlib.sha256(repr((price_list, italian_date(now))).encode()).hexdigest()[:16]
    return f'"{price_list.id}-{digest}"'
