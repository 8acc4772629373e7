"""GET /v1/plans: the price list in force, from memory, with an ETag for cheap polling."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Header, Response

from app.routers.deps import ContainerDep
from app.routers.responses import CACHING, problem
from app.routers.v1.plan_schemas import PriceListOut

router = APIRouter(tags=["catalog"])

CACHE_CONTROL = "public, max-age=60, must-revalidate"


@router.get(
    "/plans",
    operation_id="get_price_list",
    summary="The price list in force",
    description="Public. Plans, extra-space prices, signature kits, active promotions and "
    "VAT rate. Poll with `If-None-Match`: 304 while the `ETag` is unchanged.",
    response_model=PriceListOut,
    responses={
        200: {"headers": CACHING},
        304: {"description": "Not modified (If-None-Match)", "headers": CACHING},
        503: problem("`catalog_unavailable` (no price list in force), `database_unavailable`."),
    },
)
async def get_price_list(
    container: ContainerDep,
    if_none_match: Annotated[
        str | None, Header(description="The `ETag` you hold: 304 while it is current.")
    ] = None,
) -> Response:
    snapshot = await container.catalog.current()
    headers = {"ETag": snapshot.etag, "Cache-Control": CACHE_CONTROL}
    if if_none_match is not None and _matches(if_none_match, snapshot.etag):
        return Response(status_code=304, headers=headers)
    cached = container.plans_body
    if cached is None or cached[0] != snapshot.etag:
        # Serialized once per price-list version, then served as bytes.
        body = PriceListOut.of(snapshot.price_list, container.clock()).model_dump_json().encode()
        cached = container.plans_body = (snapshot.etag, body)
    return Response(content=cached[1], media_type="application/json", headers=headers)


def _matches(if_none_match: str, etag: str) -> bool:
    """RFC 9110 13.1.2: `*` or any listed tag, compared weakly."""
    if if_none_match.strip() == "*":
        return True
    return etag in {tag.strip().removeprefix("W/") for tag in if_none_match.split(",")}
