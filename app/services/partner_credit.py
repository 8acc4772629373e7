"""Topping up a partner's prepaid credit: once per Idempotency-Key, recorded in the ledger."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from app.db.unit_of_work import UnitOfWork
from app.services.errors import IdempotencyKeyReused, ResourceNotFound


@dataclass(frozen=True, slots=True)
class TopUp:
    balance_cents: int
    replayed: bool


async def top_up(
    uow: UnitOfWork,
    partner_id: str,
    cents: int,
    now: datetime,
    idempotency_key: str | None = None,
) -> TopUp:
    async with uow:
        if idempotency_key is not None:
            earlier = await uow.orders.credit_movement_by_key(partner_id, idempotency_key)
            if earlier is not None:
                return _replay(earlier.amount_cents, earlier.balance_after_cents, cents)
        balance = await uow.orders.top_up_credit(partner_id, cents)
        if balance is None:
            raise ResourceNotFound("partner", partner_id)
        recorded = await uow.orders.record_credit_movement(
            {
                "partner_id": partner_id,
                "kind": "top_up",
                "amount_cents": cents,
                "balance_after_cents": balance,
                "idempotency_key": idempotency_key,
                "created_at": now,
            }
        )
        if recorded:
            await uow.commit()
            return TopUp(balance, replayed=False)
    # A concurrent request with the same key won: this one is rolled back, and answers
    # as that one did.
    assert idempotency_key is not None
    async with uow:
        winner = await uow.orders.credit_movement_by_key(partner_id, idempotency_key)
    assert winner is not None
    return _replay(winner.amount_cents, winner.balance_after_cents, cents)


def _replay(recorded_cents: int, balance_cents: int, asked_cents: int) -> TopUp:
    if recorded_cents != asked_cents:
        raise IdempotencyKeyReused("the Idempotency-Key was used for another amount")
    return TopUp(balance_cents, replayed=True)
