"""The lean unit of work: asyncpg statements and SQLAlchemy repositories share ONE
transaction, so a use case commits or loses all of its writes together."""

from __future__ import annotations

import dataclasses
from datetime import date

import pytest

from app.container import Container
from app.db.lean_unit_of_work import LeanUnitOfWork
from app.db.unit_of_work import UnitOfWork
from app.domain.mailbox import Mailbox, MailboxStatus
from app.settings import UnitOfWorkKind
from tests.conftest import START


def _lean(db: Container) -> LeanUnitOfWork:
    if db.engine.dialect.name != "postgresql":
        pytest.skip("the lean unit of work needs PostgreSQL")
    uow = db.unit_of_work()
    assert isinstance(uow, LeanUnitOfWork)
    return uow


def _mailbox(mailbox_id: str) -> Mailbox:
    return Mailbox(
        mailbox_id,
        f"{mailbox_id}@pec.example.it",
        "STANDARD",
        1,
        0,
        0,
        0,
        date(2027, 1, 31),
        MailboxStatus.ACTIVE,
        False,
        "acc-1",
        None,
        1,
    )


async def _count(db: Container, sql: str) -> int:
    async with db.engine.connect() as connection:
        raw = await connection.get_raw_connection()
        return int(await raw.driver_connection.fetchval(sql))  # type: ignore[union-attr]


OUTBOX = "SELECT count(*) FROM outbox WHERE dedupe_key = 'lean-test'"
MAILBOX = "SELECT count(*) FROM mailboxes WHERE id = 'mbx-lean'"


async def _write_both_ways(uow: LeanUnitOfWork) -> None:
    await uow.mailboxes.save(_mailbox("mbx-lean"), START)  # through the SQLAlchemy session
    await uow.db.execute(  # straight on the asyncpg connection
        "INSERT INTO outbox (kind, dedupe_key, payload, created_at, available_at, attempts)"
        " VALUES ('email', 'lean-test', '{}', $1, $1, 0)",
        START,
    )


async def test_writes_of_both_kinds_are_committed_together(db: Container) -> None:
    async with _lean(db) as uow:
        await _write_both_ways(uow)
        await uow.commit()
    assert (await _count(db, MAILBOX), await _count(db, OUTBOX)) == (1, 1)


async def test_leaving_without_commit_discards_writes_of_both_kinds(db: Container) -> None:
    async with _lean(db) as uow:
        await _write_both_ways(uow)
    assert (await _count(db, MAILBOX), await _count(db, OUTBOX)) == (0, 0)


async def _write_then_fail(uow: LeanUnitOfWork) -> None:
    async with uow:
        await _write_both_ways(uow)
        raise LookupError("the use case failed after writing")


async def test_an_error_discards_writes_and_returns_a_usable_connection(db: Container) -> None:
    with pytest.raises(LookupError):
        await _write_then_fail(_lean(db))
    assert (await _count(db, MAILBOX), await _count(db, OUTBOX)) == (0, 0)
    for _ in range(db.settings.database_pool_size + 1):  # every pooled connection is clean
        async with _lean(db) as uow:
            assert await uow.db.fetchval("SELECT pg_current_xact_id_if_assigned()") is None


async def test_unit_of_work_sqlalchemy_forces_the_orm_one(db: Container) -> None:
    forced = db.settings.model_copy(update={"unit_of_work": UnitOfWorkKind.SQLALCHEMY})
    uow = dataclasses.replace(db, settings=forced).unit_of_work()
    assert type(uow) is UnitOfWork
