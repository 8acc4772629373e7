"""Sending one signed event to a partner's endpoint, over the public internet only.

Signed the Standard Webhooks way (`webhook-id` = the event id, `webhook-timestamp`,
`webhook-signature: v1,<base64 HMAC-SHA256>`) with the partner's secret, by the
`standardwebhooks` library. The timestamp is the wall clock when sent, not the service's
business clock (the sandbox can move that one by days): receivers compare it with theirs
to refuse replays.

No request ever reaches an address inside our network: the host is resolved here, every
address it resolves to must be public (app.domain.webhook_endpoint.is_public_address),
and the connection goes to the address that was checked, with the name kept for the Host
header and TLS (SNI and the certificate check), so the name can't resolve to something
else in between (DNS rebinding). No redirects are followed; the answer's body is never
read. The outcome, whatever it is, is returned to be logged; nothing raises.
"""

from __future__ import annotations

import asyncio
import ipaddress
import socket
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from urllib.parse import urlsplit, urlunsplit

import httpx
from standardwebhooks import Webhook

from app.domain.webhook_endpoint import is_public_address

Resolve = Callable[[str, int], Awaitable[list[str]]]
TIMEOUT = httpx.Timeout(10.0, connect=3.0)  # a slow partner costs the worker 10 s at most
USER_AGENT = "pec-renewal-webhooks/1"


@dataclass(frozen=True, slots=True)
class SendOutcome:
    status_code: int | None  # None: no HTTP answer
    error: str | None
    duration_ms: int


class _Refused(Exception):
    pass


async def resolve(host: str, port: int) -> list[str]:
    """The addresses the system resolver gives for `host` (an address gives itself)."""
    found = await asyncio.get_running_loop().getaddrinfo(host, port, type=socket.SOCK_STREAM)
    return list(dict.fromkeys(str(info[4][0]) for info in found))


def _wall_clock() -> datetime:
    return datetime.now(UTC)


class PartnerWebhookSender:
    def __init__(
        self,
        client: httpx.AsyncClient,
        *,
        allow_local: bool = False,
        resolver: Resolve = resolve,
        wall_clock: Callable[[], datetime] = _wall_clock,
    ) -> None:
        self._client = client
        self._allow_local = allow_local
        self._resolve = resolver
        self._wall_clock = wall_clock

    async def send(self, url: str, secret: str, event_id: str, body: str) -> SendOutcome:
        started = time.perf_counter()
        status: int | None = None
        error: str | None = None
        try:
            target, host_header, sni = await self._target(url)
            headers = self._signed_headers(secret, event_id, body)
            headers["Host"] = host_header
            extensions = {"sni_hostname": sni} if sni else {}
            async with self._client.stream(
                "POST",
                target,
                content=body.encode(),
                headers=headers,
                timeout=TIMEOUT,
                follow_redirects=False,
                extensions=extensions,
            ) as response:
                status = response.status_code
        except _Refused as refused:
            error = str(refused)
        except httpx.TimeoutException as exc:
            error = f"timeout: {type(exc).__name__}"
        except (httpx.HTTPError, httpx.InvalidURL, OSError, ValueError) as exc:
            error = f"connection_failed: {type(exc).__name__}: {exc}"
        elapsed = round((time.perf_counter() - started) * 1000)
        return SendOutcome(status, error[:500] if error else None, elapsed)

    def _signed_headers(self, secret: str, event_id: str, body: str) -> dict[str, str]:
        at = self._wall_clock()
        return {
            "webhook-id": event_id,
            "webhook-timestamp": str(int(at.timestamp())),
            "webhook-signature": Webhook(secret).sign(event_id, at, body),
            "Content-Type": "application/json",
            "User-Agent": USER_AGENT,
        }

    async def _target(self, url: str) -> tuple[str, str, str | None]:
        """The URL to connect to (the checked address), the Host header, the TLS name."""
        parts = urlsplit(url)
        scheme, host = parts.scheme.lower(), parts.hostname
        if host is None or scheme not in ("http", "https"):
            raise _Refused("invalid_url")
        if scheme != "https" and not self._allow_local:
            raise _Refused("not_https")
        port = parts.port or (443 if scheme == "https" else 80)
        try:
            addresses = await self._resolve(host, port)
        except OSError as exc:
            raise _Refused(f"dns_failed: {host}: {exc}") from None
        if not addresses:
            raise _Refused(f"dns_failed: {host}: no address")
        if not self._allow_local:
            private = [a for a in addresses if not is_public_address(a)]
            if private:
                raise _Refused(f"address_not_public: {host} resolves to {private[0]}")
        address = min(addresses, key=lambda a: ":" in a).split("%", 1)[0]  # IPv4 first
        literal = f"[{address}]" if ipaddress.ip_address(address).version == 6 else address
        netloc = f"{literal}:{port}"
        host_header = parts.netloc.rsplit("@", 1)[-1]
        target = urlunsplit((scheme, netloc, parts.path or "/", parts.query, ""))
        return target, host_header, host if scheme == "https" else None
