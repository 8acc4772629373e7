"""The unit of work: one session, one transaction, the repositories that share it.

A use case opens it with `async with`, does its reads and writes, and commits once;
leaving the block without a commit rolls everything back.
"""

from __future__ import annotations

from types import TracebackType

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from app.db.account_repository import AccountRepository
from app.db.catalog_repository import CatalogRepository
from app.db.holder_repository import HolderRepository
from app.db.idempotency_repository import IdempotencyRepository
from app.db.lifecycle_repository import LifecycleRepository
from app.db.mailbox_repository import MailboxRepository
from app.db.milestone_repository import MilestoneRepository
from app.db.order_repository import OrderRepository
from app.db.outbox_repository import OutboxRepository
from app.db.partner_repository import PartnerRepository
from app.db.partner_webhook_repository import PartnerWebhookRepository
from app.db.payment_event_repository import PaymentEventRepository
from app.db.plan_change_repository import PlanChangeRepository
from app.db.quote_repository import QuoteRepository
from app.db.renewal_mode_repository import RenewalModeRepository
from app.db.saved_method_repository import SavedMethodRepository


class UnitOfWork:
    session: AsyncSession
    catalog: CatalogRepository
    mailboxes: MailboxRepository
    quotes: QuoteRepository
    orders: OrderRepository
    payment_events: PaymentEventRepository
    outbox: OutboxRepository
    partners: PartnerRepository
    idempotency: IdempotencyRepository
    accounts: AccountRepository
    holders: HolderRepository
    milestones: MilestoneRepository
    lifecycle: LifecycleRepository
    partner_webhooks: PartnerWebhookRepository
    renewal_modes: RenewalModeRepository
    plan_changes: PlanChangeRepository
    saved_methods: SavedMethodRepository

    def __init__(self, sessionmaker: async_sessionmaker[AsyncSession]) -> None:
        self._sessionmaker = sessionmaker

    async def __aenter__(self) -> UnitOfWork:
        self._open_repositories(self._sessionmaker())
        return self

    def _open_repositories(self, session: AsyncSession) -> None:
        self.session = session
        self.catalog = CatalogRepository(self.session)
        self.mailboxes = MailboxRepository(self.session)
        self.quotes = QuoteRepository(self.session)
        self.orders = OrderRepository(self.session)
        self.payment_events = PaymentEventRepository(self.session)
        self.outbox = OutboxRepository(self.session)
        self.partners = PartnerRepository(self.session)
        self.idempotency = IdempotencyRepository(self.session)
        self.accounts = AccountRepository(self.session)
        self.holders = HolderRepository(self.session)
        self.milestones = MilestoneRepository(self.session)
        self.lifecycle = LifecycleRepository(self.session)
        self.partner_webhooks = PartnerWebhookRepository(self.session)
        self.renewal_modes = RenewalModeRepository(self.session)
        self.plan_changes = PlanChangeRepository(self.session)
        self.saved_methods = SavedMethodRepository(self.session)

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        try:
            # Detach first: what the use case returns stays readable (a rollback would
            # expire it), and what wasn't committed is rolled back all the same.
            self.session.expunge_all()
            await self.session.rollback()
        finally:
            await self.session.close()

    async def commit(self) -> None:
        await self.session.commit()
