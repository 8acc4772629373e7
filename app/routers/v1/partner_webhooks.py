"""Partner endpoints for outgoing webhooks: the endpoint, the delivery log, redelivery."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Query, Response

from app.routers.deps import PartnerCallerDep
from app.routers.responses import problem
from app.routers.v1.cursors import decode_row_cursor
from app.routers.v1.partner_webhook_schemas import (
    DeliveryStatus,
    EventType,
    WebhookDeliveryOut,
    WebhookDeliveryPage,
    WebhookEndpointIn,
    WebhookEndpointOut,
)
from app.services import partner_webhook_endpoints as endpoints
from app.services.partner_webhook_delivery import delivery_log, redeliver

router = APIRouter(prefix="/partner", tags=["partner"])
_FORBIDDEN = problem("`forbidden`: partners only.")
_NO_ENDPOINT = problem("`webhook_endpoint_not_found`: you have set no endpoint.")


@router.put(
    "/webhook-endpoint",
    operation_id="put_partner_webhook_endpoint",
    summary="Set where your events are sent, and the secret that signs them",
    description="Partners only. Replaces the endpoint. Without `secret` a new one is "
    "generated and returned once, in `secret`; afterwards only `secret_hint` shows. "
    "The URL must be https on a public address (a private, loopback or link-local one is "
    "refused here, and again at each delivery from what the name resolves to).",
    response_model=WebhookEndpointOut,
    responses={
        200: {"description": "Replaced"},
        201: {"description": "Created", "model": WebhookEndpointOut},
        403: _FORBIDDEN,
        404: problem("`partner_not_found`: your token names no partner on file."),
        422: problem(
            "`validation_failed`, `webhook_url_invalid`, `webhook_url_not_https`, "
            "`webhook_url_not_public`, `webhook_secret_invalid`."
        ),
    },
)
async def put_webhook_endpoint(
    body: WebhookEndpointIn, response: Response, caller: PartnerCallerDep
) -> WebhookEndpointOut:
    saved = await endpoints.put_endpoint(
        caller.container.unit_of_work(),
        caller.principal.subject,
        body.url,
        body.secret,
        allow_local=caller.container.settings.partner_webhook_allow_local_urls,
        now=caller.now,
    )
    response.status_code = 201 if saved.created else 200
    return WebhookEndpointOut.of(saved.endpoint, saved.generated_secret)


@router.get(
    "/webhook-endpoint",
    operation_id="get_partner_webhook_endpoint",
    summary="Where your events are sent",
    description="Partners only. The secret itself is never shown again: `secret_hint` is.",
    response_model=WebhookEndpointOut,
    responses={403: _FORBIDDEN, 404: _NO_ENDPOINT},
)
async def get_webhook_endpoint(caller: PartnerCallerDep) -> WebhookEndpointOut:
    found = await endpoints.get_endpoint(caller.container.unit_of_work(), caller.principal.subject)
    return WebhookEndpointOut.of(found)


@router.delete(
    "/webhook-endpoint",
    operation_id="delete_partner_webhook_endpoint",
    summary="Stop sending your events",
    description="Partners only. Answers the endpoint removed. Events due while no endpoint "
    "is set are logged as `skipped` (redeliver them once you set one).",
    response_model=WebhookEndpointOut,
    responses={403: _FORBIDDEN, 404: _NO_ENDPOINT},
)
async def delete_webhook_endpoint(caller: PartnerCallerDep) -> WebhookEndpointOut:
    removed = await endpoints.delete_endpoint(
        caller.container.unit_of_work(), caller.principal.subject
    )
    return WebhookEndpointOut.of(removed)


@router.get(
    "/webhook-deliveries",
    operation_id="list_partner_webhook_deliveries",
    summary="Your webhook delivery log, with every attempt",
    description="Partners only. Newest first; `next_cursor` pages on.",
    response_model=WebhookDeliveryPage,
    responses={403: _FORBIDDEN, 422: problem("`validation_failed`, `invalid_cursor`.")},
)
async def list_webhook_deliveries(
    caller: PartnerCallerDep,
    status: Annotated[DeliveryStatus | None, Query(description="Only this status.")] = None,
    type: Annotated[EventType | None, Query(description="Only this event type.")] = None,
    limit: Annotated[int, Query(ge=1, le=200, description="Items per page (1–200).")] = 50,
    cursor: Annotated[
        str | None, Query(max_length=200, description="`next_cursor` of the previous page.")
    ] = None,
) -> WebhookDeliveryPage:
    log = await delivery_log(
        caller.container.unit_of_work(),
        caller.principal.subject,
        limit,
        decode_row_cursor(cursor),
        status,
        type,
    )
    return WebhookDeliveryPage(
        items=[WebhookDeliveryOut.of(item) for item in log.items],
        next_cursor=str(log.next_before_id) if log.next_before_id else None,
    )


@router.post(
    "/webhook-deliveries/{event_id}/redeliver",
    operation_id="redeliver_partner_webhook",
    summary="Send an event again now",
    description="Partners only. Queues the event at once for a new round of attempts "
    "(retried with backoff for 24 hours); the same `webhook-id`, so you dedupe it.",
    status_code=202,
    response_model=WebhookDeliveryOut,
    responses={
        202: {"description": "Queued"},
        403: _FORBIDDEN,
        404: problem("`webhook_delivery_not_found`: no such delivery of yours."),
        409: problem("`webhook_endpoint_not_set`: set an endpoint first."),
    },
)
async def redeliver_webhook(
    event_id: Annotated[str, Path(max_length=64, description="The event id (`evt_…`).")],
    caller: PartnerCallerDep,
) -> WebhookDeliveryOut:
    again = await redeliver(
        caller.container.unit_of_work(), caller.principal.subject, event_id, caller.now
    )
    return WebhookDeliveryOut.of(again)
