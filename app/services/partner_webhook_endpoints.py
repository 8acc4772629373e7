"""A partner sets, reads and removes the endpoint its signed events are sent to."""

from __future__ import annotations

import base64
import secrets
from dataclasses import dataclass
from datetime import datetime

from app.domain.webhook_endpoint import (
    SECRET_PREFIX,
    WebhookEndpoint,
    check_endpoint_url,
    check_secret,
)
from app.services.errors import ResourceNotFound
from app.services.unit_of_work import UnitOfWorkProtocol

GENERATED_SECRET_BYTES = 32


@dataclass(frozen=True, slots=True)
class SavedEndpoint:
    endpoint: WebhookEndpoint
    created: bool
    generated_secret: str | None  # shown once, in the answer that generated it


def new_secret() -> str:
    """A Standard Webhooks secret: whsec_ + base64 of 32 random bytes."""
    return SECRET_PREFIX + base64.b64encode(secrets.token_bytes(GENERATED_SECRET_BYTES)).decode()


async def put_endpoint(
    uow: UnitOfWorkProtocol,
    partner_id: str,
    url: str,
    secret: str | None,
    *,
    allow_local: bool,
    now: datetime,
) -> SavedEndpoint:
    """Create or replace the endpoint. Without a secret a new one is generated (PUT
    replaces the whole endpoint: to keep the secret, send it again)."""
    check_endpoint_url(url, allow_local=allow_local)
    generated = None
    if secret is None:
        secret = generated = new_secret()
    else:
        check_secret(secret)
    async with uow:
        if not await uow.partners.exists(partner_id):
            raise ResourceNotFound("partner", partner_id)
        existed = await uow.partner_webhooks.endpoint(partner_id) is not None
        stored = await uow.partner_webhooks.save_endpoint(
            WebhookEndpoint(partner_id, url, secret, now, now)
        )
        await uow.commit()
    return SavedEndpoint(stored, not existed, generated)


async def get_endpoint(uow: UnitOfWorkProtocol, partner_id: str) -> WebhookEndpoint:
    async with uow:
        found = await uow.partner_webhooks.endpoint(partner_id)
    if found is None:
        raise ResourceNotFound("webhook_endpoint", partner_id)
    return found


async def delete_endpoint(uow: UnitOfWorkProtocol, partner_id: str) -> WebhookEndpoint:
    """The endpoint removed; events due afterwards are logged as `skipped`."""
    async with uow:
        found = await uow.partner_webhooks.endpoint(partner_id)
        if found is None or not await uow.partner_webhooks.delete_endpoint(partner_id):
            raise ResourceNotFound("webhook_endpoint", partner_id)
        await uow.commit()
    return found
