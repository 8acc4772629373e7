"""The mail platform, told over HTTP what changes in a mailbox: a renewal, a plan change
that takes effect, a deletion.

The outbox key travels as Idempotency-Key: a retry after a timeout is recognised by
the platform and never renews (or deletes) a mailbox twice.
"""

from __future__ import annotations

from typing import Any

import httpx


class MailPlatformError(Exception):
    pass


# What a mail_platform outbox message asks (its "action"), and where the platform takes it.
RENEWAL = "renewal"
PLAN_CHANGE = "plan_change"  # a downgrade scheduled for the expiry, now taking effect
DELETION = "deletion"  # day 91 after expiry
RESOURCES = {RENEWAL: "renewals", PLAN_CHANGE: "plan-changes", DELETION: "deletions"}


class MailPlatformClient:
    def __init__(self, base_url: str | None, token: str | None, client: httpx.AsyncClient) -> None:
        self._base_url = base_url.rstrip("/") if base_url else None
        self._token = token
        self._client = client

    async def deliver(self, dedupe_key: str, message: dict[str, Any]) -> None:
        """Send one outbox message; its `action` (default: a renewal) picks the resource."""
        if self._base_url is None:
            raise MailPlatformError("MAIL_PLATFORM_URL is not set")
        headers = {"Idempotency-Key": dedupe_key}
        if self._token:
            headers["Authorization"] = f"Bearer {self._token}"
        resource = RESOURCES[message.get("action", RENEWAL)]
        url = f"{self._base_url}/mailboxes/{message['mailbox_id']}/{resource}"
        try:
            response = await self._client.post(url, json=message, headers=headers, timeout=10)
        except httpx.HTTPError as exc:
            raise MailPlatformError(f"{type(exc).__name__}: {exc}") from exc
        if response.status_code >= 300:
            raise MailPlatformError(f"HTTP {response.status_code}: {response.text[:200]}")
