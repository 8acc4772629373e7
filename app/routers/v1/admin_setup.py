"""Setting production up, staff only: publish price lists, create and update partners.

Every PUT creates or replaces the resource at its id, and records who did it and when.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from fastapi import APIRouter, Response
from pydantic import BaseModel, ConfigDict, Field, JsonValue, StringConstraints

from app.domain.partner import Partner, PartnerProfile
from app.routers.deps import Caller, StaffCallerDep
from app.routers.responses import LOCATION, problem
from app.routers.v1.fields import NewIdInPath, Text
from app.routers.v1.money_schema import MoneyAmountIn, MoneyOut, cents_of
from app.routers.v1.price_list_schemas import (
    PriceListIn,
    PublicationOut,
    PublishedPriceListOut,
    PublishedPriceListsOut,
)
from app.services import partners, price_lists
from app.services.price_lists import Outcome

router = APIRouter(prefix="/admin", tags=["admin"])


def _who(caller: Caller) -> str:
    # The column is as wide as our ids; a longer subject is cut, not a failed write.
    return caller.principal.subject[:64]


@router.put(
    "/price-lists/{price_list_id}",
    operation_id="publish_price_list",
    summary="Publish a dated price list, or replace one not yet in force",
    response_model=PublicationOut,
    responses={
        200: {"description": "Replaced (not yet in force), or unchanged (the same body)"},
        201: {"description": "Published", "model": PublicationOut, "headers": LOCATION},
        409: problem("`price_list_in_force`: publish a new, later-dated list instead."),
    },
    description=(
        "The list in force at a moment is the one with the latest `valid_from` not after "
        "it. A list in force is never edited (409 `price_list_in_force`); sending the "
        "same body again answers 200 `unchanged`. Every api process uses a new list "
        "within CATALOG_CACHE_SECONDS, and a list dated in the future from its "
        "`valid_from` exactly. Quotes keep the prices of the list they were made with."
    ),
)
async def publish_price_list(
    price_list_id: NewIdInPath, body: PriceListIn, response: Response, caller: StaffCallerDep
) -> PublicationOut:
    container = caller.container
    done = await price_lists.publish(
        container.unit_of_work(), body.to_draft(price_list_id), _who(caller), caller.now
    )
    if done.outcome is not Outcome.UNCHANGED:
        container.catalog.invalidate()  # this process at once; the others within the TTL
    response.status_code = 201 if done.outcome is Outcome.CREATED else 200
    if done.outcome is Outcome.CREATED:
        response.headers["Location"] = f"/v1/admin/price-lists/{price_list_id}"
    return PublicationOut.of_publication(done, caller.now)


@router.get(
    "/price-lists",
    operation_id="list_price_lists",
    summary="The published price lists, latest valid_from first",
    description="Staff only. Every list, with whether it is in force and still replaceable.",
    response_model=PublishedPriceListsOut,
)
async def list_price_lists(caller: StaffCallerDep) -> PublishedPriceListsOut:
    lists, in_force = await price_lists.published(caller.container.unit_of_work(), caller.now)
    return PublishedPriceListsOut(
        items=[PublishedPriceListOut.of(p, p.id == in_force, caller.now) for p in lists]
    )


_PARTNER_EXAMPLE: dict[str, JsonValue] = {
    "name": "Web Reseller Srl",
    "email": "amministrazione@webreseller.example.it",
    "language": "it",
    "low_credit_threshold": "100.00",
}


class PartnerIn(BaseModel):
    model_config = ConfigDict(
        strict=True, extra="forbid", json_schema_extra={"examples": [_PARTNER_EXAMPLE]}
    )

    name: Text = Field(description="The reseller's company name (up to 200 characters).")
    email: Annotated[
        str, StringConstraints(max_length=320, pattern=r"^[!-?A-~]+@[!-?A-~]+\.[!-?A-~]+$")
    ] = Field(description="Where the reseller's notices go: an ASCII email address.")
    language: Literal["it", "en"] = Field(description="The language of its emails.")
    low_credit_threshold: MoneyAmountIn = Field(
        description="The low-credit threshold, EUR (two decimals): the partner is to be told "
        "when its credit falls below it."
    )

    def to_domain(self, partner_id: str) -> PartnerProfile:
        return PartnerProfile(
            partner_id, self.name, self.email, self.language, cents_of(self.low_credit_threshold)
        )


class PartnerOut(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "id": "ptn-webreseller",
                    **_PARTNER_EXAMPLE,
                    "low_credit_threshold": {"amount": "100.00", "currency": "EUR"},
                    "credit": {"amount": "500.00", "currency": "EUR"},
                    "updated_by": "staff-helpdesk",
                    "updated_at": "2026-12-01T17:45:16.510174Z",
                }
            ]
        }
    )

    id: str = Field(description="The partner id (what its partner token names).")
    name: str = Field(description="The reseller's company name.")
    email: str = Field(description="Where the reseller's notices go.")
    language: str = Field(description="The language of its emails: `it` or `en`.")
    low_credit_threshold: MoneyOut = Field(description="The low-credit threshold, EUR.")
    credit: MoneyOut = Field(
        description="The prepaid credit, EUR: moved only by top-ups and orders (0.00 when created)."
    )
    updated_by: str | None = Field(
        description="The staff member who last created or updated it; null if never through "
        "this API."
    )
    updated_at: datetime | None = Field(
        description="When it was last created or updated (UTC); null as `updated_by`."
    )

    @classmethod
    def of(cls, partner: Partner) -> PartnerOut:
        p = partner.profile
        return cls(
            id=p.id,
            name=p.name,
            email=p.email,
            language=p.language,
            low_credit_threshold=MoneyOut.of(p.low_credit_threshold_cents, "EUR"),
            credit=MoneyOut.of(partner.credit_cents, "EUR"),
            updated_by=partner.updated_by,
            updated_at=partner.updated_at,
        )


@router.put(
    "/partners/{partner_id}",
    operation_id="put_partner",
    summary="Create a partner (reseller) or update its profile",
    response_model=PartnerOut,
    responses={
        200: {"description": "Updated"},
        201: {"description": "Created, with no credit", "model": PartnerOut, "headers": LOCATION},
    },
    description="The credit is not set here: top it up with "
    "`POST /v1/admin/partners/{partner_id}/credit`.",
)
async def put_partner(
    partner_id: NewIdInPath, body: PartnerIn, response: Response, caller: StaffCallerDep
) -> PartnerOut:
    partner, created = await partners.put_partner(
        caller.container.unit_of_work(), body.to_domain(partner_id), _who(caller), caller.now
    )
    response.status_code = 201 if created else 200
    if created:
        response.headers["Location"] = f"/v1/admin/partners/{partner_id}"
    return PartnerOut.of(partner)
