"""Payment webhooks: verify the signature over the raw body, then read the event.

`stripe` is verified with Stripe's own library, `generic` (the bank-transfer/postal
reconciliation feed, and any other provider) with the Standard Webhooks library. A
verified event that we can't read is still returned (kind UNREADABLE), so it is stored
and reconciled rather than lost.
"""

from __future__ import annotations

import hashlib
import json
import re
import time
from collections.abc import Mapping
from datetime import UTC, datetime
from decimal import Decimal, InvalidOperation
from functools import lru_cache
from typing import Any

import stripe
from standardwebhooks import Webhook
from standardwebhooks.webhooks import WebhookVerificationError

from app.domain.money import Money

UNREADABLE = "unreadable"
TOLERANCE = 300  # seconds, either way
PROVIDERS = ("stripe", "generic")
BIGINT_LIMIT = 2**63  # payment_events.amount_cents is a signed 64-bit column
CURRENCY_COLUMN = 16  # payment_events.currency

# One Stripe event per fact: the PaymentIntent says money arrived (a Checkout Session
# event for the same payment would count it twice, and "completed" may still be unpaid);
# charge.refunded carries the charge's refunded TOTAL (see `cumulative`).
_STRIPE_KINDS = {
    "payment_intent.succeeded": ("payment.succeeded", "amount_received"),
    "payment_intent.payment_failed": ("payment.failed", "amount"),
    "charge.refunded": ("payment.refunded", "amount_refunded"),
}
_GENERIC_KINDS = ("payment.succeeded", "payment.failed", "payment.refunded")


class WebhookRejected(Exception):
    """Bad or missing signature, stale timestamp: nothing is stored."""


class UnknownProvider(Exception):
    pass


def read_event(
    provider: str, body: bytes, headers: Mapping[str, str], secrets: Mapping[str, str]
) -> dict[str, Any]:
    """Verify and read one webhook into a plain event dict (see `_event`)."""
    if provider == "stripe":
        return _read_stripe(body, headers, secrets["stripe"])
    if provider == "generic":
        return _read_generic(body, headers, secrets["generic"])
    raise UnknownProvider(provider)


def _read_stripe(body: bytes, headers: Mapping[str, str], secret: str) -> dict[str, Any]:
    signature = headers.get("stripe-signature")
    try:
        stripe.WebhookSignature.verify_header(body.decode(), signature, secret, tolerance=TOLERANCE)
    except (stripe.SignatureVerificationError, UnicodeDecodeError, ValueError, TypeError) as exc:
        raise WebhookRejected(str(exc)) from exc
    _refuse_future_timestamp(signature or "")
    try:
        payload = _parsed(body)
        event_id = str(payload["id"])
    except (ValueError, KeyError, TypeError):
        return _unreadable(f"unreadable-{hashlib.sha256(body).hexdigest()[:32]}", body)
    try:
        kind, amount_field = _STRIPE_KINDS.get(payload["type"], (payload["type"], None))
        obj = payload["data"]["object"]
        metadata = obj.get("metadata") or {}
        amount = _storable_cents(int(obj[amount_field])) if amount_field else 0
        currency = str(obj.get("currency", "")).upper()
        occurred = datetime.fromtimestamp(int(payload.get("created", 0)), UTC)
        order_ref = metadata.get("order_id")
        unstorable = _may_hold_unstorable(body)
        return _event(event_id, kind, order_ref, amount, currency, occurred, payload, unstorable)
    except (KeyError, TypeError, ValueError, AttributeError, OverflowError, OSError):
        return _unreadable(event_id, body)


def _refuse_future_timestamp(signature: str) -> None:
    """Stripe's library only refuses old timestamps; api.md allows 5 minutes either way."""
    for part in signature.split(","):
        key, _, value = part.partition("=")
        if key.strip() == "t" and value.strip().isascii() and value.strip().isdigit():
            if int(value) > time.time() + TOLERANCE:
                raise WebhookRejected("timestamp in the future")
            return


@lru_cache(maxsize=4)
def _generic_verifier(secret: str) -> Webhook:
    """One per secret: building it decodes the secret, the same for every event."""
    return Webhook(secret)


def _read_generic(body: bytes, headers: Mapping[str, str], secret: str) -> dict[str, Any]:
    try:
        _generic_verifier(secret).verify(body, dict(headers), json_parse=False)
    except (WebhookVerificationError, ValueError, UnicodeDecodeError) as exc:
        raise WebhookRejected(str(exc)) from exc
    event_id = headers["webhook-id"]
    try:
        payload = _parsed(body)
        data = payload["data"]
        kind = str(payload["type"])
        if kind not in _GENERIC_KINDS:
            raise ValueError(kind)
        money = Money.parse(Decimal(str(data["amount"])), str(data["currency"]).upper())
        occurred = datetime.fromtimestamp(int(headers["webhook-timestamp"]), UTC)
        return _event(
            event_id,
            kind,
            data.get("order"),
            _storable_cents(money.cents),
            money.currency,
            occurred,
            payload,
            _may_hold_unstorable(body),
        )
    except (KeyError, TypeError, ValueError, InvalidOperation, AttributeError, OverflowError):
        return _unreadable(event_id, body)


