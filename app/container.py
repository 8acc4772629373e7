"""What the process holds for its lifetime, built once in the lifespan from settings."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass, field
from datetime import timedelta
from functools import cached_property

from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from app.auth import TokenVerifier
from app.clock import Clock, TestClock, system_clock
from app.db.engine import DatabaseTimeouts, make_engine, make_sessionmaker
from app.db.group_commit import GroupCommit
from app.db.lean_unit_of_work import LeanUnitOfWork
from app.db.mailbox_memory import MailboxMemory
from app.db.order_memory import OrderMemory
from app.db.pg_order_in_one_write import OrderInOneWrite, open_order_in_one_write
from app.db.pg_payment_in_one_write import PaymentInOneWrite, open_payment_in_one_write
from app.db.placed_order_memory import PlacedOrderMemory
from app.db.process_memory import ProcessMemory
from app.db.quote_store import QuoteStore, open_quote_store
from app.db.unit_of_work import UnitOfWork
from app.domain.payment_instructions import PaymentAccounts
from app.metrics import Metrics
from app.rate_limits import RateLimits
from app.services.catalog_cache import CatalogCache
from app.settings import Settings, UnitOfWorkKind

log = logging.getLogger("app.container")


@dataclass
class Container:
    settings: Settings
    engine: AsyncEngine
    sessionmaker: async_sessionmaker[AsyncSession]
    clock: Clock
    catalog: CatalogCache
    tokens: TokenVerifier
    metrics: Metrics = field(default_factory=Metrics)
    plans_body: tuple[str, bytes] | None = None  # (ETag, serialized price list)

    # Built once per container, not once per order (settings don't change under it).
    @cached_property
    def payment_accounts(self) -> PaymentAccounts:
        s = self.settings
        return PaymentAccounts(
            s.bank_iban, s.bank_beneficiary, s.postal_account, s.card_payment_url
        )

    @cached_property
    def webhook_secrets(self) -> dict[str, str]:
        s = self.settings
        return {"stripe": s.stripe_webhook_secret, "generic": s.generic_webhook_secret}

    @cached_property
    def rate_limits(self) -> RateLimits:
        return RateLimits(self.settings, self.metrics)

    def unit_of_work(self) -> UnitOfWork:
        return self._unit_of_work_factory()

    @cached_property
    def _unit_of_work_factory(self) -> Callable[[], UnitOfWork]:
        return unit_of_work_factory(self.settings, self.engine, self.sessionmaker)

    def quote_store(self) -> AbstractAsyncContextManager[QuoteStore]:
        return open_quote_store(
            self.engine,
            self.sessionmaker,
            self.settings.quote_store,
            self.memory,
            self.group_commit,
        )

    @cached_property
    def group_commit(self) -> GroupCommit | None:
        """The lean paths' writes, grouped per turn of the event loop (PostgreSQL only)."""
        if not self.settings.database_group_commit or self.engine.dialect.name != "postgresql":
            return None
        return GroupCommit(self.engine, self.metrics.count_write_group)

    @cached_property
    def memory(self) -> ProcessMemory:
        """What this process remembers to save round trips (app/db/process_memory.py)."""
        settings = self.settings
        return ProcessMemory(
            MailboxMemory(settings.quote_mailbox_memory),
            OrderMemory(
                settings.order_quote_memory,
                settings.order_numbers_reserved,
                self.metrics.count_order_from_memory,
            ),
            PlacedOrderMemory(settings.placed_order_memory, self.metrics.count_payment_from_memory),
        )

    @cached_property
    def order_in_one_write(
        self,
    ) -> Callable[[], AbstractAsyncContextManager[OrderInOneWrite]] | None:
        """A customer's order in two round trips, or one from memory, beside the lean
        unit of work (None:
        elsewhere, or UNIT_OF_WORK=sqlalchemy: every order goes through the ORM)."""
        if not is_lean(self.settings, self.engine):
            return None
        engine, memory, writes = self.engine, self.memory, self.group_commit
        return lambda: open_order_in_one_write(engine, memory, writes)

    @cached_property
    def payment_in_one_write(
        self,
    ) -> Callable[[], AbstractAsyncContextManager[PaymentInOneWrite]] | None:
        """A payment that fulfils its order in two round trips (as order_in_one_write)."""
        if not is_lean(self.settings, self.engine):
            return None
        engine, placed, writes = self.engine, self.memory.placed, self.group_commit
        return lambda: open_payment_in_one_write(engine, writes, placed)

    async def close(self) -> None:
        if "rate_limits" in self.__dict__:  # built by the app that used it
            await self.rate_limits.close()
        await self.catalog.close()  # a reload in the background, if one is running
        # A frozen database would take a statement timeout per pooled connection to not
        # acknowledge each goodbye: past one, the process leaves the sockets to the OS.
        try:
            async with asyncio.timeout(self.settings.database_statement_timeout_seconds):
                await self.engine.dispose()
        except TimeoutError:
            log.warning("database connections left open at shutdown: the database is silent")


def build_container(
    settings: Settings, clock: Clock = system_clock, engine: AsyncEngine | None = None
) -> Container:
    """Everything the process needs; `engine` replaces the pooled one (tests, tools)."""
    timeouts = DatabaseTimeouts(
        connect=settings.database_connect_timeout_seconds,
        pool_acquire=settings.database_pool_timeout_seconds,
        statement=settings.database_statement_timeout_seconds,
    )
    engine = engine or make_engine(
        settings.database_url,
        settings.database_pool_size,
        settings.database_max_overflow,
        timeouts,
    )
    sessionmaker = make_sessionmaker(engine)
    if settings.sandbox and not isinstance(clock, TestClock):
        clock = TestClock(clock)  # the sandbox's "now" moves forward on request

    uow_factory = unit_of_work_factory(settings, engine, sessionmaker)
    catalog = CatalogCache(uow_factory, clock, timedelta(seconds=settings.catalog_cache_seconds))
    return Container(settings, engine, sessionmaker, clock, catalog, TokenVerifier(settings))


def unit_of_work_factory(
    settings: Settings, engine: AsyncEngine, sessionmaker: async_sessionmaker[AsyncSession]
) -> Callable[[], UnitOfWork]:
    """The lean unit of work on PostgreSQL over asyncpg (unless UNIT_OF_WORK=sqlalchemy),
    the SQLAlchemy one elsewhere."""
    if is_lean(settings, engine):
        return lambda: LeanUnitOfWork(engine)
    return lambda: UnitOfWork(sessionmaker)


def is_lean(settings: Settings, engine: AsyncEngine) -> bool:
    """PostgreSQL over asyncpg, unless UNIT_OF_WORK=sqlalchemy."""
    return (
        settings.unit_of_work is UnitOfWorkKind.AUTO
        and engine.dialect.name == "postgresql"
        and engine.dialect.driver == "asyncpg"
    )
