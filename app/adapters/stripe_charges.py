"""Stripe's off-session charge: a PaymentIntent confirmed at once on a saved method.

POST {STRIPE_API_BASE}/v1/payment_intents, form-encoded, with the secret key and the
order id as Idempotency-Key. A 402 card_error is a decline; anything else that isn't
a success (network, 5xx, a bad key) is reported as a failed charge with its reason.
"""

from __future__ import annotations

import httpx

from app.services.payment_charger import Charge, ChargeResult

TIMEOUT = 20.0  # seconds: Stripe answers a confirmation within a few


class StripeCharger:
    def __init__(self, api_base: str, api_key: str, client: httpx.AsyncClient) -> None:
        self._url = f"{api_base.rstrip('/')}/v1/payment_intents"
        self._api_key = api_key
        self._client = client

    async def charge(self, charge: Charge) -> ChargeResult:
        form = {
            "amount": str(charge.amount_cents),
            "currency": charge.currency.lower(),
            "customer": charge.customer_ref,
            "payment_method": charge.method_ref,
            "off_session": "true",
            "confirm": "true",
            "metadata[order_id]": charge.order_id,
            "description": charge.order_number,
        }
        headers = {
            "Authorization": f"Bearer {self._api_key}",
            "Idempotency-Key": charge.order_id,
        }
        try:
            response = await self._client.post(
                self._url, data=form, headers=headers, timeout=TIMEOUT
            )
        except httpx.HTTPError as exc:
            return ChargeResult(False, f"unreachable: {type(exc).__name__}")
        if response.status_code < 300:
            status = _field(response, "status")
            # "processing" still ends in a webhook; "requires_action" needs the customer.
            return ChargeResult(status in ("succeeded", "processing"), status)
        return ChargeResult(False, _decline_code(response))


def _field(response: httpx.Response, name: str) -> str | None:
    try:
        value = response.json().get(name)
    except (ValueError, AttributeError):
        return None
    return value if isinstance(value, str) else None


def _decline_code(response: httpx.Response) -> str:
    """Stripe's error code (card_declined, insufficient_funds, …), or the HTTP status."""
    try:
        error = response.json()["error"]
        code = error.get("decline_code") or error.get("code") or error.get("type")
    except (ValueError, KeyError, TypeError, AttributeError):
        code = None
    return str(code)[:64] if code else f"http_{response.status_code}"
