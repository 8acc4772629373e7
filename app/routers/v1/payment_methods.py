"""GET /v1/payment-methods and DELETE /v1/payment-methods/{id}: the saved card or PayPal
account an automatic renewal charges, seen and removed by its customer."""

from __future__ import annotations

from datetime import datetime

from fastapi import APIRouter
from pydantic import BaseModel, ConfigDict, Field
from pydantic.config import JsonDict

from app.domain.saved_payment_method import SavedPaymentMethod
from app.routers.deps import CallerDep
from app.routers.responses import problem
from app.routers.v1.fields import IdInPath, is_identifier
from app.services import saved_payment_methods
from app.services.errors import ResourceNotFound

router = APIRouter(tags=["payment methods"])

_EXAMPLE: JsonDict = {
    "id": "spm_2b7d9f1c3e5a4b6c8d0e1f2a3b4c5d6e",
    "provider": "stripe",
    "kind": "card",
    "order_id": "ord_7a3e5c1b9d2f4e6a8c0b1d3f5a7c9e1b",
    "created_at": "2026-11-25T10:00:00Z",
}


class PaymentMethodOut(BaseModel):
    """A saved method: only the provider's reference is kept, never card data."""

    model_config = ConfigDict(json_schema_extra={"examples": [_EXAMPLE]})

    id: str = Field(description="Its id: remove it with DELETE /v1/payment-methods/{id}.")
    provider: str = Field(description="Who keeps it: `stripe`.")
    kind: str = Field(description="`card` or `paypal`.")
    order_id: str = Field(description="The order whose payment saved it.")
    created_at: datetime = Field(description="When it was saved (UTC).")

    @classmethod
    def of(cls, method: SavedPaymentMethod) -> PaymentMethodOut:
        return cls(
            id=method.id,
            provider=method.provider,
            kind=method.kind,
            order_id=method.order_id,
            created_at=method.created_at,
        )


class PaymentMethodListOut(BaseModel):
    model_config = ConfigDict(json_schema_extra={"examples": [{"items": [_EXAMPLE]}]})

    items: list[PaymentMethodOut] = Field(
        description="Newest first: the first is the one an automatic renewal charges."
    )


@router.get(
    "/payment-methods",
    operation_id="list_payment_methods",
    summary="Your saved payment methods (what automatic renewal charges)",
    description="Saved when a card or PayPal payment turns automatic renewal on. Only a "
    "customer has any: a partner's or staff's list is empty.",
    response_model=PaymentMethodListOut,
)
async def list_payment_methods(caller: CallerDep) -> PaymentMethodListOut:
    methods = await saved_payment_methods.list_methods(
        caller.container.unit_of_work(), caller.principal
    )
    return PaymentMethodListOut(items=[PaymentMethodOut.of(m) for m in methods])


@router.delete(
    "/payment-methods/{method_id}",
    operation_id="remove_payment_method",
    summary="Remove a saved payment method; answers the methods left",
    response_model=PaymentMethodListOut,
    responses={404: problem("`payment_method_not_found`: no such method, or not yours.")},
    description="An automatic renewal due with no saved method left asks the holder, by "
    "email, to pay another way. Automatic renewal itself stays as it is: turn it off "
    "with PUT /v1/mailboxes/{id}/auto-renewal.",
)
async def remove_payment_method(method_id: IdInPath, caller: CallerDep) -> PaymentMethodListOut:
    if not is_identifier(method_id):
        raise ResourceNotFound("payment_method", method_id)
    container = caller.container
    await saved_payment_methods.remove_method(container.unit_of_work(), caller.principal, method_id)
    methods = await saved_payment_methods.list_methods(container.unit_of_work(), caller.principal)
    return PaymentMethodListOut(items=[PaymentMethodOut.of(m) for m in methods])
