"""A unit of work on a FakeDatabase: writes are visible to others only once committed.

Each unit of work works on its own copy of the committed tables; commit() makes that
copy the committed state, and leaving the block without it throws the copy away — the
same all-or-nothing the use cases get from a PostgreSQL transaction.
"""

from __future__ import annotations

from copy import deepcopy
from types import TracebackType

from app.services.unit_of_work import UowFactory
from tests.fakes.lifecycle_repository import FakeLifecycle
from tests.fakes.order_repositories import FakeMailboxes, FakeOrders, FakePaymentEvents
from tests.fakes.other_repositories import (
    FakeAccounts,
    FakeCatalog,
    FakeHolders,
    FakeIdempotencyClaims,
    FakeMilestones,
    FakeOutbox,
    FakePartners,
    FakeQuotes,
    FakeRenewalModes,
    FakeSavedMethods,
)
from tests.fakes.partner_webhooks import FakePartnerWebhooks
from tests.fakes.plan_changes import FakePlanChanges
from tests.fakes.tables import Sequences, Tables


class FakeDatabase:
    """The committed state that every FakeUnitOfWork starts from."""

    def __init__(self) -> None:
        self.tables = Tables()
        self.sequences = Sequences()
        self.commits = 0
        self.order_reads_failing = 0  # see outage()

    def outage(self, order_reads: int) -> None:
        """The next `order_reads` reads of an order fail, as a dropped connection would:
        what applying a payment does then is the retry path's to handle."""
        self.order_reads_failing = order_reads

    def unit_of_work(self) -> FakeUnitOfWork:
        return FakeUnitOfWork(self)

    @property
    def uow_factory(self) -> UowFactory:
        """For the use cases that take `uow_factory` (and proof, to mypy, that a
        FakeUnitOfWork is a UnitOfWorkProtocol)."""
        return self.unit_of_work


class FakeUnitOfWork:
    def __init__(self, database: FakeDatabase) -> None:
        self._database = database
        self._begin()

    def _begin(self) -> None:
        self._working = deepcopy(self._database.tables)
        sequences = self._database.sequences
        self.orders = FakeOrders(self._working, sequences, self._database)
        self.outbox = FakeOutbox(self._working, sequences)
        self.mailboxes = FakeMailboxes(self._working, self.outbox)
        self.payment_events = FakePaymentEvents(
            self._working, sequences, self.orders, self.mailboxes
        )
        self.accounts = FakeAccounts(self._working)
        self.holders = FakeHolders(self._working)
        self.idempotency = FakeIdempotencyClaims(self._working, self.outbox)
        self.partners = FakePartners(self._working)
        self.quotes = FakeQuotes(self._working)
        self.catalog = FakeCatalog(self._working)
        self.milestones = FakeMilestones(self._working)
        self.lifecycle = FakeLifecycle(self._working)
        self.partner_webhooks = FakePartnerWebhooks(self._working, sequences)
        self.renewal_modes = FakeRenewalModes(self._working)
        self.plan_changes = FakePlanChanges(self._working)
        self.saved_methods = FakeSavedMethods(self._working)

    async def __aenter__(self) -> FakeUnitOfWork:
        self._begin()  # a transaction sees what was committed when it starts
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self._begin()  # whatever wasn't committed is gone

    async def commit(self) -> None:
        self._database.tables = deepcopy(self._working)
        self._database.commits += 1
