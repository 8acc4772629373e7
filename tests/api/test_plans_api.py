"""GET /v1/plans: the price list in force, public and cacheable (ETag, If-None-Match → 304)."""

from __future__ import annotations

from datetime import timedelta

import httpx
import pytest

from app.container import Container
from app.db.models import PromotionRow
from app.sandbox.demo_catalog import DEMO_PRICE_LIST_ID
from tests.api.helpers import TODAY
from tests.conftest import CUSTOMER, MovableClock


def eur(amount: str) -> dict[str, str]:
    return {"amount": amount, "currency": "EUR"}


async def add_promotion(
    container: Container,
    plan: str = "DOMAIN",
    cents: int = 490,
    starts_in_days: int = -1,
    lasts_days: int = 30,
) -> None:
    async with container.sessionmaker() as session, session.begin():
        session.add(
            PromotionRow(
                price_list_id=DEMO_PRICE_LIST_ID,
                plan_code=plan,
                yearly_price_cents=cents,
                valid_from=TODAY + timedelta(days=starts_in_days),
                valid_until=TODAY + timedelta(days=starts_in_days + lasts_days),
                max_years=2,
            )
        )
    container.catalog.invalidate()


async def test_price_list_is_public_and_lists_the_demo_plans(client: httpx.AsyncClient) -> None:
    response = await client.get("/v1/plans")

    assert response.status_code == 200
    assert response.headers["content-type"] == "application/json"
    body = response.json()
    assert body["id"] == DEMO_PRICE_LIST_ID
    assert body["valid_from"] == "2026-01-01T00:00:00Z"
    assert body["valid_until"] is None
    assert body["currency"] == "EUR"
    assert body["vat_rate"] == "0.22"
    assert [(p["code"], p["yearly_price"]) for p in body["plans"]] == [
        ("STANDARD", eur("9.90")),
        ("PRO", eur("25.00")),
        ("PREMIUM", eur("40.00")),
        ("DOMAIN", eur("9.90")),
    ]
    assert body["extra_space"] == {
        "mailbox_gb_yearly": eur("3.00"),
        "archive_gb_yearly": eur("3.00"),
    }
    assert body["signature_kits"] == [
        {"code": "SMART_CARD", "name": "Smart card signature kit", "price": eur("25.00")},
        {"code": "USB_TOKEN", "name": "USB token signature kit", "price": eur("35.00")},
    ]
    assert body["kit_shipping"] == eur("9.90")
    assert body["promotions"] == []
    assert all(plan["promotion"] is None for plan in body["plans"])


async def test_plans_carry_space_and_features(client: httpx.AsyncClient) -> None:
    plans = {p["code"]: p for p in (await client.get("/v1/plans")).json()["plans"]}

    assert plans["STANDARD"] | {"yearly_price": None} == {
        "code": "STANDARD",
        "name": "PEC Standard",
        "mailbox_gb": 1,
        "max_mailbox_gb": 2,
        "archive_gb": 0,
        "extra_archive_allowed": False,
        "sms_reports": False,
        "extra_users": 0,
        "own_domain": False,
        "yearly_price": None,
        "promotion": None,
    }
    assert (plans["PRO"]["archive_gb"], plans["PRO"]["max_mailbox_gb"]) == (3, None)
    assert (plans["PREMIUM"]["archive_gb"], plans["PREMIUM"]["extra_users"]) == (8, 3)
    assert plans["DOMAIN"]["own_domain"] is True


async def test_money_is_never_a_float(client: httpx.AsyncClient) -> None:
    text = (await client.get("/v1/plans")).text

    assert '"amount":"' in text.replace(" ", "")
    for plan in (await client.get("/v1/plans")).json()["plans"]:
        assert isinstance(plan["yearly_price"]["amount"], str)


async def test_a_token_is_not_needed_but_does_not_hurt(client: httpx.AsyncClient) -> None:
    anonymous = await client.get("/v1/plans")
    customer = await client.get("/v1/plans", headers=CUSTOMER)

    assert customer.status_code == 200
    assert customer.json() == anonymous.json()


