"""The automatic renewal's decisions on the fake unit of work: what is ordered, charged
and told, and what is not. The whole path over HTTP and PostgreSQL is in
tests/api/test_automatic_renewal_api.py."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, date, datetime, timedelta

from app.domain.access import Principal, Role
from app.domain.automatic_renewal import Schedule, StepKind
from app.domain.billing import Billing
from app.domain.catalog import Promotion
from app.domain.holder_record import HolderRecord
from app.domain.order import OrderStatus, PaymentMethod
from app.domain.saved_payment_method import SavedPaymentMethod
from app.routers.messages import message
from app.sandbox.demo_catalog import demo_price_list
from app.services.automatic_renewals import AutoRenewalSetup, renew_automatically
from app.services.payment_charger import Charge, ChargeResult
from tests.fakes.tables import StoredPriceList
from tests.unit.builders import PERSON
from tests.usecases.shop import ACCOUNTS, CUSTOMER, Shop, mailbox

EXPIRY = date(2027, 3, 20)


def at(days_before: int) -> datetime:
    return datetime.combine(EXPIRY - timedelta(days=days_before), datetime.min.time(), UTC)


class Charger:
    """Records charges; approves unless told to decline, or to break."""

    def __init__(self, result: ChargeResult | None = None, *, broken: bool = False) -> None:
        self.charges: list[Charge] = []
        self.result = result or ChargeResult(True)
        self.broken = broken

    async def charge(self, charge: Charge) -> ChargeResult:
        self.charges.append(charge)
        if self.broken:
            raise RuntimeError("adapter bug")
        return self.result


def setup(charger: Charger) -> AutoRenewalSetup:
    return AutoRenewalSetup(charger, ACCOUNTS, "2026-01", message)


def shop(*, years: int = 1, holder: bool = True, saved: bool = True, **promotion: int) -> Shop:
    box = replace(mailbox(expires_on=EXPIRY), auto_renewal=True, auto_renewal_years=years)
    opened = Shop.open(box)
    tables = opened.db.tables
    price_list = demo_price_list()
    if promotion:
        offer = Promotion("STANDARD", promotion["cents"], date(2027, 1, 1), date(2027, 12, 31))
        price_list = replace(price_list, promotions=(offer,))
    tables.price_lists[price_list.id] = StoredPriceList(price_list, None, None)
    if holder:
        account = tables.accounts[CUSTOMER.subject]
        tables.accounts[CUSTOMER.subject] = replace(account, holder=HolderRecord(PERSON, Billing()))
    if saved:
        tables.saved_methods["spm_1"] = SavedPaymentMethod(
            "spm_1", CUSTOMER.subject, "stripe", "card", "cus_1", "pm_1", "ord_0", at(400)
        )
    return opened


def automatic_orders(opened: Shop) -> list[tuple[OrderStatus, int, int]]:
    return [
        (s.order.status, s.order.years, s.order.payable_cents)
        for s in opened.db.tables.orders.values()
        if s.order.placed_automatically
    ]


def test_the_schedule_notices_then_charges_at_seven_five_three_and_one_days() -> None:
    schedule = Schedule()
    due = {days: schedule.step_due(EXPIRY, EXPIRY - timedelta(days=days)) for days in range(20)}

    assert [d for d, step in due.items() if step and step.kind is StepKind.NOTICE] == list(
        range(8, 18)
    )
    charges = {
        d: step.milestone for d, step in due.items() if step and step.kind is StepKind.CHARGE
    }
    assert charges == {
        7: "auto_renewal_charge_-7",
        6: "auto_renewal_charge_-7",  # a day late: still the first attempt
        5: "auto_renewal_charge_-5",
        4: "auto_renewal_charge_-5",
        3: "auto_renewal_charge_-3",
        2: "auto_renewal_charge_-3",
        1: "auto_renewal_charge_-1",
    }
    today = EXPIRY - timedelta(days=6)
    for step, first, last in schedule.windows(today):
        for day in range((last - first).days + 1):
            assert schedule.step_due(first + timedelta(days=day), today) == step


async def test_the_system_orders_despite_rule_two_and_charges_once_per_milestone() -> None:
    opened, charger = shop(), Charger()

    await renew_automatically(opened.db.uow_factory, setup(charger), at(7))
    await renew_automatically(opened.db.uow_factory, setup(charger), at(7))

    assert automatic_orders(opened) == [(OrderStatus.AWAITING_PAYMENT, 1, 1208)]
    [charge] = charger.charges
    assert (charge.customer_ref, charge.method_ref, charge.amount_cents) == ("cus_1", "pm_1", 1208)
    order = next(iter(opened.db.tables.orders.values())).order
    assert order.owner == Principal(Role.CUSTOMER, CUSTOMER.subject)
    assert (order.payment_method, order.automatic_renewal) == (PaymentMethod.CARD, True)


async def test_a_promotion_started_since_caps_the_recorded_years_at_two() -> None:
    opened = shop(years=3, cents=500)

    await renew_automatically(opened.db.uow_factory, setup(Charger()), at(7))

    assert automatic_orders(opened) == [(OrderStatus.AWAITING_PAYMENT, 2, 1220)]


async def test_without_a_holder_on_file_nothing_is_ordered_or_charged() -> None:
    opened, charger = shop(holder=False), Charger()

    await renew_automatically(opened.db.uow_factory, setup(charger), at(7))

    assert automatic_orders(opened) == []
    assert charger.charges == []
    assert opened.outbox_keys() == []


async def test_an_order_placed_by_hand_is_never_charged_automatically() -> None:
    opened, charger = shop(), Charger()
    tables = opened.db.tables
    tables.mailboxes["mbx-1"] = replace(tables.mailboxes["mbx-1"], auto_renewal=False)
    await opened.place(now=at(9))
    tables.mailboxes["mbx-1"] = replace(tables.mailboxes["mbx-1"], auto_renewal=True)

    await renew_automatically(opened.db.uow_factory, setup(charger), at(7))

    assert charger.charges == []
    assert automatic_orders(opened) == []


async def test_a_broken_charger_is_a_failed_charge_the_holder_hears_of() -> None:
    opened = shop()

    await renew_automatically(opened.db.uow_factory, setup(Charger(broken=True)), at(7))

    [order] = automatic_orders(opened)
    assert order[0] is OrderStatus.AWAITING_PAYMENT
    assert [k for k in opened.outbox_keys() if k.startswith("auto-renewal-declined:")] != []


async def test_the_notice_goes_once_and_not_before_seventeen_days() -> None:
    opened = shop()
    factory, charger = opened.db.uow_factory, Charger()

    await renew_automatically(factory, setup(charger), at(18))
    assert opened.outbox_keys() == []
    await renew_automatically(factory, setup(charger), at(17))
    await renew_automatically(factory, setup(charger), at(12))

    assert opened.outbox_keys() == [f"auto-renewal-notice:mbx-1:{EXPIRY}"]
    assert charger.charges == []


async def test_turned_off_after_the_order_the_retries_charge_nothing() -> None:
    opened, charger = shop(), Charger(ChargeResult(False, "card_declined"))
    await renew_automatically(opened.db.uow_factory, setup(charger), at(7))
    tables = opened.db.tables
    tables.mailboxes["mbx-1"] = replace(tables.mailboxes["mbx-1"], auto_renewal=False)

    await renew_automatically(opened.db.uow_factory, setup(charger), at(5))

    assert len(charger.charges) == 1
    assert automatic_orders(opened) == [(OrderStatus.AWAITING_PAYMENT, 1, 1208)]
