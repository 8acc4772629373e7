"""The mail platform, told about each renewal over HTTP.

The outbox key travels as Idempotency-Key: a retry after a timeout is recognised by
the platform and never renews a mailbox twice.
"""

from __future__ import annotations

from typing import Any

import httpx


class MailPlatformError(Exception):
    pass


class MailPlatformClient:
    def __init__(self, base_url: str | None, token: str | None, client: httpx.AsyncClient) -> None:
        self._base_url = base_url.rstrip("/") if base_url else None
        self._token = token
        self._client = client

    async def renew(self, dedupe_key: str, renewal: dict[str, Any]) -> None:
        if self._base_url is None:
            raise MailPlatformError("MAIL_PLATFORM_URL is not set")
        headers = {"Idempotency-Key": dedupe_key}
        if self._token:
            headers["Authorization"] = f"Bearer {self._token}"
        url = f"{self._base_url}/mailboxes/{renewal['mailbox_id']}/renewals"
        try:
            response = await self._client.post(url, json=renewal, headers=headers, timeout=10)
        except httpx.HTTPError as exc:
            raise MailPlatformError(f"{type(exc).__name__}: {exc}") from exc
        if response.status_code >= 300:
            raise MailPlatformError(f"HTTP {response.status_code}: {response.text[:200]}")
