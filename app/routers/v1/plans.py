"""GET /v1/plans: the price list in force, from memory, with an ETag for cheap polling."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request, Response

from app.container import Container
from app.routers.lean_route import LeanRoute
from app.routers.responses import CACHING, problem
from app.routers.v1.plan_schemas import PriceListOut

router = APIRouter(tags=["catalog"], route_class=LeanRoute)

CACHE_CONTROL = "public, max-age=60, must-revalidate"
ETAG_HELD = "The `ETag` you hold: 304 while it is current."
# Documented here, read from the request in the handler (see get_price_list): the same
# parameter FastAPI would have generated from `Header()`.
IF_NONE_MATCH: dict[str, Any] = {
    "description": ETAG_HELD,
    "in": "header",
    "name": "if-none-match",
    "required": False,
    "schema": {
        "anyOf": [{"type": "string"}, {"type": "null"}],
        "description": ETAG_HELD,
        "title": "If-None-Match",
    },
}


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
    openapi_extra={"parameters": [IF_NONE_MATCH]},
)
async def get_price_list(request: Request) -> Response:
    # The public, most polled route reads its container and header straight from the
    # request: FastAPI's Depends() and Header() cost ~30 µs a request here, three times
    # what the route itself does (issue 10: /v1/plans at >= 0.80 of a trivial route);
    # and LeanRoute calls it without solving its (empty) dependency tree, ~10 µs more.
    container: Container = request.app.state.container
    if_none_match = request.headers.get("if-none-match")
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
