"""Domain objects for unit and use-case tests: a plain renewable mailbox (changed where a
test says), the holders the worked examples use, and the moment they happen."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, date, datetime

from app.domain.billing import Holder, HolderKind
from app.domain.mailbox import Mailbox, MailboxStatus

NOW = datetime(2026, 6, 15, 10, 30, tzinfo=UTC)
PERSON = Holder(
    kind=HolderKind.PERSON,
    name="Mario Rossi",
    tax_code="RSSMRA85T10A562S",
    email="mario.rossi@example.it",
    address="Via Roma 1",
    postal_code="20121",
    city="Milano",
    province="MI",
)
PA = replace(
    PERSON, kind=HolderKind.PUBLIC_ADMINISTRATION, name="Comune di Bari", tax_code="80016350821"
)


def mailbox(**changes: object) -> Mailbox:
    base = Mailbox(
        id="mbx-1",
        address="mario.rossi@pec.example.it",
        plan_code="STANDARD",
        extra_mailbox_gb=0,
        extra_archive_gb=0,
        used_mailbox_mb=300,
        used_archive_mb=0,
        expires_on=date(2026, 7, 31),
        status=MailboxStatus.ACTIVE,
        auto_renewal=False,
        account_id="acc-1",
    )
    return replace(base, **changes)  # type: ignore[arg-type]
