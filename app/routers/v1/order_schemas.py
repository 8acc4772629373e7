"""Order requests and answers."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field
from pydantic.config import JsonDict
from pydantic_core import to_jsonable_python

from app.domain.calendar import italian_date
from app.domain.order import (
    CONSENTS,
    Consents,
    OrderRequest,
    OrderStatus,
    PaymentMethod,
)
from app.domain.order_aggregate import Order
from app.domain.order_items import OrderItem
from app.domain.payment_instructions import PaymentAccounts, payment_instructions
from app.routers.v1.fields import Identifier
from app.routers.v1.holder_schemas import HOLDER_IN_EXAMPLE, BillingIn, HolderIn
from app.routers.v1.money_schema import MoneyOut, eur_example, money_values


class _Strict(BaseModel):
    model_config = ConfigDict(strict=True, extra="forbid")


class ConsentsIn(_Strict):
    """The boxes the customer ticked: all three must be true (422 `consent_required`)."""

    terms: bool = Field(description="General conditions accepted.")
    unfair_terms: bool = Field(
        description="Clausole vessatorie (artt. 1341-1342 c.c.) specifically accepted."
    )
    privacy: bool = Field(description="Privacy notice read.")


# Orders the quote of `QUOTE_IN_EXAMPLE` (its id where this one is), paying by transfer.
ORDER_IN_EXAMPLE: JsonDict = {
    "quote_id": "quo_4f1c2a9e8b7d4c6a9e0f1a2b3c4d5e6f",
    "holder": HOLDER_IN_EXAMPLE,
    "payment_method": "bank_transfer",
    "consents": {"terms": True, "unfair_terms": True, "privacy": True},
    "acknowledge_archive_deletion": True,
}


class OrderIn(_Strict):
    """Order a quote: who holds the mailboxes, how to invoice and how to pay."""

    model_config = ConfigDict(json_schema_extra={"examples": [ORDER_IN_EXAMPLE]})

    quote_id: Identifier = Field(
        description="The `id` of a quote of yours, `ok` and before its `valid_until`."
    )
    holder: HolderIn | None = Field(
        None, description="Omitted: the holder on file for the quote's mailboxes."
    )
    billing: BillingIn | None = Field(
        None,
        description="Omitted: the billing on file (with the holder on file), or none "
        "(with a new holder).",
    )
    payment_method: PaymentMethod = Field(
        strict=False,
        description="How to pay: `card` or `paypal` (then renewals turn automatic), "
        "`bank_transfer`, `postal_slip_prefilled`, `postal_slip`; partners "
        "`partner_credit`. A public administration pays by `bank_transfer`.",
    )
    consents: ConsentsIn = Field(description="The consents given: all must be true.")
    acknowledge_archive_deletion: bool = Field(
        default=False,
        description="Must be true when the quote's `requires_archive_acknowledgement` is "
        "(422 `acknowledgement_required`): the customer accepts losing the archive.",
    )
    automatic_renewal: bool | None = Field(
        default=None,
        description="`card` and `paypal`: renew automatically at each expiry by charging the "
        "saved method (omitted or null: on; false: off). Other methods can't be charged "
        "by themselves: omitted or false, never true (422 `automatic_renewal_needs_card`).",
    )

    @classmethod
    def problems_beside_validation(cls, raw: object) -> list[tuple[str, str]]:
        """When the body fails validation, the consents the domain would refuse later:
        reported in the same 422, so a form shows every box left to tick at once."""
        consents = raw.get("consents") if isinstance(raw, dict) else None
        if not isinstance(consents, dict):
            return []
        return [
            (f"consents.{name}", "consent_required")
            for name in CONSENTS
            if consents.get(name) is False
        ]

    def to_domain(self, consents_version: str) -> OrderRequest:
        return OrderRequest(
            quote_id=self.quote_id,
            holder=self.holder.to_domain() if self.holder else None,
            billing=self.billing.to_domain() if self.billing else None,
            payment_method=self.payment_method,
            consents=Consents(
                self.consents.terms,
                self.consents.unfair_terms,
                self.consents.privacy,
                consents_version,
            ),
            acknowledge_archive_deletion=self.acknowledge_archive_deletion,
            automatic_renewal=self.automatic_renewal,
        )


class PaymentInstructionsOut(BaseModel):
    """How to pay: only the fields of the chosen method are non-null."""

    method: PaymentMethod = Field(description="The order's payment method.")
    registered: str = Field(
        examples=["next_working_day"],
        description="When the payment is registered once made: `immediately`, `same_day`, "
        "`next_working_day` or `five_to_seven_working_days`.",
    )
    amount: MoneyOut = Field(description="Exactly what to pay (the order's `payable`).")
    description: str | None = Field(
        None,
        description="The transfer's or slip's description (the order number): without it "
        "the payment can't be matched. Null for card, PayPal and credit.",
    )
    iban: str | None = Field(None, description="`bank_transfer`: the IBAN to pay into.")
    beneficiary: str | None = Field(
        None, description="Transfer and slips: the account holder to pay."
    )
    postal_account: str | None = Field(
        None, description="Postal slips: the postal current account number."
    )
    payment_url: str | None = Field(
        None, description="`card`, `paypal`: the checkout page to send the customer to."
    )


class OrderItemOut(BaseModel):
    """One mailbox the order renews, as quoted."""

    mailbox_id: str = Field(description="The mailbox's `id`.")
    address: str = Field(description="The mailbox's PEC address.")
    current_plan: str = Field(description="Its plan's `code` when ordered.")
    plan: str = Field(description="Its plan's `code` once renewed.")
    extra_mailbox_gb: int = Field(description="Extra mailbox space once renewed, GB.")
    extra_archive_gb: int = Field(description="Extra archive space once renewed, GB.")
    deletes_archive: bool = Field(description="true: the renewal deletes its archive.")
    quoted_new_expiry: str = Field(
        description="The new expiry the quote gave (ISO date); the renewal counts from the "
        "expiry when it is fulfilled.",
        examples=["2028-01-24"],
    )
    takes_effect: Literal["at_payment", "at_expiry"] = Field(
        description="When the plan and space change: `at_payment`, or `at_expiry` for a "
        "downgrade (the mailbox keeps what it has until its current expiry, archive "
        "included; a mailbox already expired when paid changes at payment)."
    )
    effective_on: date | None = Field(
        description="The day the change takes effect, as quoted (ISO date): for "
        "`at_expiry` the day after the current expiry. The mailbox's `scheduled_change` "
        "says the day once paid. Null for orders placed before this field existed.",
        examples=["2027-01-25"],
    )


# What the sandbox answers `ORDER_IN_EXAMPLE` on 2026-11-25 (checked by
# tests/api/test_openapi_examples_api.py).
ORDER_OUT_EXAMPLE: JsonDict = {
    "id": "ord_7a3e5c1b9d2f4e6a8c0b1d3f5a7c9e1b",
    "number": "PEC-2026-0000001",
    "status": "AWAITING_PAYMENT",
    "quote_id": "quo_4f1c2a9e8b7d4c6a9e0f1a2b3c4d5e6f",
    "payment_method": "bank_transfer",
    "years": 1,
    "holder_name": "Mario Rossi",
    "holder_email": "mario.rossi@example.it",
    "split_payment": False,
    "items": [
        {
            "mailbox_id": "mbx-premium",
            "address": "premium@pec.example.it",
            "current_plan": "PREMIUM",
            "plan": "STANDARD",
            "extra_mailbox_gb": 1,
            "extra_archive_gb": 0,
            "deletes_archive": True,
            "quoted_new_expiry": "2028-01-24",
            "takes_effect": "at_expiry",
            "effective_on": "2027-01-25",
        }
    ],
    "net": eur_example("12.90"),
    "vat": eur_example("2.84"),
    "total": eur_example("15.74"),
    "payable": eur_example("15.74"),
    "refunded": eur_example("0.00"),
    "payment_instructions": {
        "method": "bank_transfer",
        "registered": "next_working_day",
        "amount": eur_example("15.74"),
        "description": "PEC-2026-0000001",
        "iban": "IT60X0542811101000000123456",
        "beneficiary": "PEC Provider S.p.A.",
        "postal_account": None,
        "payment_url": None,
    },
    "created_at": "2026-11-25T10:00:00Z",
    "paid_at": None,
    "fulfilled_at": None,
    "commitment_at": None,
    "closed_at": None,
    "automatic_renewal": False,
    "placed_automatically": False,
}
# The same order once cancelled (POST /v1/orders/{id}/cancel).
CANCELLED_ORDER_EXAMPLE: JsonDict = {
    **ORDER_OUT_EXAMPLE,
    "status": "CANCELLED",
    "closed_at": "2026-11-25T10:00:00Z",
}


class OrderOut(BaseModel):
    """An order: what it renews, what it costs, how to pay it and where it stands."""

    model_config = ConfigDict(json_schema_extra={"examples": [ORDER_OUT_EXAMPLE]})

    id: str = Field(description="The order's id.")
    number: str = Field(
        examples=["PEC-2026-0000042"],
        description="The human order number: show it, and it goes in a transfer's description.",
    )
    status: OrderStatus = Field(
        description="`AWAITING_PAYMENT` → `PAID` → `FULFILLED` (mailboxes renewed); or "
        "`CANCELLED`, `EXPIRED` (unpaid past the grace), `REFUNDED`."
    )
    quote_id: str = Field(description="The quote it was placed from.")
    payment_method: PaymentMethod = Field(description="How it is paid.")
    years: int = Field(description="Years of renewal.")
    holder_name: str = Field(description="The holder's name (invoiced).")
    holder_email: str = Field(description="Where the confirmation and instructions go.")
    split_payment: bool = Field(
        description="true: a public administration under split payment pays the net only."
    )
    items: list[OrderItemOut] = Field(description="The mailboxes it renews.")
    net: MoneyOut = Field(description="Total before VAT.")
    vat: MoneyOut = Field(description="VAT on `net`.")
    total: MoneyOut = Field(description="`net` + `vat`, as invoiced.")
    payable: MoneyOut = Field(description="What to pay: the net under PA split payment.")
    refunded: MoneyOut = Field(description="Refunded so far (0.00 unless refunded).")
    payment_instructions: PaymentInstructionsOut = Field(
        description="How to pay it (also sent by email to `holder_email`)."
    )
    created_at: datetime = Field(description="When it was placed (UTC).")
    paid_at: datetime | None = Field(description="When the payment was registered; null: not yet.")
    fulfilled_at: datetime | None = Field(
        description="When its mailboxes were renewed; null: not yet."
    )
    commitment_at: datetime | None = Field(
        description="When a public administration's payment commitment was registered "
        "(it is fulfilled then, before the money arrives); null: none."
    )
    closed_at: datetime | None = Field(
        description="When it was cancelled or expired; null: it wasn't."
    )
    automatic_renewal: bool = Field(
        description="true: once paid, its mailboxes renew automatically, charging the saved "
        "card or PayPal account (the customer's choice, recorded with the consents)."
    )
    placed_automatically: bool = Field(
        description="true: placed by the service itself, for a mailbox with automatic renewal."
    )

    @classmethod
    def of(cls, order: Order, accounts: PaymentAccounts) -> OrderOut:
        return cls.model_validate(order_values(order, accounts))


def order_values(order: Order, accounts: PaymentAccounts) -> dict[str, Any]:
    """OrderOut's fields as plain values: OrderOut.of validates them into the model;
    POST /v1/orders encodes them as they are (order_json)."""
    currency = order.currency
    instructions = payment_instructions(
        order.payment_method, order.id, order.number, order.payable_cents, currency, accounts
    )
    holder = order.holder.holder
    placed_on = italian_date(order.created_at)
    return {
        "id": order.id,
        "number": order.number,
        "status": order.status,
        "quote_id": order.quote_id,
        "payment_method": order.payment_method,
        "years": order.years,
        "holder_name": holder.name,
        "holder_email": holder.email,
        "split_payment": order.split_payment,
        "items": [
            {
                "mailbox_id": i.mailbox_id,
                "address": i.address,
                "current_plan": i.current_plan,
                "plan": i.target_plan,
                "extra_mailbox_gb": i.extra_mailbox_gb,
                "extra_archive_gb": i.extra_archive_gb,
                "deletes_archive": i.deletes_archive,
                "quoted_new_expiry": i.quoted_new_expiry.isoformat(),
                "takes_effect": _takes_effect(i, placed_on),
                "effective_on": i.quoted_effective_on,
            }
            for i in order.items
        ],
        "net": money_values(order.amounts.net_cents, currency),
        "vat": money_values(order.amounts.vat_cents, currency),
        "total": money_values(order.amounts.total_cents, currency),
        "payable": money_values(order.payable_cents, currency),
        "refunded": money_values(order.refunded_cents, currency),
        "payment_instructions": {
            "method": order.payment_method,
            "registered": instructions.registered,
            "amount": money_values(instructions.payable_cents, currency),
            "description": instructions.description,
            "iban": instructions.iban,
            "beneficiary": instructions.beneficiary,
            "postal_account": instructions.postal_account,
            "payment_url": instructions.payment_url,
        },
        "created_at": order.created_at,
        "paid_at": order.paid_at,
        "fulfilled_at": order.fulfilled_at,
        "commitment_at": order.commitment_at,
        "closed_at": order.closed_at,
        "automatic_renewal": order.automatic_renewal,
        "placed_automatically": order.placed_automatically,
    }


def order_json(order: Order, accounts: PaymentAccounts) -> dict[str, Any]:
    """`OrderOut.of(order, accounts).model_dump(mode="json")` without building and
    validating the models (~75 µs of an order's CPU): the same values, with the few that
    are not JSON already (enums, dates, instants) written as pydantic writes them, here
    rather than by walking the whole answer with `to_jsonable_python` (a tenth of the
    order handler's time in a profile of the server). tests/unit/test_order_json.py
    holds it to the models."""
    answer = order_values(order, accounts)
    answer["status"] = order.status.value
    answer["payment_method"] = answer["payment_instructions"]["method"] = order.payment_method.value
    for item in answer["items"]:
        effective_on = item["effective_on"]
        item["effective_on"] = None if effective_on is None else effective_on.isoformat()
    for name in _INSTANTS:
        answer[name] = json_instant(answer[name])
    return answer


_INSTANTS = ("created_at", "paid_at", "fulfilled_at", "commitment_at", "closed_at")


def json_instant(moment: datetime | None) -> str | None:
    """An instant as pydantic writes it in JSON: ISO 8601, UTC as `Z`. Any other offset
    goes through pydantic itself (it drops an offset's seconds; isoformat keeps them)."""
    if moment is None:
        return None
    text = moment.isoformat()
    if text.endswith("+00:00"):
        return text[:-6] + "Z"
    written: str = to_jsonable_python(moment)
    return written


class OrderPageOut(BaseModel):
    """A page of orders, newest first."""

    model_config = ConfigDict(
        json_schema_extra={"examples": [{"items": [ORDER_OUT_EXAMPLE], "next_cursor": None}]}
    )

    items: list[OrderOut] = Field(description="Up to `limit` orders, newest first.")
    next_cursor: str | None = Field(
        description="Pass as `cursor` for the next page; null: this is the last page."
    )


def _takes_effect(item: OrderItem, placed_on: date) -> Literal["at_payment", "at_expiry"]:
    return "at_expiry" if item.waits_for_expiry(placed_on) else "at_payment"
