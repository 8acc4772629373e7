"""What the tacit-renewal tests on PostgreSQL start from: a partner's customer with a
holder on file, mailboxes in tacit mode, credit topped up with its ledger line."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import replace
from datetime import date, datetime
from typing import Any

from sqlalchemy import text

from app.container import Container
from app.db.engine import DatabaseTimeouts, make_engine, make_sessionmaker
from app.db.unit_of_work import UnitOfWork
from app.domain.billing import Billing
from app.domain.holder_record import HolderRecord
from app.domain.partner import PartnerProfile
from app.domain.renewal_mode import RenewalMode, RenewalModeKind
from app.services.partner_credit import CREDIT_CEILING_CENTS
from app.services.unit_of_work import UowFactory
from tests.unit.builders import PERSON, mailbox

PARTNER_ID = "ptn-1"
PARTNER_EMAIL = "ops@reseller.example.it"
STANDARD_YEAR = 1208  # a year of STANDARD, VAT included


async def set_up_partner(db: Container, now: datetime, threshold_cents: int = 0) -> None:
    """ptn-1 with an email and a threshold; its customer acc-p with a holder on file."""
    async with db.unit_of_work() as uow:
        profile = PartnerProfile(PARTNER_ID, "Web Reseller", PARTNER_EMAIL, "en", threshold_cents)
        await uow.partners.save_profile(profile, "staff-1", now)
        record = HolderRecord(PERSON, Billing())
        await uow.holders.replace_account_record("acc-p", record, "staff:staff-1", now)
        await uow.commit()


async def tacit_mailboxes(
    db: Container, ids: list[str], expires_on: date, now: datetime, **changes: Any
) -> None:
    years = changes.pop("years", 1)
    async with db.unit_of_work() as uow:
        for mailbox_id in ids:
            box = mailbox(
                id=mailbox_id,
                address=f"{mailbox_id}@pec.example.it",
                account_id="acc-p",
                partner_id=PARTNER_ID,
                expires_on=expires_on,
            )
            await uow.mailboxes.save(replace(box, **changes), now)
            mode = RenewalMode(RenewalModeKind.TACIT, years, now)
            await uow.renewal_modes.put(mailbox_id, PARTNER_ID, mode)
        await uow.commit()


async def top_up(db: Container, cents: int, now: datetime) -> int:
    async with db.unit_of_work() as uow:
        balance = await uow.orders.top_up_credit(PARTNER_ID, cents, CREDIT_CEILING_CENTS)
        assert balance is not None
        await uow.orders.record_credit_movement(
            {
                "partner_id": PARTNER_ID,
                "kind": "top_up",
                "amount_cents": cents,
                "balance_after_cents": balance,
                "created_at": now,
            }
        )
        await uow.commit()
    return balance


async def scalar(db: Container, sql: str, **params: Any) -> Any:
    async with db.engine.connect() as connection:
        return (await connection.execute(text(sql), params)).scalar()


async def balance(db: Container) -> int:
    return int(await scalar(db, "SELECT credit_cents FROM partners WHERE id = 'ptn-1'"))


async def ledger_explains_balance(db: Container) -> bool:
    """In SQL: the ledger sums to the balance, and each line's balance follows from the
    line before it (no line lost, none applied twice, none negative)."""
    return bool(
        await scalar(
            db,
            """
            WITH lines AS (
                SELECT amount_cents, balance_after_cents,
                       LAG(balance_after_cents, 1, 0) OVER (ORDER BY id) AS before_cents
                FROM partner_credit_movements WHERE partner_id = 'ptn-1'
            )
            SELECT (SELECT SUM(amount_cents) FROM lines)
                       = (SELECT credit_cents FROM partners WHERE id = 'ptn-1')
               AND NOT EXISTS (SELECT 1 FROM lines
                               WHERE before_cents + amount_cents <> balance_after_cents
                                  OR balance_after_cents < 0)
            """,
        )
    )


async def partner_events(db: Container, event_type: str) -> list[dict[str, Any]]:
    async with db.engine.connect() as connection:
        rows = await connection.execute(
            text("SELECT payload FROM outbox WHERE kind = 'partner_webhook' ORDER BY id")
        )
        return [r.payload for r in rows if r.payload["type"] == event_type]


async def emails_to_partner(db: Container) -> list[dict[str, Any]]:
    async with db.engine.connect() as connection:
        rows = await connection.execute(
            text("SELECT payload FROM outbox WHERE kind = 'email' ORDER BY id")
        )
        return [r.payload for r in rows if r.payload["to"] == PARTNER_EMAIL]


@asynccontextmanager
async def small_pool(db: Container, size: int = 5) -> AsyncIterator[UowFactory]:
    """Units of work on a pool of `size` connections: concurrency past the pool waits."""
    # A task waits for a connection as long as the others hold theirs: not a failure here.
    timeouts = DatabaseTimeouts(pool_acquire=60.0)
    engine = make_engine(db.settings.database_url, pool_size=size, timeouts=timeouts)
    sessionmaker = make_sessionmaker(engine)
    try:
        yield lambda: UnitOfWork(sessionmaker)
    finally:
        await engine.dispose()
