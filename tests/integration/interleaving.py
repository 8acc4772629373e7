"""A one-read-one-write path with a step run, committed, between its read and its write
(app/db/pg_order_in_one_write.py, app/db/pg_payment_in_one_write.py): what moves there is
what the write must notice. An order recalled from memory (app/db/order_memory.py) has no
read: the step then runs between the recall and the write."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from typing import Any

import httpx
import pytest

from app.container import Container, build_container
from app.main import create_app
from tests.conftest import MovableClock

Step = Callable[[], Awaitable[None]]


async def _nothing() -> None:
    pass


class Between:
    """Opens the path as `open_one_write` does, with `step` run once per request, after
    its first read or before its first write (a request the step makes itself goes
    straight through); `written` says how the last request's first write went (None:
    none was tried; its answer, None or False, means it gave way)."""

    def __init__(self, open_one_write: Callable[[], AbstractAsyncContextManager[Any]]) -> None:
        self._open = open_one_write
        self.step: Step = _nothing
        self.written: bool | None = None
        self.reads = 0  # the reads the requests made (a recall makes none)
        self._stepping = False

    @asynccontextmanager
    async def __call__(self) -> AsyncIterator[Any]:
        async with self._open() as one_write:
            yield one_write if self._stepping else _Interleaved(one_write, self)

    async def run_step(self) -> None:
        self._stepping = True
        try:
            await self.step()
        finally:
            self._stepping = False


class _Interleaved:
    def __init__(self, one_write: Any, between: Between) -> None:
        self._one_write = one_write
        self._between = between
        self._stepped = False
        self._wrote = False
        between.written = None

    def __getattr__(self, name: str) -> Any:  # recall, unused: as they are
        return getattr(self._one_write, name)

    async def read(self, *args: Any, **kwargs: Any) -> Any:
        self._between.reads += 1
        facts = await self._one_write.read(*args, **kwargs)
        await self._step_once()
        return facts

    async def write(self, *args: Any, **kwargs: Any) -> Any:
        await self._step_once()
        answer = await self._one_write.write(*args, **kwargs)
        if not self._wrote:
            self._wrote = True
            self._between.written = answer is not None and answer is not False
        return answer

    async def _step_once(self) -> None:
        if not self._stepped:
            self._stepped = True
            await self._between.run_step()


@asynccontextmanager
async def app_interleaving(
    db: Container,
    clock: MovableClock,
    path: str,
    open_one_write: Callable[[Container], AbstractAsyncContextManager[Any]],
) -> AsyncIterator[tuple[httpx.AsyncClient, Between, Container]]:
    """An app whose container's `path` (order_in_one_write, payment_in_one_write) is a
    Between over `open_one_write`; skipped where that path doesn't exist."""
    if getattr(db, path) is None:
        pytest.skip(f"{path} exists on PostgreSQL's lean path only")
    container = build_container(db.settings, clock=clock, engine=db.engine)
    between = Between(lambda: open_one_write(container))
    container.__dict__[path] = between  # the cached factory, replaced
    transport = httpx.ASGITransport(app=create_app(container=container))
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as http:
        yield http, between, container
