"""The sandbox's off-session charger: every charge is approved, and paid the way
POST /v1/sandbox/orders/{id}/pay pays an order, by a correctly signed webhook the
service sends itself (webhook_signing.signed_payment), delivered to `deliver`."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from app.adapters.webhook_signing import signed_payment
from app.clock import Clock
from app.services.payment_charger import Charge, ChargeResult

# provider, raw body, headers → handled (the webhook route's job: verify, then receive)
Deliver = Callable[[str, bytes, dict[str, str]], Awaitable[None]]


class SandboxCharger:
    def __init__(self, secrets: dict[str, str], clock: Clock, deliver: Deliver) -> None:
        self._secrets = secrets
        self._clock = clock
        self._deliver = deliver

    async def charge(self, charge: Charge) -> ChargeResult:
        provider, body, headers = signed_payment(
            order_id=charge.order_id,
            order_number=charge.order_number,
            payable_cents=charge.amount_cents,
            currency=charge.currency,
            by_card=True,
            secrets=self._secrets,
            at=self._clock(),
        )
        await self._deliver(provider, body, headers)
        return ChargeResult(True, "sandbox")
