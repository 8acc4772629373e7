"""Publishing price lists: the one use case behind the admin API, the CLI and the sandbox.

A list not yet in force may be replaced, all its rows at once; a list in force is
never edited (an identical publication is answered "unchanged", so a retried PUT is
safe). Publishing never touches a cache: callers that hold one invalidate it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from app.db.catalog_repository import PublishedPriceList
from app.domain.catalog import PriceList
from app.domain.price_list_rules import PriceListDraft, check_publishable
from app.services.errors import PriceListInForce
from app.services.unit_of_work import UnitOfWorkProtocol


class Outcome(StrEnum):
    CREATED = "created"
    REPLACED = "replaced"
    UNCHANGED = "unchanged"


@dataclass(frozen=True, slots=True)
class Publication:
    outcome: Outcome
    price_list: PublishedPriceList
    in_force: bool


async def publish(
    uow: UnitOfWorkProtocol, draft: PriceListDraft, published_by: str, now: datetime
) -> Publication:
    """Publish `draft` under its id: InvalidPriceList or PriceListInForce if it may not be."""
    price_list = check_publishable(draft)
    async with uow:
        if await uow.catalog.add(price_list, published_by, now):
            outcome = Outcome.CREATED
        else:
            # Locked: of two publishers replacing the same list, the second sees the first.
            stored = await uow.catalog.get(price_list.id, for_update=True)
            assert stored is not None  # price lists are never deleted
            if _same(stored, price_list):
                outcome = Outcome.UNCHANGED
            elif stored.valid_from <= now:
                raise PriceListInForce(price_list.id)
            else:
                await uow.catalog.replace(price_list, published_by, now)
                outcome = Outcome.REPLACED
        summary = await uow.catalog.summary(price_list.id)
        in_force = await uow.catalog.id_in_force(now)
        await uow.commit()
    assert summary is not None
    return Publication(outcome, summary, in_force == price_list.id)


async def published(
    uow: UnitOfWorkProtocol, now: datetime
) -> tuple[list[PublishedPriceList], str | None]:
    """Every published list, latest-starting first, and the id of the one in force now."""
    async with uow:
        return await uow.catalog.published(), await uow.catalog.id_in_force(now)


def _same(stored: PriceList, submitted: PriceList) -> bool:
    # Dict equality ignores order, but the plans' order is how /v1/plans shows them.
    return stored == submitted and list(stored.plans) == list(submitted.plans)
