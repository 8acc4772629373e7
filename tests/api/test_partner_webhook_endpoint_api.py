"""A partner's webhook endpoint and delivery log over HTTP: what may be set (production
rules: https, public addresses), the secret shown once, and nobody else's log."""

from __future__ import annotations

import base64

import httpx
import pytest

from app.container import Container
from app.services.outbox_delivery import deliver_due
from app.services.partner_events import notify_partner
from app.worker import deliverers
from tests.api.helpers import assert_problem
from tests.conftest import CUSTOMER, PARTNER, STAFF, bearer

ENDPOINT = "/v1/partner/webhook-endpoint"
LOG = "/v1/partner/webhook-deliveries"
OTHER_PARTNER = bearer("partner", "ptn-2")
OTHER_RESELLER = {
    "name": "Other Reseller",
    "email": "admin@other.example.it",
    "language": "en",
    "low_credit_threshold": "0.00",
}
SECRET = "whsec_" + base64.b64encode(bytes(range(32))).decode()


@pytest.mark.parametrize(
    ("url", "code"),
    [
        ("http://hooks.reseller.example/pec", "webhook_url_not_https"),
        ("ftp://hooks.reseller.example/pec", "webhook_url_not_https"),
        ("https://127.0.0.1/pec", "webhook_url_not_public"),
        ("https://10.1.2.3/pec", "webhook_url_not_public"),
        ("https://192.168.1.10:8443/pec", "webhook_url_not_public"),
        ("https://169.254.169.254/latest/meta-data", "webhook_url_not_public"),
        ("https://[::1]/pec", "webhook_url_not_public"),
        ("https://[fe80::1]/pec", "webhook_url_not_public"),
        ("https://[::ffff:127.0.0.1]/pec", "webhook_url_not_public"),
        ("https://100.64.0.1/pec", "webhook_url_not_public"),
        ("https://localhost/pec", "webhook_url_not_public"),
        ("https://api.localhost/pec", "webhook_url_not_public"),
        ("https://2130706433/pec", "webhook_url_not_public"),
        ("https://intranet/pec", "webhook_url_not_public"),
        ("hooks.reseller.example/pec", "webhook_url_invalid"),
        ("https://user:pw@hooks.reseller.example/pec", "webhook_url_invalid"),
        ("https://hooks.reseller.example:99999/pec", "webhook_url_invalid"),
        ("https://hooks.reseller.example/pec#x", "webhook_url_invalid"),
    ],
)
async def test_production_refuses_urls_that_are_not_https_on_a_public_host(
    client: httpx.AsyncClient, url: str, code: str
) -> None:
    refused = await client.put(ENDPOINT, json={"url": url}, headers=PARTNER)
    problem = assert_problem(refused, 422, code)
    assert problem["errors"][0]["field"] == "url"
    assert (await client.get(ENDPOINT, headers=PARTNER)).status_code == 404


@pytest.mark.parametrize(
    "secret",
    [
        "not-a-secret",
        "whsec_" + base64.b64encode(bytes(16)).decode(),  # too short
        "whsec_" + base64.b64encode(bytes(65)).decode(),  # too long
        "whsec_***notbase64***",
    ],
)
async def test_a_secret_must_be_whsec_and_base64_of_24_to_64_bytes(
    client: httpx.AsyncClient, secret: str
) -> None:
    refused = await client.put(
        ENDPOINT,
        json={"url": "https://hooks.reseller.example/pec", "secret": secret},
        headers=PARTNER,
    )
    assert assert_problem(refused, 422, "webhook_secret_invalid")["errors"][0]["field"] == "secret"