async def test_price_list_has_etag_and_cache_control(client: httpx.AsyncClient) -> None:
    response = await client.get("/v1/plans")

    etag = response.headers["etag"]
    assert etag.startswith('"')
    assert etag.endswith('"')
    cache_control = response.headers["cache-control"]
    assert "max-age=" in cache_control
    assert "no-store" not in cache_control
    assert (await client.get("/v1/plans")).headers["etag"] == etag


@pytest.mark.parametrize(
    "header",
    [
        pytest.param("{etag}", id="exact"),
        pytest.param("W/{etag}", id="weak"),
        pytest.param('"stale", {etag}', id="in-a-list"),
        pytest.param(
            "*",
            id="any",
        ),
    ],
)
async def test_if_none_match_with_the_current_etag_is_304_with_empty_body(
    client: httpx.AsyncClient, header: str
) -> None:
    etag = (await client.get("/v1/plans")).headers["etag"]

    response = await client.get("/v1/plans", headers={"If-None-Match": header.format(etag=etag)})

    assert response.status_code == 304
    assert response.content == b""
    assert response.headers["etag"] == etag
    assert "max-age=" in response.headers["cache-control"]


@pytest.mark.parametrize("header", ['"2026-demo-0000000000000000"', "garbage", '""'])
async def test_a_stale_etag_gets_the_full_price_list(
    client: httpx.AsyncClient, header: str
) -> None:
    response = await client.get("/v1/plans", headers={"If-None-Match": header})

    assert response.status_code == 200
    assert response.json()["id"] == DEMO_PRICE_LIST_ID


async def test_active_promotion_shows_on_its_plan_and_changes_the_etag(
    client: httpx.AsyncClient, db: Container
) -> None:
    before = await client.get("/v1/plans")
    await add_promotion(db, "DOMAIN", 490, starts_in_days=-1, lasts_days=30)

    after = await client.get("/v1/plans")
    revalidated = await client.get("/v1/plans", headers={"If-None-Match": before.headers["etag"]})

    promotion = {
        "plan": "DOMAIN",
        "yearly_price": eur("4.90"),
        "valid_from": (TODAY - timedelta(days=1)).isoformat(),
        "valid_until": (TODAY + timedelta(days=29)).isoformat(),
        "max_years": 2,
    }
    body = after.json()
    plans = {p["code"]: p for p in body["plans"]}
    assert plans["DOMAIN"]["promotion"] == promotion
    assert plans["DOMAIN"]["yearly_price"] == eur("9.90")  # the list price stays
    assert plans["STANDARD"]["promotion"] is None
    assert body["promotions"] == [promotion]
    assert after.headers["etag"] != before.headers["etag"]
    assert revalidated.status_code == 200
    assert revalidated.json() == body


async def test_future_promotion_is_hidden_until_its_first_day(
    client: httpx.AsyncClient, db: Container, clock: MovableClock
) -> None:
    await add_promotion(db, "PRO", 1900, starts_in_days=1, lasts_days=10)

    today = await client.get("/v1/plans")
    clock.advance(timedelta(days=1))
    tomorrow = await client.get("/v1/plans")

    assert today.json()["promotions"] == []
    assert [p["plan"] for p in tomorrow.json()["promotions"]] == ["PRO"]
    assert tomorrow.headers["etag"] != today.headers["etag"]
    stale = await client.get("/v1/plans", headers={"If-None-Match": today.headers["etag"]})
    assert stale.status_code == 200


async def test_expired_promotion_is_gone(client: httpx.AsyncClient, db: Container) -> None:
    await add_promotion(db, "PRO", 1900, starts_in_days=-20, lasts_days=10)

    body = (await client.get("/v1/plans")).json()

    assert body["promotions"] == []
    assert all(plan["promotion"] is None for plan in body["plans"])
