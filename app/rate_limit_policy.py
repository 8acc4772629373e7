"""What is limited, per whom, and how often: the rate-limit policies (docs/rate-limits.md).

A policy is a settings string in the `limits` library's notation ("20/second;600/minute":
every window must hold). Strings are parsed once, when the settings are read, so a typo
stops the process at startup rather than at its first request.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from limits import RateLimitItem, parse_many


class LimitedGroup(StrEnum):
    """The operations that share one budget, named as the RateLimit headers name them."""

    QUOTES = "quotes"  # POST /v1/quotes, per caller
    ORDERS = "orders"  # POST /v1/orders, per caller
    SANDBOX = "sandbox"  # /v1/sandbox/..., per caller
    WEBHOOKS = "webhooks"  # POST /v1/webhooks/payments/{provider}, per provider
    FAILED_AUTH = "failed_auth"  # 401s, per client address


def parse_limits(notation: str) -> tuple[RateLimitItem, ...]:
    """The windows of a limit string; ValueError (a settings error) when it is not one."""
    try:
        items = tuple(parse_many(notation))
    except ValueError as bad:
        raise ValueError(f"not a rate limit: {notation!r} ({bad})") from None
    if not items or any(item.amount < 1 for item in items):
        raise ValueError(f"not a rate limit: {notation!r} (e.g. '120/minute')")
    return items


def valid_limits(notation: str) -> str:
    """A settings validator: the string unchanged, or a ValueError naming it."""
    parse_limits(notation)
    return notation


@dataclass(frozen=True, slots=True)
class Policy:
    """One group's windows, with the `RateLimit-Policy` header built once.

    Headers follow draft-ietf-httpapi-ratelimit-headers-09: each window is a policy
    item `"quotes/60s";q=600;w=60`.
    """

    group: LimitedGroup
    name: str  # the group's value, read on every hit (an enum's `.value` costs ~0.2 µs)
    items: tuple[RateLimitItem, ...]
    quoted_names: tuple[bytes, ...]  # each window's name as the RateLimit header quotes it
    header: tuple[bytes, bytes]  # the RateLimit-Policy header, as ASGI sends it

    @classmethod
    def of(cls, group: LimitedGroup, notation: str) -> Policy:
        items = parse_limits(notation)
        names = tuple(f'"{group.value}/{item.get_expiry()}s"' for item in items)
        header = ", ".join(
            f"{name};q={item.amount};w={item.get_expiry()}"
            for name, item in zip(names, items, strict=True)
        )
        quoted = tuple(name.encode() for name in names)
        return cls(group, group.value, items, quoted, (b"ratelimit-policy", header.encode()))

    def state_header(self, index: int, remaining: int, reset_seconds: int) -> tuple[bytes, bytes]:
        """The RateLimit header: what window `index` has left, and when it resets."""
        state = b"%s;r=%d;t=%d" % (self.quoted_names[index], remaining, reset_seconds)
        return (b"ratelimit", state)


# The operations limited per caller that a POST's path alone names: the hot ones, looked up
# before anything else.
PER_CALLER_POSTS = {"/v1/quotes": LimitedGroup.QUOTES, "/v1/orders": LimitedGroup.ORDERS}


def limited_group(method: str, path: str) -> LimitedGroup | None:
    """The budget a request draws on (None: not limited per caller or provider).

    Works on raw paths and on the contract's path templates alike.
    """
    if path.startswith("/v1/sandbox/"):
        return LimitedGroup.SANDBOX
    if method != "POST":
        return None
    group = PER_CALLER_POSTS.get(path)
    if group is not None:
        return group
    if path.startswith("/v1/webhooks/payments/"):
        return LimitedGroup.WEBHOOKS
    return None
