"""The holder records on file (accounts' and mailboxes' own) and their replaced versions."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from app.db.holder_documents import record_from_documents, record_to_documents
from app.db.models import AccountRow, HolderVersionRow, MailboxRow
from app.domain.account import HolderVersion
from app.domain.holder_record import HolderOnFile, HolderOwner, HolderRecord, holder_on_file

# Both records of a mailbox: its own holder and billing, and its account's.
_RECORDS = (
    MailboxRow.holder,
    MailboxRow.billing,
    AccountRow.holder.label("account_holder"),
    AccountRow.billing.label("account_billing"),
)
# The holder on file of mailboxes (both repositories add which ones).
ON_FILE = select(MailboxRow.id, *_RECORDS).join(AccountRow, AccountRow.id == MailboxRow.account_id)


class HolderRepository:
    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    async def on_file(self, mailbox_ids: Sequence[str]) -> dict[str, HolderOnFile | None]:
        """The holder on file of each mailbox among `mailbox_ids`, in one query."""
        stmt = ON_FILE.where(MailboxRow.id.in_(mailbox_ids))
        return {
            row.id: on_file_from_documents(
                row.holder, row.billing, row.account_holder, row.account_billing
            )
            for row in (await self._session.execute(stmt)).all()
        }

    async def mailbox_owner(self, mailbox_id: str) -> tuple[str, HolderRecord | None] | None:
        """The mailbox's account and its own record (None: the account's applies);
        None when the mailbox doesn't exist. Reads the row the caller has locked."""
        row = await self._session.get(MailboxRow, mailbox_id)
        if row is None:
            return None
        return row.account_id, record_from_documents(row.holder, row.billing)

    async def owners(self, mailbox_ids: Sequence[str]) -> dict[str, HolderOwner]:
        """Where each mailbox's holder is on file (a vanished mailbox is left out), in one
        query (the accounts read, not locked)."""
        stmt = OWNERS.where(MailboxRow.id.in_(mailbox_ids))
        return {row.id: owner_from_row(row) for row in (await self._session.execute(stmt)).all()}

    async def replace_account_record(
        self, account_id: str, record: HolderRecord, by: str, now: datetime
    ) -> bool:
        """Make `record` the account's holder on file; False when it already was."""
        row = await self._session.get(AccountRow, account_id, with_for_update=True)
        return row is not None and self._replace(row, account_id, None, record, by, now)

    async def replace_mailbox_record(
        self, mailbox_id: str, record: HolderRecord | None, by: str, now: datetime
    ) -> bool:
        """Give the mailbox its own holder (None: its account's again); False when unchanged."""
        row = await self._session.get(MailboxRow, mailbox_id, with_for_update=True)
        return row is not None and self._replace(row, row.account_id, mailbox_id, record, by, now)

    def _replace(
        self,
        row: AccountRow | MailboxRow,
        account_id: str,
        mailbox_id: str | None,
        record: HolderRecord | None,
        by: str,
        now: datetime,
    ) -> bool:
        """Put `record` on the (locked) row, the previous one kept as a version."""
        previous = record_from_documents(row.holder, row.billing)
        if previous == record:
            return False
        self._keep_version(account_id, mailbox_id, previous, by, now)
        values = record_to_documents(record)
        row.holder, row.billing = values["holder"], values["billing"]
        return True

    def record_version(
        self, account_id: str, previous: HolderRecord | None, by: str, now: datetime
    ) -> None:
        """Keep the account's replaced record (a staff edit that replaces the row itself)."""
        self._keep_version(account_id, None, previous, by, now)

    async def history(self, account_id: str, limit: int) -> list[HolderVersion]:
        """The replaced records of the account and of its mailboxes, newest first
        (those this unit of work just recorded included)."""
        await self._session.flush()
        mailbox_ids = select(MailboxRow.id).where(MailboxRow.account_id == account_id)
        stmt = (
            select(HolderVersionRow)
            .where(
                or_(
                    HolderVersionRow.account_id == account_id,
                    HolderVersionRow.mailbox_id.in_(mailbox_ids),
                )
            )
            .order_by(HolderVersionRow.replaced_at.desc(), HolderVersionRow.id.desc())
            .limit(limit)
        )
        return [
            HolderVersion(
                mailbox_id=row.mailbox_id,
                record=record_from_documents(row.holder, row.billing),
                replaced_at=row.replaced_at,
                replaced_by=row.replaced_by,
            )
            for row in (await self._session.scalars(stmt)).all()
        ]

    def _keep_version(
        self,
        account_id: str,
        mailbox_id: str | None,
        previous: HolderRecord | None,
        by: str,
        now: datetime,
    ) -> None:
        if previous is None:  # nothing was on file: nothing is lost
            return
        self._session.add(
            HolderVersionRow(
                account_id=account_id,
                mailbox_id=mailbox_id,
                replaced_at=now,
                replaced_by=by,
                **record_to_documents(previous),
            )
        )


# The mailboxes' owners and both records (the mailboxes are locked by the fulfilment that
# asks). The accounts are read, not locked: record_order_holder writes few of them, and
# replace_account_record locks and compares again.
OWNERS = (
    select(MailboxRow.id, MailboxRow.account_id, *_RECORDS)
    .join(AccountRow, AccountRow.id == MailboxRow.account_id)
    .order_by(AccountRow.id, MailboxRow.id)
)


def owner_from_row(row: Any) -> HolderOwner:
    """A row of OWNERS as a HolderOwner (the ORM and asyncpg repositories both map here)."""
    return HolderOwner(
        row.account_id,
        record_from_documents(row.holder, row.billing),
        record_from_documents(row.account_holder, row.account_billing),
    )


def on_file_from_documents(
    holder: dict[str, Any] | None,
    billing: dict[str, Any] | None,
    account_holder: dict[str, Any] | None,
    account_billing: dict[str, Any] | None,
) -> HolderOnFile | None:
    """A mailbox's holder on file from its own documents and its account's (every
    reader of holders on file, ORM or asyncpg, maps them here)."""
    return holder_on_file(
        record_from_documents(holder, billing),
        record_from_documents(account_holder, account_billing),
    )
