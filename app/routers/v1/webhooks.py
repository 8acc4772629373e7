"""POST /v1/webhooks/payments/{provider}: signed payment events, stored before the 2xx."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Request, Response

from app.adapters.payment_webhooks import (
    PROVIDERS,
    UnknownProvider,
    WebhookRejected,
    read_event,
)
from app.container import Container
from app.routers.lean_route import LeanRoute
from app.routers.problems import ProblemError
from app.routers.responses import GENERIC_PROBLEMS, problem
from app.routers.v1.webhook_schemas import SIGNATURE_HEADERS, WEBHOOK_REQUEST_BODY, WebhookAck
from app.services import payments

router = APIRouter(tags=["webhooks"], route_class=LeanRoute)


@router.post(
    "/webhooks/payments/{provider}",
    operation_id="receive_payment_webhook",
    summary="A payment provider's signed event",
    response_model=WebhookAck,
    # The body is read raw (the signature is over its bytes): declared here for the contract.
    openapi_extra={"requestBody": WEBHOOK_REQUEST_BODY, "parameters": SIGNATURE_HEADERS},
    responses={
        200: {"description": "Stored (and applied, when `outcome` isn't null), or a duplicate."},
        400: problem("`invalid_signature`: bad signature or stale timestamp; nothing stored."),
        404: problem("`unknown_provider`."),
        413: problem(GENERIC_PROBLEMS[413]),
        503: problem(
            "`payment_event_not_stored`, `database_unavailable`: deliver the event again."
        ),
    },
    description=(
        f"Providers: {', '.join(PROVIDERS)}. `stripe` uses Stripe-Signature; `generic` the "
        "Standard Webhooks headers (webhook-id, webhook-timestamp, webhook-signature). A "
        "verified event is stored under (provider, event id) before the 2xx; a duplicate "
        "answers 2xx and does nothing."
    ),
)
async def receive_payment_webhook(
    provider: Annotated[str, Path(description="`stripe` or `generic`.")],
    request: Request,
) -> Response:
    # The container without a dependency: a provider's every event pays for each node.
    container: Container = request.app.state.container
    body = await request.body()  # the raw bytes: signatures are over them, not over JSON
    headers = {k.lower(): v for k, v in request.headers.items()}
    try:
        event = read_event(provider, body, headers, container.webhook_secrets)
    except UnknownProvider:
        raise ProblemError(404, "unknown_provider") from None
    except WebhookRejected:
        raise ProblemError(400, "invalid_signature") from None
    receipt = await payments.receive_event(
        container.unit_of_work,
        provider,
        event,
        container.clock(),
        container.payment_in_one_write,
    )
    container.metrics.count_webhook_event(
        provider, "duplicate" if receipt.duplicate else (receipt.outcome or "pending")
    )
    ack = WebhookAck(received=True, duplicate=receipt.duplicate, outcome=receipt.outcome)
    # The bytes straight from the model (`response_model` still documents them): a Response
    # lets LeanRoute serve the route (app/routers/lean_route.py).
    return Response(ack.model_dump_json(), media_type="application/json")