def _storable_cents(cents: int) -> int | None:
    """Cents as a 64-bit number, or None when they don't fit: no payment is that large,
    but the event is stored all the same (the raw amount stays in its payload)."""
    return cents if -BIGINT_LIMIT <= cents < BIGINT_LIMIT else None


def _storable_currency(currency: str) -> str:
    """The currency as sent, upper-cased, never cut to look like another one: a value too
    long for the column keeps a marker ("~") that no ISO 4217 code can match."""
    if len(currency) <= CURRENCY_COLUMN:
        return currency
    return f"{currency[: CURRENCY_COLUMN - 1]}~"


def _event(
    event_id: str,
    kind: str,
    order_ref: object,
    amount_cents: int | None,
    currency: str,
    occurred_at: datetime,
    payload: dict[str, Any],
    payload_may_be_unstorable: bool = True,
) -> dict[str, Any]:
    return {
        "event_id": _bounded_id(_storable(event_id)),
        "kind": _storable(kind)[:32],
        "order_ref": _storable(str(order_ref))[:64] if order_ref is not None else None,
        "amount_cents": amount_cents,
        "currency": _storable_currency(_storable(currency)),
        "occurred_at": occurred_at,
        "payload": _storable(payload) if payload_may_be_unstorable else payload,
    }


# A payload nested deeper than this is kept as its raw text: orjson, which stores the JSON
# documents, encodes at most 254 levels, and json.loads fails at about a thousand. No
# provider's event nests past a dozen.
MAX_DEPTH = 64


def _parsed(body: bytes) -> Any:
    """The JSON in `body`; ValueError when there is none, or when it nests deeper than a
    payload can be stored (a verified event is then kept as unreadable, never refused)."""
    try:
        payload = json.loads(body)
    except RecursionError as exc:
        raise ValueError("JSON nested too deep") from exc
    # Counting brackets is cheap; walking the payload is for the rare body with many.
    if body.count(b"[") + body.count(b"{") > MAX_DEPTH and _depth(payload) > MAX_DEPTH:
        raise ValueError("JSON nested too deep")
    return payload


def _depth(value: Any) -> int:
    """How many arrays and objects deep `value` nests (without recursion: it may be deep)."""
    deepest, pending = 0, [(value, 1)]
    while pending:
        node, level = pending.pop()
        if isinstance(node, dict):
            node = list(node.values())
        if isinstance(node, list):
            deepest = max(deepest, level)
            pending.extend((child, level + 1) for child in node)
    return deepest


# How a character PostgreSQL can't store gets into parsed JSON from a verified body: the
# escape \u0000 or a surrogate's (\ud800-\udfff: json.loads lets one through unpaired),
# or a body in UTF-16 or -32, whose escapes hold zero bytes. (A surrogate's raw bytes are
# not UTF-8: both signature checks refuse such a body.)
_MAY_BE_UNSTORABLE = re.compile(rb"\\u(?:0000|[dD][89a-fA-F])|\x00")


def _may_hold_unstorable(body: bytes) -> bool:
    """Whether the JSON parsed from `body` may hold a character PostgreSQL can't store
    (see _storable): most bodies can't, and needn't be walked."""
    return _MAY_BE_UNSTORABLE.search(body) is not None


def _storable(value: Any) -> Any:
    """PostgreSQL text and jsonb can't hold U+0000 nor half a surrogate pair: each becomes
    U+FFFD, so a verified event that carries one is still stored (and, changed, never
    matches an order). Without this the store failed, and the provider's every retry."""
    if isinstance(value, str):
        return _storable_text(value)
    if isinstance(value, dict):
        return {_storable(k): _storable(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_storable(v) for v in value]
    return value


def _storable_text(text: str) -> str:
    text = text.replace("\x00", "\ufffd")
    try:
        text.encode()
    except UnicodeEncodeError:  # a surrogate alone (a pair, split in two, is joined)
        return text.encode("utf-16", "surrogatepass").decode("utf-16", "replace")
    return text


def _bounded_id(event_id: str) -> str:
    """Ids fit the column; a longer one keeps a digest of the whole, so two never collide."""
    if len(event_id) <= 200:
        return event_id
    return f"{event_id[:135]}~{hashlib.sha256(event_id.encode()).hexdigest()}"


def _unreadable(event_id: str, body: bytes) -> dict[str, Any]:
    text = body.decode(errors="replace")[:10_000]
    return _event(event_id, UNREADABLE, None, 0, "", datetime.now(UTC), {"raw": text})
