"""Topping up a partner's prepaid credit: once per Idempotency-Key, recorded in the ledger."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

from app.services.errors import CreditLimitExceeded, ResourceNotFound
from app.services.idempotency import Answer, IdempotentRequest
from app.services.unit_of_work import UnitOfWorkProtocol

# No partner prepays a hundred billion euros: past this a balance is a mistake (a key
# held down, a unit confused), refused before it reaches the 64-bit column's limit.
CREDIT_CEILING_CENTS = 10**13


async def top_up(
    uow: UnitOfWorkProtocol,
    partner_id: str,
    cents: int,
    now: datetime,
    request: IdempotentRequest,
    render: Callable[[int], tuple[int, dict[str, Any]]],
) -> Answer:
    """Add `cents` to the partner's credit; `render` turns the new balance into the answer."""
    request.require_key()
    async with uow:
        earlier = await request.earlier_answer(uow, now)
        if earlier is not None:
            return earlier
        balance = await uow.orders.top_up_credit(partner_id, cents, CREDIT_CEILING_CENTS)
        if balance is None:
            if await uow.orders.credit_of(partner_id) is None:
                raise ResourceNotFound("partner", partner_id)
            raise CreditLimitExceeded(CREDIT_CEILING_CENTS)
        await uow.orders.record_credit_movement(
            {
                "partner_id": partner_id,
                "kind": "top_up",
                "amount_cents": cents,
                "balance_after_cents": balance,
                # The key lives in idempotency_records, scoped to who sent it.
                "idempotency_key": None,
                "created_at": now,
            }
        )
        answer = await request.first_answer(uow, *render(balance))
        await uow.commit()
    return answer