async def test_the_endpoint_is_set_read_replaced_and_removed(client: httpx.AsyncClient) -> None:
    url = "https://hooks.reseller.example/pec"
    created = await client.put(ENDPOINT, json={"url": url}, headers=PARTNER)
    assert created.status_code == 201, created.text
    generated = created.json()["secret"]
    assert generated.startswith("whsec_")
    assert 24 <= len(base64.b64decode(generated.removeprefix("whsec_"))) <= 64
    assert created.json()["secret_hint"] == f"whsec_…{generated[-4:]}"

    shown = (await client.get(ENDPOINT, headers=PARTNER)).json()
    assert shown["url"] == url
    assert shown["secret"] is None  # shown once only
    assert shown["secret_hint"] == created.json()["secret_hint"]

    replaced = await client.put(
        ENDPOINT, json={"url": url + "/v2", "secret": SECRET}, headers=PARTNER
    )
    assert replaced.status_code == 200, replaced.text
    assert replaced.json()["secret"] is None  # the partner's own: never echoed
    assert replaced.json()["secret_hint"] == f"whsec_…{SECRET[-4:]}"
    assert replaced.json()["created_at"] == created.json()["created_at"]

    removed = await client.delete(ENDPOINT, headers=PARTNER)
    assert removed.status_code == 200
    assert removed.json()["url"] == url + "/v2"
    assert_problem(await client.get(ENDPOINT, headers=PARTNER), 404, "webhook_endpoint_not_found")
    assert_problem(
        await client.delete(ENDPOINT, headers=PARTNER), 404, "webhook_endpoint_not_found"
    )


async def test_only_partners_have_a_webhook_endpoint(client: httpx.AsyncClient) -> None:
    body = {"url": "https://hooks.reseller.example/pec"}
    for headers in (CUSTOMER, STAFF):
        assert_problem(await client.put(ENDPOINT, json=body, headers=headers), 403, "forbidden")
        assert_problem(await client.get(LOG, headers=headers), 403, "forbidden")
    assert_problem(
        await client.put(ENDPOINT, json=body, headers=OTHER_PARTNER), 404, "partner_not_found"
    )


async def _queue(db: Container, partner_id: str, event_type: str, key: str) -> str:
    async with db.unit_of_work() as uow:
        event_id = await notify_partner(
            uow,
            partner_id,
            event_type,  # type: ignore[arg-type]
            key,
            {"key": key},
            db.clock(),
        )
        await uow.commit()
    return event_id


async def test_a_partner_pages_and_filters_its_own_log_and_no_one_else_s(
    db: Container, client: httpx.AsyncClient
) -> None:
    staff_put = await client.put("/v1/admin/partners/ptn-2", json=OTHER_RESELLER, headers=STAFF)
    assert staff_put.status_code in (200, 201), staff_put.text
    mine = [
        await _queue(db, "ptn-1", "renewal.completed", "a"),
        await _queue(db, "ptn-1", "credit.low", "b"),
        await _queue(db, "ptn-1", "renewal.completed", "c"),
    ]
    theirs = await _queue(db, "ptn-2", "renewal.completed", "d")
    # The worker's deliverer: no endpoint is set, so each is logged "skipped".
    async with httpx.AsyncClient() as http:
        await deliver_due(db.unit_of_work, deliverers(db, http), db.clock())

    first = (await client.get(LOG, params={"limit": 2}, headers=PARTNER)).json()
    assert [d["id"] for d in first["items"]] == [mine[2], mine[1]]  # newest first
    rest = await client.get(
        LOG, params={"limit": 2, "cursor": first["next_cursor"]}, headers=PARTNER
    )
    assert ([d["id"] for d in rest.json()["items"]], rest.json()["next_cursor"]) == (
        [mine[0]],
        None,
    )
    credit = await client.get(LOG, params={"type": "credit.low"}, headers=PARTNER)
    assert [d["id"] for d in credit.json()["items"]] == [mine[1]]
    skipped = await client.get(LOG, params={"status": "skipped"}, headers=PARTNER)
    assert len(skipped.json()["items"]) == 3
    none = await client.get(LOG, params={"status": "delivered"}, headers=PARTNER)
    assert none.json()["items"] == []

    other = (await client.get(LOG, headers=OTHER_PARTNER)).json()
    assert [d["id"] for d in other["items"]] == [theirs]
    assert_problem(
        await client.post(f"{LOG}/{theirs}/redeliver", headers=PARTNER),
        404,
        "webhook_delivery_not_found",
    )
    assert_problem(
        await client.get(LOG, params={"cursor": "x"}, headers=PARTNER), 422, "invalid_cursor"
    )
