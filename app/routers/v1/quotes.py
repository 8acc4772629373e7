"""POST /v1/quotes and GET /v1/quotes/{id}."""

from __future__ import annotations

from fastapi import APIRouter, Response

from app.routers.deps import CallerDep, IdempotencyKeyDep
from app.routers.lean_route import LeanRoute
from app.routers.responses import LOCATION, REPLAYED, problem
from app.routers.v1.fields import IdInPath, is_identifier
from app.routers.v1.idempotent_answers import idempotent_request
from app.routers.v1.quote_schemas import QuoteIn, QuoteOut, quote_json
from app.services import quoting
from app.services.errors import ResourceNotFound

router = APIRouter(tags=["quotes"], route_class=LeanRoute)


@router.post(
    "/quotes",
    operation_id="create_quote",
    summary="Price a renewal of one or more mailboxes",
    status_code=201,
    response_model=QuoteOut,
    responses={
        201: {"headers": {**LOCATION, **REPLAYED}},
        404: problem("`mailbox_not_found`: an item names a mailbox you can't renew."),
        422: problem(
            "`validation_failed` (malformed), `convention_code_invalid`, `idempotency_key_reused`."
        ),
    },
    description=(
        "A rule violation is data in a `blocked` quote (per-item `issues`), not an HTTP "
        "error; warnings never block. The quote freezes its prices until `valid_until`."
    ),
)
async def create_quote(
    body: QuoteIn,
    caller: CallerDep,
    idempotency_key: IdempotencyKeyDep = None,
) -> Response:
    container = caller.container
    outcome = await quoting.create_quote(
        container.quote_store,
        container.catalog,
        caller.principal,
        body.to_domain(),
        caller.now,
        container.settings.quote_validity,
        idempotent_request(caller.principal, "create_quote", idempotency_key, body),
    )
    if outcome.mailboxes_from is not None:  # a new quote, not a replay
        container.metrics.count_new_quote(outcome.record.quote.status, outcome.mailboxes_from)
    # A replay is the first answer: its status as it was then, not as it reads now.
    as_of = outcome.record.quote.created_at if outcome.replayed else caller.now
    # QuoteOut's bytes, encoded straight from the quote (the hot path: see quote_json);
    # `response_model` still documents them.
    response = Response(
        quote_json(outcome.record, caller.language, as_of),
        status_code=201,
        media_type="application/json",
    )
    if outcome.replayed:
        response.headers["Idempotent-Replayed"] = "true"
    response.headers["Location"] = f"/v1/quotes/{outcome.record.id}"
    response.headers["Content-Language"] = caller.language
    return response


@router.get(
    "/quotes/{quote_id}",
    operation_id="get_quote",
    summary="A quote you made",
    description="The quote as it reads now: `status` is `expired` once past `valid_until`.",
    response_model=QuoteOut,
    responses={404: problem("`quote_not_found`: no such quote, or not yours.")},
)
async def get_quote(quote_id: IdInPath, caller: CallerDep) -> QuoteOut:
    if not is_identifier(quote_id):
        raise ResourceNotFound("quote", quote_id)
    record = await quoting.get_quote(caller.container.quote_store, caller.principal, quote_id)
    return QuoteOut.of(record, caller.language, caller.now)
