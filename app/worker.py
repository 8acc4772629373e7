"""The worker: delivers the outbox and retries payment events left unprocessed.

    python -m app.worker          # run until stopped; safe to run several copies

In sandbox mode the api process runs the same loop in the background (see app.main).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from datetime import timedelta
from typing import Any

import httpx

from app.adapters.email_sender import SmtpSender
from app.adapters.mail_platform import MailPlatformClient
from app.adapters.partner_webhook_sender import PartnerWebhookSender
from app.adapters.payment_webhooks import read_event
from app.adapters.sandbox_payments import SandboxCharger
from app.adapters.stripe_charges import StripeCharger
from app.clock import system_clock
from app.container import Container, build_container
from app.domain.automatic_renewal import Schedule
from app.logging_setup import configure_logging
from app.routers.messages import message
from app.services import payment_retries, payments
from app.services.automatic_renewals import AutoRenewalSetup
from app.services.outbox_delivery import Deliver, Deliverers, deliver_due
from app.services.partner_webhook_delivery import PartnerWebhookDeliverer
from app.services.payment_charger import PaymentCharger
from app.services.sweeps import SweepContext, run_sweeps
from app.settings import Settings

log = logging.getLogger("app.worker")
STRAGGLER_AGE = timedelta(seconds=30)  # unprocessed this long: its request died mid-way


def deliverers(container: Container, http: httpx.AsyncClient) -> Deliverers:
    settings = container.settings
    platform = MailPlatformClient(settings.mail_platform_url, settings.mail_platform_token, http)
    email: Deliver = SmtpSender(settings).send
    renew: Deliver = platform.deliver
    # The sandbox needs no SMTP server and no mail platform: what is not configured
    # there is "delivered" to the log, where a developer can read it.
    if settings.sandbox and settings.smtp_host is None:
        email = _logged("email")
    if settings.sandbox and settings.mail_platform_url is None:
        renew = _logged("mail_platform")
    return Deliverers(
        email=email, mail_platform=renew, partner_webhook=partner_webhooks(container, http)
    )


def partner_webhooks(container: Container, http: httpx.AsyncClient) -> Deliver:
    """Signed events to partners' endpoints (app/services/partner_webhook_delivery.py)."""
    allow_local = container.settings.partner_webhook_allow_local_urls
    sender = PartnerWebhookSender(http, allow_local=allow_local)
    return PartnerWebhookDeliverer(container.unit_of_work, sender.send, container.clock)


def payment_charger(container: Container, http: httpx.AsyncClient) -> PaymentCharger | None:
    """Stripe with the secret key; in the sandbox without one, the service pays itself
    with a signed webhook, as POST /v1/sandbox/orders/{id}/pay does."""
    settings = container.settings
    if settings.stripe_api_key:
        return StripeCharger(settings.stripe_api_base, settings.stripe_api_key, http)
    if settings.sandbox:

        async def to_self(provider: str, body: bytes, headers: dict[str, str]) -> None:
            lowered = {name.lower(): value for name, value in headers.items()}
            event = read_event(provider, body, lowered, container.webhook_secrets)
            await payments.receive_event(container.unit_of_work, provider, event, container.clock())

        # Signed at the real time: signatures are checked against it, whatever the
        # sandbox's clock says.
        return SandboxCharger(container.webhook_secrets, system_clock, to_self)
    log.warning("STRIPE_API_KEY is not set: automatic renewals wait")
    return None


def auto_renewal_setup(container: Container, charger: PaymentCharger) -> AutoRenewalSetup:
    settings = container.settings
    return AutoRenewalSetup(
        charger=charger,
        accounts=container.payment_accounts,
        consents_version=settings.consents_version,
        describe=message,
        schedule=Schedule(settings.auto_renewal_lead_days, settings.auto_renewal_notice_days),
    )


def _logged(kind: str) -> Deliver:
    async def deliver(dedupe_key: str, payload: dict[str, Any]) -> None:
        log.info("sandbox delivery", extra={"kind": kind, "key": dedupe_key, "payload": payload})

    return deliver


async def run_once(
    container: Container, senders: Deliverers, charger: PaymentCharger | None = None
) -> int:
    """One pass: apply the payment events due for a retry (or stranded), run the
    time-driven sweeps (app/services/sweeps.py), then deliver what is due. Without a
    `charger` the automatic renewal waits (nothing could be charged)."""
    now = container.clock()
    stranded = await payment_retries.retry_due_events(container.unit_of_work, now, STRAGGLER_AGE)
    setup = auto_renewal_setup(container, charger) if charger is not None else None
    swept = await run_sweeps(SweepContext(container.unit_of_work, now, auto_renewal=setup))
    report = await deliver_due(container.unit_of_work, senders, now)
    return report.delivered + report.failed + stranded + sum(swept.values())


async def run_forever(container: Container, stop: asyncio.Event | None = None) -> None:
    interval = container.settings.worker_interval_seconds
    async with httpx.AsyncClient() as http:
        senders = deliverers(container, http)
        charger = payment_charger(container, http)
        while stop is None or not stop.is_set():
            try:
                busy = await run_once(container, senders, charger)
            except Exception:  # keep the loop alive: the next pass retries
                log.exception("worker pass failed")
                busy = 0
            if not busy:
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(_wait(stop), timeout=interval)


async def _wait(stop: asyncio.Event | None) -> None:
    if stop is None:
        await asyncio.Event().wait()
    else:
        await stop.wait()


def main() -> None:
    settings = Settings()
    configure_logging(settings.log_level)
    container = build_container(settings)
    log.info("worker started")
    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(run_forever(container))


if __name__ == "__main__":
    main()
