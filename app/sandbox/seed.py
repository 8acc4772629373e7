"""Demo data for the sandbox: accounts, a partner, and a mailbox for every rule.

Dates are relative to today so the demo stays meaningful whenever it is started.
Seeding twice changes nothing.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from app.db.models import AccountRow, PartnerRow
from app.db.unit_of_work import UnitOfWork
from app.domain.calendar import italian_date
from app.domain.catalog import Promotion
from app.domain.mailbox import Mailbox, MailboxStatus
from app.domain.saved_payment_method import SavedPaymentMethod
from app.routers.v1.price_list_schemas import read_price_list_file
from app.sandbox.demo_catalog import DEMO_PRICE_LIST_FILE, DEMO_PRICE_LIST_ID
from app.services import price_lists
from app.services.partner_credit import CREDIT_CEILING_CENTS

CUSTOMER_ID = "acc-rossi"
OTHER_CUSTOMER_ID = "acc-bianchi"
PARTNER_ID = "ptn-webreseller"
DEMO_CREDIT_CENTS = 50_000
PARTNER_CUSTOMER_ID = "acc-neri"
STAFF_ID = "staff-helpdesk"
# Who publishes the demo price list: how a database tells it is a sandbox's.
SANDBOX_PUBLISHER = "sandbox"


def _person(name: str, tax_code: str, email: str, city: str, province: str) -> dict[str, str]:
    return {
        "kind": "person",
        "name": name,
        "tax_code": tax_code,
        "email": email,
        "address": "Via Roma 1",
        "postal_code": "00100",
        "city": city,
        "province": province,
        "country": "IT",
    }


_NO_BILLING: dict[str, Any] = {"e_invoicing": None, "public_administration": None}
# The holder and billing data on file of each demo account (valid check digits).
DEMO_HOLDERS: dict[str, tuple[dict[str, Any], dict[str, Any]]] = {
    CUSTOMER_ID: (
        _person("Mario Rossi", "RSSMRA85T10A562S", "mario.rossi@example.it", "Roma", "RM"),
        _NO_BILLING,
    ),
    OTHER_CUSTOMER_ID: (
        {
            **_person(
                "Studio Legale Bianchi", "00743110157", "info@bianchi.example.it", "Milano", "MI"
            ),
            "kind": "professional",
        },
        {
            "e_invoicing": {"sdi_code": "ABC1234", "pec": None, "none": False},
            "public_administration": None,
        },
    ),
    PARTNER_CUSTOMER_ID: (
        _person("Anna Neri", "NRENNA90A41F205Y", "anna.neri@example.com", "Milano", "MI"),
        _NO_BILLING,
    ),
}


@dataclass(frozen=True)
class DemoMailbox:
    id: str
    plan: str
    expires_in_days: int
    used_mb: int = 300
    archived_mb: int = 0
    extra_gb: int = 0
    extra_archive_gb: int = 0
    status: MailboxStatus = MailboxStatus.ACTIVE
    auto_renewal: bool = False
    account: str = CUSTOMER_ID
    partner: str | None = None
    story: str = ""


def demo_saved_card(now: datetime) -> SavedPaymentMethod:
    return SavedPaymentMethod(
        id="pm-demo-card",
        account_id=CUSTOMER_ID,
        provider="stripe",
        kind="card",
        customer_ref="cus_demo_mario_rossi",
        method_ref="pm_card_visa",
        order_id="ord_demo_first_purchase",
        created_at=now,
    )


DEMO_MAILBOXES = (
    DemoMailbox("mbx-standard", "STANDARD", 40, story="plain renewal: 9.90 + VAT"),
    DemoMailbox("mbx-pro", "PRO", 25, used_mb=2500, extra_gb=2, story="keeps +2 GB"),
    DemoMailbox(
        "mbx-premium",
        "PREMIUM",
        60,
        used_mb=1500,
        archived_mb=5000,
        story="downgrade to STANDARD: +1 GB needed, archive deleted",
    ),
    DemoMailbox(
        "mbx-pro-nearly-full",
        "PRO",
        15,
        used_mb=2400,
        archived_mb=2900,
        story="downgrade to STANDARD: free 352 MB first",
    ),
    DemoMailbox("mbx-domain", "DOMAIN", 90, story="own domain, on promotion: 1-2 years"),
    DemoMailbox("mbx-auto", "PRO", 30, auto_renewal=True, story="automatic renewal on"),
    DemoMailbox("mbx-grace", "STANDARD", -30, story="expired 30 days ago: in grace"),
    DemoMailbox("mbx-deleted", "STANDARD", -120, story="past the 90-day grace: deleted"),
    DemoMailbox(
        "mbx-partner-suspended",
        "STANDARD",
        50,
        status=MailboxStatus.SUSPENDED,
        account=PARTNER_CUSTOMER_ID,
        partner=PARTNER_ID,
        story="partner domain lapsed",
    ),
    DemoMailbox(
        "mbx-partner-standard",
        "STANDARD",
        35,
        account=PARTNER_CUSTOMER_ID,
        partner=PARTNER_ID,
        story="a partner's customer",
    ),
    DemoMailbox(
        "mbx-bianchi",
        "PREMIUM",
        70,
        account=OTHER_CUSTOMER_ID,
        story="another account: 404 for acc-rossi",
    ),
)


def demo_promotions(today: date) -> tuple[Promotion, ...]:
    return (Promotion("DOMAIN", 790, today - timedelta(days=30), today + timedelta(days=365)),)


async def publish_demo_price_list(
    sessionmaker: async_sessionmaker[AsyncSession], now: datetime
) -> None:
    """Publish the demo list, as an operator would, once: it is in force from then on.

    Its DOMAIN promotion runs around today, so it is added here rather than dated in
    the file.
    """
    async with UnitOfWork(sessionmaker) as uow:
        if await uow.catalog.exists(DEMO_PRICE_LIST_ID):
            return
    draft = read_price_list_file(DEMO_PRICE_LIST_FILE, DEMO_PRICE_LIST_ID)
    draft = replace(draft, promotions=demo_promotions(italian_date(now)))
    await price_lists.publish(UnitOfWork(sessionmaker), draft, SANDBOX_PUBLISHER, now)


async def seed_demo_data(sessionmaker: async_sessionmaker[AsyncSession], now: datetime) -> None:
    today = italian_date(now)
    await publish_demo_price_list(sessionmaker, now)
    async with UnitOfWork(sessionmaker) as uow:
        session = uow.session
        for account_id, name, email, language in (
            (CUSTOMER_ID, "Mario Rossi", "mario.rossi@example.it", "it"),
            (OTHER_CUSTOMER_ID, "Studio Legale Bianchi", "info@bianchi.example.it", "it"),
            (PARTNER_CUSTOMER_ID, "Anna Neri", "anna.neri@example.com", "en"),
        ):
            account = await session.get(AccountRow, account_id)
            if account is None:
                account = AccountRow(id=account_id, name=name, email=email, language=language)
                session.add(account)
            if account.holder is None:  # on file, so an order may omit it (step 10)
                account.holder, account.billing = DEMO_HOLDERS[account_id]
        if await session.get(PartnerRow, PARTNER_ID) is None:
            session.add(PartnerRow(id=PARTNER_ID, name="Web Reseller Srl", credit_cents=0))
            await session.flush()
            await _top_up(uow, PARTNER_ID, DEMO_CREDIT_CENTS, now)
        await session.flush()
        for demo in DEMO_MAILBOXES:
            await uow.mailboxes.save(demo_mailbox(demo, today), now)
        # mbx-auto was bought by card: its automatic renewal has a saved method to charge
        # (in the sandbox the charge pays itself with a signed webhook).
        await uow.saved_methods.add(demo_saved_card(now))
        await uow.commit()


async def _top_up(uow: UnitOfWork, partner_id: str, cents: int, now: datetime) -> None:
    """The demo credit arrives as a top-up, with its ledger line, as any credit does."""
    balance = await uow.orders.top_up_credit(partner_id, cents, CREDIT_CEILING_CENTS)
    assert balance is not None
    await uow.orders.record_credit_movement(
        {
            "partner_id": partner_id,
            "kind": "top_up",
            "amount_cents": cents,
            "balance_after_cents": balance,
            "idempotency_key": None,
            "created_at": now,
        }
    )


def demo_mailbox(demo: DemoMailbox, today: date) -> Mailbox:
    return Mailbox(
        id=demo.id,
        address=f"{demo.id.removeprefix('mbx-')}@pec.example.it",
        plan_code=demo.plan,
        extra_mailbox_gb=demo.extra_gb,
        extra_archive_gb=demo.extra_archive_gb,
        used_mailbox_mb=demo.used_mb,
        used_archive_mb=demo.archived_mb,
        expires_on=today + timedelta(days=demo.expires_in_days),
        status=demo.status,
        auto_renewal=demo.auto_renewal,
        account_id=demo.account,
        partner_id=demo.partner,
    )
