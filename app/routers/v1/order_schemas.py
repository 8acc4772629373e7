"""Order requests and answers."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field

from app.db.models import OrderRow
from app.domain.order import (
    CONSENTS,
    Consents,
    OrderRequest,
    OrderStatus,
    PaymentMethod,
    order_number,
)
from app.domain.payment_instructions import PaymentAccounts, payment_instructions
from app.routers.v1.fields import Identifier
from app.routers.v1.holder_schemas import (
    BillingIn,
    HolderIn,
)
from app.routers.v1.money_schema import MoneyOut


class _Strict(BaseModel):
    model_config = ConfigDict(strict=True, extra="forbid")


class ConsentsIn(_Strict):
    terms: bool = Field(description="General conditions.")
    unfair_terms: bool = Field(description="Clausole vessatorie, artt. 1341-1342 c.c.")
    privacy: bool = Field(description="Privacy notice.")


class OrderIn(_Strict):
    quote_id: Identifier
    holder: HolderIn | None = Field(
        None, description="Omitted: the holder on file for the quote's mailboxes."
    )
    billing: BillingIn | None = Field(
        None,
        description="Omitted: the billing on file (with the holder on file), or none "
        "(with a new holder).",
    )
    payment_method: PaymentMethod = Field(strict=False)
    consents: ConsentsIn
    acknowledge_archive_deletion: bool = False

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
            ),  # fmt: skip
            acknowledge_archive_deletion=self.acknowledge_archive_deletion,
        )


class PaymentInstructionsOut(BaseModel):
    method: PaymentMethod
    registered: str = Field(examples=["next_working_day"])
    amount: MoneyOut
    description: str | None = Field(None, description="The transfer's or slip's description.")
    iban: str | None = None
    beneficiary: str | None = None
    postal_account: str | None = None
    payment_url: str | None = None


class OrderItemOut(BaseModel):
    mailbox_id: str
    address: str
    current_plan: str
    plan: str
    extra_mailbox_gb: int
    extra_archive_gb: int
    deletes_archive: bool
    quoted_new_expiry: str


class OrderOut(BaseModel):
    id: str
    number: str = Field(examples=["PEC-2026-0000042"])
    status: OrderStatus
    quote_id: str
    payment_method: PaymentMethod
    years: int
    holder_name: str
    holder_email: str
    split_payment: bool
    items: list[OrderItemOut]
    net: MoneyOut
    vat: MoneyOut
    total: MoneyOut
    payable: MoneyOut = Field(description="What to pay: the net under PA split payment.")
    refunded: MoneyOut
    payment_instructions: PaymentInstructionsOut
    created_at: datetime
    paid_at: datetime | None
    fulfilled_at: datetime | None
    commitment_at: datetime | None
    closed_at: datetime | None

    @classmethod
    def of(cls, order: OrderRow, accounts: PaymentAccounts) -> OrderOut:
        currency = order.currency
        number = order_number(order.seq, order.created_at)
        method = PaymentMethod(order.payment_method)
        instructions = payment_instructions(
            method, order.id, number, order.payable_cents, currency, accounts
        )
        pa = order.document["billing"].get("public_administration") or {}
        holder = order.document["holder"]
        return cls(
            id=order.id,
            number=number,
            status=OrderStatus(order.status),
            quote_id=order.quote_id,
            payment_method=method,
            years=order.years,
            holder_name=holder["name"],
            holder_email=holder["email"],
            split_payment=bool(pa.get("split_payment")),
            items=[
                OrderItemOut(
                    mailbox_id=i["mailbox_id"],
                    address=i["address"],
                    current_plan=i["current_plan"],
                    plan=i["target_plan"],
                    extra_mailbox_gb=i["extra_mailbox_gb"],
                    extra_archive_gb=i["extra_archive_gb"],
                    deletes_archive=i["deletes_archive"],
                    quoted_new_expiry=i["quoted_new_expiry"],
                )
                for i in order.document["items"]
            ],
            net=MoneyOut.of(order.net_cents, currency),
            vat=MoneyOut.of(order.vat_cents, currency),
            total=MoneyOut.of(order.total_cents, currency),
            payable=MoneyOut.of(order.payable_cents, currency),
            refunded=MoneyOut.of(order.refunded_cents, currency),
            payment_instructions=PaymentInstructionsOut(
                method=method,
                registered=instructions.registered,
                amount=MoneyOut.of(instructions.payable_cents, currency),
                description=instructions.description,
                iban=instructions.iban,
                beneficiary=instructions.beneficiary,
                postal_account=instructions.postal_account,
                payment_url=instructions.payment_url,
            ),
            created_at=order.created_at,
            paid_at=order.paid_at,
            fulfilled_at=order.fulfilled_at,
            commitment_at=order.commitment_at,
            closed_at=order.closed_at,
        )


class OrderPageOut(BaseModel):
    items: list[OrderOut]
    next_cursor: str | None
