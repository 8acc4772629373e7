"""Partner webhook rules: which addresses are public, the retry schedule, the settings."""

from __future__ import annotations

from datetime import timedelta

import pytest
from pydantic import ValidationError

from app.domain.partner_webhook import RETRY_WINDOW, retry_delay
from app.domain.webhook_endpoint import check_endpoint_url, is_public_address
from app.services.outbox_delivery import retry_delay_for
from app.settings import Environment, Settings


@pytest.mark.parametrize(
    "address",
    [
        "127.0.0.1",
        "10.0.0.1",
        "172.16.5.4",
        "192.168.0.1",
        "169.254.169.254",
        "0.0.0.0",
        "100.64.0.1",
        "224.0.0.1",
        "::1",
        "fe80::1%eth0",
        "fc00::1",
        "::ffff:10.0.0.1",
        "2002:7f00:1::1",
        "not an address",
    ],
)
def test_private_loopback_and_link_local_addresses_are_not_public(address: str) -> None:
    assert not is_public_address(address)


@pytest.mark.parametrize("address", ["93.184.216.34", "2606:4700:4700::1111", "8.8.8.8"])
def test_internet_addresses_are_public(address: str) -> None:
    assert is_public_address(address)


def test_local_urls_pass_only_when_allowed() -> None:
    assert check_endpoint_url("http://127.0.0.1:8080/h", allow_local=True)


def test_partner_webhooks_retry_for_24_hours_with_their_own_backoff() -> None:
    delays = [retry_delay(n) for n in range(1, 15)]
    assert delays[:3] == [timedelta(minutes=1), timedelta(minutes=2), timedelta(minutes=4)]
    assert max(delays) == timedelta(hours=4)
    # 13 waits take the 14th attempt past the window; 12 don't
    assert sum(delays[:12], timedelta()) < RETRY_WINDOW <= sum(delays[:13], timedelta())
    assert retry_delay_for("partner_webhook", 1) == timedelta(minutes=1)
    assert retry_delay_for("email", 1) == timedelta(seconds=5)  # the others keep theirs


def test_production_refuses_local_webhook_urls() -> None:
    with pytest.raises(ValidationError, match="PARTNER_WEBHOOK_ALLOW_LOCAL_URLS"):
        Settings(
            environment=Environment.PRODUCTION,
            database_url="postgresql+asyncpg://app@db/pec",
            auth_jwks_url="https://idp.example/jwks",
            auth_jwt_audience="pec-renewal",
            stripe_webhook_secret="whsec_live_0123456789",
            generic_webhook_secret="whsec_bGl2ZS1nZW5lcmljLXNlY3JldC0wMTIzNDU2Nzg5",
            partner_webhook_allow_local_urls=True,
        )
