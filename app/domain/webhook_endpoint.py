"""A partner's webhook endpoint: where its events go, and the secret that signs them.

The URL is checked twice. Here, when it is set: a URL, https, and not a literal
private, loopback, link-local or otherwise non-public address (nor `localhost`). At
delivery time (app/adapters/partner_webhook_sender.py) the name is resolved and every
address it resolves to is checked again with `is_public_address`, then the request goes
to the address that was checked: a name that later resolves to 127.0.0.1 (DNS
rebinding) never makes us call inside our own network.

`allow_local` (development and tests only: the settings refuse it in production) lets
a receiver on http://127.0.0.1 through.
"""

from __future__ import annotations

import base64
import binascii
import ipaddress
from dataclasses import dataclass
from datetime import datetime
from urllib.parse import urlsplit

from app.domain.errors import DomainError

SECRET_PREFIX = "whsec_"  # Standard Webhooks: whsec_ + base64 of the key
SECRET_BYTES = (24, 64)  # the key's length bounds, in bytes
MAX_URL_LENGTH = 2048


class WebhookUrlRefused(DomainError):
    """The endpoint URL can't be used; `code` says why."""

    def __init__(self, code: str, url: str) -> None:
        super().__init__(f"{code}: {url[:100]}")
        self.code = code


def url_invalid(url: str) -> WebhookUrlRefused:
    return WebhookUrlRefused("webhook_url_invalid", url)


class WebhookSecretInvalid(DomainError):
    """Not `whsec_` + base64 of 24 to 64 bytes."""

    code = "webhook_secret_invalid"


@dataclass(frozen=True, slots=True)
class WebhookEndpoint:
    partner_id: str
    url: str
    secret: str
    created_at: datetime
    updated_at: datetime

    @property
    def secret_hint(self) -> str:
        return secret_hint(self.secret)


def is_public_address(address: str) -> bool:
    """True for an address on the public internet; False for private, loopback,
    link-local, multicast, reserved, unspecified… and for an IPv4 hidden in IPv6."""
    try:
        ip = ipaddress.ip_address(address.split("%", 1)[0])  # drop an IPv6 zone
    except ValueError:
        return False
    if isinstance(ip, ipaddress.IPv6Address):
        embedded = ip.ipv4_mapped or ip.sixtofour
        if embedded is not None:
            return is_public_address(str(embedded))
    return ip.is_global and not (ip.is_multicast or ip.is_reserved)


def check_endpoint_url(url: str, *, allow_local: bool) -> str:
    """The URL as given, when it may receive webhooks; WebhookUrlRefused otherwise."""
    if len(url) > MAX_URL_LENGTH or not url.isascii() or not url.isprintable() or " " in url:
        raise url_invalid(url)
    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018 - a port that isn't a number raises here
    except ValueError:
        raise url_invalid(url) from None
    scheme = parts.scheme.lower()
    host = parts.hostname
    if not host or parts.username is not None or parts.fragment:
        raise url_invalid(url)
    if scheme not in ("http", "https"):
        raise WebhookUrlRefused("webhook_url_not_https", url)
    if allow_local:
        return url
    if scheme != "https":
        raise WebhookUrlRefused("webhook_url_not_https", url)
    if not _may_be_public(host):
        raise WebhookUrlRefused("webhook_url_not_public", url)
    return url


def _may_be_public(host: str) -> bool:
    """What can be told from the host as written (its addresses are checked at delivery)."""
    try:
        ipaddress.ip_address(host.split("%", 1)[0])
    except ValueError:
        pass
    else:
        return is_public_address(host)
    name = host.rstrip(".").lower()
    if name == "localhost" or name.endswith(".localhost") or "." not in name:
        return False  # loopback by definition (RFC 6761), or a bare intranet name
    last = name.rsplit(".", 1)[1]
    # 2130706433 or 0x7f.1: addresses in disguise, which resolvers accept
    return not (last.isdigit() or last.startswith("0x"))


def check_secret(secret: str) -> str:
    """A Standard Webhooks secret: `whsec_` + base64 of 24 to 64 random bytes."""
    if not secret.startswith(SECRET_PREFIX):
        raise WebhookSecretInvalid(secret[:10])
    try:
        key = base64.b64decode(secret.removeprefix(SECRET_PREFIX), validate=True)
    except (binascii.Error, ValueError):
        raise WebhookSecretInvalid("not base64") from None
    if not SECRET_BYTES[0] <= len(key) <= SECRET_BYTES[1]:
        raise WebhookSecretInvalid(f"{len(key)} bytes")
    return secret


def secret_hint(secret: str) -> str:
    """Enough to tell two secrets apart, never enough to sign with."""
    return f"{SECRET_PREFIX}…{secret[-4:]}"
