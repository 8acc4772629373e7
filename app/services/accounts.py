"""Customer accounts, created and replaced by staff, with the holder on file they carry."""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime

from app.domain.account import Account, HolderVersion
from app.domain.holder_record import check_holder_record
from app.services.errors import ResourceNotFound
from app.services.unit_of_work import UnitOfWorkProtocol

HISTORY_LIMIT = 50


def staff_ref(staff_id: str) -> str:
    """Who replaced a holder record, as holder_versions.replaced_by keeps it."""
    return f"staff:{staff_id}"[:100]


@dataclass(frozen=True, slots=True)
class AccountView:
    account: Account
    holder_history: list[HolderVersion]  # newest first, at most HISTORY_LIMIT


async def put_account(
    uow: UnitOfWorkProtocol, account: Account, *, keep_holder: bool, staff_id: str, now: datetime
) -> tuple[AccountView, bool]:
    """Create or replace `account` (True when created), stamped with who and when.

    With `keep_holder` the holder on file stays as it is; otherwise `account.holder`
    replaces it and the previous record is kept in the history.
    """
    if account.holder is not None:
        check_holder_record(account.holder)
    # A JWT `sub` has no length limit; the columns do.
    stamped = replace(account, updated_by=staff_id[:64], updated_at=now)
    async with uow:
        current = await uow.accounts.get(account.id, for_update=True)
        created = current is None and await uow.accounts.add(stamped)
        if not created:
            # Replaced, or created by a concurrent request a moment ago: lock and replace.
            current = current or await uow.accounts.get(account.id, for_update=True)
            assert current is not None
            if keep_holder:
                stamped = replace(stamped, holder=current.holder)
            elif current.holder != stamped.holder:
                uow.holders.record_version(account.id, current.holder, staff_ref(staff_id), now)
            await uow.accounts.replace(stamped)
        history = await uow.holders.history(account.id, HISTORY_LIMIT)
        await uow.commit()
    return AccountView(stamped, history), created


async def get_account(uow: UnitOfWorkProtocol, account_id: str) -> AccountView:
    async with uow:
        account = await uow.accounts.get(account_id)
        if account is None:
            raise ResourceNotFound("account", account_id)
        history = await uow.holders.history(account_id, HISTORY_LIMIT)
    return AccountView(account, history)
