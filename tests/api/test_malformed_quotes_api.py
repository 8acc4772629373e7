"""Malformed quote requests: always a 4xx problem with a stable code, never a 500, and
never a quote row written."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from sqlalchemy import text

from app.container import Container
from tests.api.helpers import PROBLEM_JSON, assert_problem, field_errors, put_mailbox
from tests.conftest import CUSTOMER, OTHER_CUSTOMER
from tests.shared_app import app_for

pytestmark = pytest.mark.both_quote_stores  # asyncpg and SQLAlchemy

VALID_ITEM = {"mailbox_id": "mbx-1"}


async def quote_rows(container: Container) -> int:
    async with container.engine.connect() as connection:
        count: int = (await connection.execute(text("SELECT count(*) FROM quotes"))).scalar_one()
    return count


@pytest.fixture
async def mailbox(client: httpx.AsyncClient) -> None:
    """One renewable mailbox of the caller (mbx-1) and one of another account (mbx-other)."""
    await put_mailbox(client, "mbx-1", "PRO")
    await put_mailbox(client, "mbx-other", "PRO", account_id="acc-2")


# --- a table of malformed JSON bodies: body, field, field code -------------------------

MALFORMED_BODIES = [
    # years
    pytest.param(
        {"years": 0, "items": [VALID_ITEM]}, "years", "frequency_not_allowed", id="years-0"
    ),
    pytest.param(
        {"years": 6, "items": [VALID_ITEM]}, "years", "frequency_not_allowed", id="years-6"
    ),
    pytest.param(
        {"years": -1, "items": [VALID_ITEM]}, "years", "frequency_not_allowed", id="years-neg"
    ),
    pytest.param(
        {"years": 10**30, "items": [VALID_ITEM]}, "years", "frequency_not_allowed", id="years-huge"
    ),
    pytest.param({"years": "3", "items": [VALID_ITEM]}, "years", "invalid_type", id="years-str"),
    pytest.param({"years": 1.5, "items": [VALID_ITEM]}, "years", "invalid_type", id="years-float"),
    pytest.param({"years": True, "items": [VALID_ITEM]}, "years", "invalid_type", id="years-bool"),
    pytest.param({"years": None, "items": [VALID_ITEM]}, "years", "invalid_type", id="years-null"),
    pytest.param({"years": [1], "items": [VALID_ITEM]}, "years", "invalid_type", id="years-list"),
    pytest.param({"items": [VALID_ITEM]}, "years", "required", id="years-missing"),
    # items
    pytest.param({"years": 1}, "items", "required", id="items-missing"),
    pytest.param({"years": 1, "items": []}, "items", "items_required", id="items-empty"),
    pytest.param({"years": 1, "items": VALID_ITEM}, "items", "invalid_type", id="items-object"),
    pytest.param({"years": 1, "items": "mbx-1"}, "items", "invalid_type", id="items-string"),
    pytest.param({"years": 1, "items": None}, "items", "invalid_type", id="items-null"),
    pytest.param(
        {"years": 1, "items": [{"mailbox_id": f"mbx-{i}"} for i in range(100)]},
        "items",
        "too_many_items",
        id="items-100",
    ),
    pytest.param({"years": 1, "items": ["mbx-1"]}, "items[0]", "invalid_type", id="item-string"),
    pytest.param({"years": 1, "items": [{}]}, "items[0].mailbox_id", "required", id="item-empty"),
    pytest.param(
        {"years": 1, "items": [{"mailbox_id": 123}]},
        "items[0].mailbox_id",
        "invalid_type",
        id="mailbox_id-int",
    ),
    pytest.param(
        {"years": 1, "items": [{"mailbox_id": None}]},
        "items[0].mailbox_id",
        "invalid_type",
        id="mailbox_id-null",
    ),
    pytest.param(
        {"years": 1, "items": [{"mailbox_id": ""}]},
        "items[0].mailbox_id",
        "required",
        id="mailbox_id-empty",
    ),
    pytest.param(
        {"years": 1, "items": [{"mailbox_id": "m" * 65}]},
        "items[0].mailbox_id",
        "too_long",
        id="mailbox_id-65-chars",
    ),
    # extra space
    pytest.param(
        {"years": 1, "items": [{"mailbox_id": "mbx-1", "extra_mailbox_gb": -1}]},
        "items[0].extra_mailbox_gb",
        "out_of_range",
        id="extra_mailbox_gb-negative",
    ),
    pytest.param(
        {"years": 1, "items": [{"mailbox_id": "mbx-1", "extra_archive_gb": -3}]},
        "items[0].extra_archive_gb",
        "out_of_range",
        id="extra_archive_gb-negative",
    ),
    pytest.param(
        {"years": 1, "items": [{"mailbox_id": "mbx-1", "extra_mailbox_gb": 1001}]},
        "items[0].extra_mailbox_gb",
        "out_of_range",
        id="extra_mailbox_gb-absurd",
    ),
    pytest.param(
        {"years": 1, "items": [{"mailbox_id": "mbx-1", "extra_mailbox_gb": "1"}]},
        "items[0].extra_mailbox_gb",
        "invalid_type",
        id="extra_mailbox_gb-str",
    ),
    pytest.param(
        {"years": 1, "items": [{"mailbox_id": "mbx-1", "extra_archive_gb": 0.5}]},
        "items[0].extra_archive_gb",
        "invalid_type",
        id="extra_archive_gb-float",
    ),
    # plan, kit, convention
    pytest.param(
        {"years": 1, "items": [{"mailbox_id": "mbx-1", "plan": "GOLD"}]},
        "items[0].plan",
        "unknown_plan",
        id="plan-unknown",
    ),
    pytest.param(
        {"years": 1, "items": [{"mailbox_id": "mbx-1", "plan": "pro"}]},
        "items[0].plan",
        "unknown_plan",
        id="plan-lowercase",
    ),
    pytest.param(
        {"years": 1, "items": [{"mailbox_id": "mbx-1", "plan": ""}]},
        "items[0].plan",
        "required",
        id="plan-empty",
    ),
    pytest.param(
        {"years": 1, "items": [{"mailbox_id": "mbx-1", "plan": 7}]},
        "items[0].plan",
        "invalid_type",
        id="plan-int",
    ),
    pytest.param(
        {"years": 1, "items": [VALID_ITEM], "signature_kit": "FLOPPY_DISK"},
        "signature_kit",
        "unknown_signature_kit",
        id="signature_kit-unknown",
    ),
    pytest.param(
        {"years": 1, "items": [VALID_ITEM], "signature_kit": 1},
        "signature_kit",
        "invalid_type",
        id="signature_kit-int",
    ),
    pytest.param(
        {"years": 1, "items": [VALID_ITEM], "convention_code": ["ORDINE-AVVOCATI"]},
        "convention_code",
        "invalid_type",
        id="convention_code-list",
    ),
    # unknown fields
    pytest.param(
        {"years": 1, "items": [VALID_ITEM], "discount": 100},
        "discount",
        "unknown_field",
        id="unknown-top-level-field",
    ),
    pytest.param(
        {"years": 1, "items": [{"mailbox_id": "mbx-1", "price": 0}]},
        "items[0].price",
        "unknown_field",
        id="unknown-item-field",
    ),
    # duplicates
    pytest.param(
        {"years": 1, "items": [VALID_ITEM, VALID_ITEM]},
        "items[1].mailbox_id",
        "duplicate_mailbox",
        id="duplicate-mailbox",
    ),
]


@pytest.mark.parametrize(("body", "field", "field_code"), MALFORMED_BODIES)
@pytest.mark.usefixtures("mailbox")
async def test_malformed_body_is_a_422_with_the_field_and_writes_nothing(
    client: httpx.AsyncClient, db: Container, body: Any, field: str, field_code: str
) -> None:
    response = await client.post("/v1/quotes", json=body, headers=CUSTOMER)

    problem = assert_problem(response, 422, "validation_failed")
    assert (field, field_code) in field_errors(problem)
    assert problem["instance"] == "/v1/quotes"
    assert await quote_rows(db) == 0


async def test_years_out_of_range_says_the_allowed_range(client: httpx.AsyncClient) -> None:
    response = await client.post(
        "/v1/quotes",
        json={"years": 6, "items": [VALID_ITEM]},
        headers={**CUSTOMER, "Accept-Language": "en"},
    )

    problem = assert_problem(response, 422, "validation_failed")
    assert problem["errors"] == [
        {
            "field": "years",
            "code": "frequency_not_allowed",
            "message": "Renewal frequency not allowed: 1 to 5 years.",
        }
    ]


async def test_every_wrong_field_is_reported_at_once(client: httpx.AsyncClient) -> None:
    body = {
        "years": 0,
        "items": [{"mailbox_id": "mbx-1", "extra_mailbox_gb": -1, "colour": "red"}],
        "signature_kit": 5,
    }

    problem = assert_problem(
        await client.post("/v1/quotes", json=body, headers=CUSTOMER), 422, "validation_failed"
    )

    assert set(field_errors(problem)) >= {
        ("years", "frequency_not_allowed"),
        ("items[0].extra_mailbox_gb", "out_of_range"),
        ("items[0].colour", "unknown_field"),
        ("signature_kit", "invalid_type"),
    }


async def test_ninety_nine_mailboxes_are_allowed_in_one_quote(
    client: httpx.AsyncClient, db: Container
) -> None:
    for i in range(99):
        await put_mailbox(client, f"mbx-{i:02d}", "STANDARD")

    response = await client.post(
        "/v1/quotes",
        json={"years": 1, "items": [{"mailbox_id": f"mbx-{i:02d}"} for i in range(99)]},
        headers=CUSTOMER,
    )

    assert response.status_code == 201, response.text
    assert len(response.json()["items"]) == 99
    assert response.json()["net"]["amount"] == "980.10"  # 99 × 9.90
    assert await quote_rows(db) == 1


# --- mailboxes that are not there, or not yours -----------------------------------------


@pytest.mark.usefixtures("mailbox")
async def test_unknown_mailbox_is_a_404(client: httpx.AsyncClient, db: Container) -> None:
    response = await client.post(
        "/v1/quotes",
        json={"years": 1, "items": [VALID_ITEM, {"mailbox_id": "mbx-nope"}]},
        headers=CUSTOMER,
    )

    problem = assert_problem(response, 404, "mailbox_not_found")
    assert field_errors(problem) == [("items[1].mailbox_id", "mailbox_not_found")]
    assert await quote_rows(db) == 0


@pytest.mark.usefixtures("mailbox")
async def test_another_accounts_mailbox_answers_exactly_as_an_unknown_one(
    client: httpx.AsyncClient, db: Container
) -> None:
    others = await client.post(
        "/v1/quotes", json={"years": 1, "items": [{"mailbox_id": "mbx-other"}]}, headers=CUSTOMER
    )
    unknown = await client.post(
        "/v1/quotes", json={"years": 1, "items": [{"mailbox_id": "mbx-nope"}]}, headers=CUSTOMER
    )

    assert_problem(others, 404, "mailbox_not_found")
    assert others.json() == unknown.json()
    assert dict(others.headers).keys() - {"x-request-id"} == dict(unknown.headers).keys() - {
        "x-request-id"
    }
    assert await quote_rows(db) == 0
    # the owner can quote it
    mine = await client.post(
        "/v1/quotes",
        json={"years": 1, "items": [{"mailbox_id": "mbx-other"}]},
        headers=OTHER_CUSTOMER,
    )
    assert mine.status_code == 201


# --- bodies that are not JSON objects at all --------------------------------------------


@pytest.mark.usefixtures("mailbox")
async def test_invalid_json_is_a_422_on_the_body(client: httpx.AsyncClient, db: Container) -> None:
    response = await client.post(
        "/v1/quotes",
        content=b'{"years": 1, "items": [',
        headers={**CUSTOMER, "Content-Type": "application/json"},
    )

    problem = assert_problem(response, 422, "validation_failed")
    assert [e["code"] for e in problem["errors"]] == ["invalid_json"]
    assert await quote_rows(db) == 0


@pytest.mark.usefixtures("mailbox")
async def test_invalid_json_names_the_body_as_the_field(client: httpx.AsyncClient) -> None:
    response = await client.post(
        "/v1/quotes",
        content=b'{"years": 1, "items": [',
        headers={**CUSTOMER, "Content-Type": "application/json"},
    )

    problem = assert_problem(response, 422, "validation_failed")
    assert field_errors(problem) == [("body", "invalid_json")]


RAW_BODIES = [
    pytest.param(b"", "application/json", id="empty"),
    pytest.param(b"null", "application/json", id="null"),
    pytest.param(b"[]", "application/json", id="array"),
    pytest.param(b'"years"', "application/json", id="string"),
    pytest.param(b"42", "application/json", id="number"),
    pytest.param(b"{", "application/json", id="truncated"),
    pytest.param(b"{'years': 1}", "application/json", id="single-quotes"),
    pytest.param(
        b'{"years": 1, "items": [{"mailbox_id": "mbx-1"}],}',
        "application/json",
        id="trailing-comma",
    ),
    pytest.param(
        b'{"years": NaN, "items": [{"mailbox_id": "mbx-1"}]}', "application/json", id="nan"
    ),
    pytest.param(
        b'{"years": 1e999, "items": [{"mailbox_id": "mbx-1"}]}', "application/json", id="inf"
    ),
    pytest.param(b"\xff\xfe\x00{", "application/json", id="not-utf8"),
    pytest.param(
        b'{"years": 1, "items": [{"mailbox_id": "mbx-1"}]}', "text/plain", id="text-plain"
    ),
    pytest.param(b"years=1&items=mbx-1", "application/x-www-form-urlencoded", id="form"),
    pytest.param(b'{"years": 1, "items": [{"mailbox_id": "mbx-1"}]}', None, id="no-content-type"),
    pytest.param(
        b'{"years": 1, "years": 7, "items": [{"mailbox_id": "mbx-1"}]}',
        "application/json",
        id="duplicate-key",
    ),
    pytest.param(b"[" * 5000 + b"]" * 5000, "application/json", id="deep-nesting"),
    pytest.param(
        b'{"years": ' + b"9" * 5000 + b', "items": []}', "application/json", id="int-5000-digits"
    ),
]


@pytest.mark.parametrize(("raw", "content_type"), RAW_BODIES)
@pytest.mark.usefixtures("mailbox")
async def test_raw_bodies_never_give_a_500(
    client: httpx.AsyncClient, db: Container, raw: bytes, content_type: str | None
) -> None:
    headers = dict(CUSTOMER)
    if content_type is not None:
        headers["Content-Type"] = content_type

    response = await client.post("/v1/quotes", content=raw, headers=headers)

    if content_type is None and response.status_code == 201:
        # Without a content type the body is read as JSON: acceptable, but then a real quote
        assert response.json()["status"] == "ok"
        assert await quote_rows(db) == 1
        return
    assert 400 <= response.status_code < 500, response.text
    assert response.headers["content-type"].startswith(PROBLEM_JSON)
    problem = response.json()
    assert problem["status"] == response.status_code
    json_sent = content_type is not None and content_type.endswith("json")
    expected = ("validation_failed", "invalid_value") if json_sent else ("unsupported_media_type",)
    assert problem["code"] in expected
    assert await quote_rows(db) == 0


@pytest.mark.usefixtures("mailbox")
async def test_empty_body_is_a_422_body_required(client: httpx.AsyncClient, db: Container) -> None:
    response = await client.post(
        "/v1/quotes", content=b"", headers={**CUSTOMER, "Content-Type": "application/json"}
    )

    problem = assert_problem(response, 422, "validation_failed")
    assert field_errors(problem) == [("body", "required")]
    assert await quote_rows(db) == 0


# --- size ---------------------------------------------------------------------------------


def oversized_body() -> bytes:
    body = {
        "years": 1,
        "items": [{"mailbox_id": "mbx-1"}],
        "convention_code": "X",
        "padding": "x" * (64 * 1024),
    }
    raw = json.dumps(body).encode()
    assert len(raw) > 64 * 1024
    return raw


@pytest.mark.usefixtures("mailbox")
async def test_a_body_over_64_kib_is_a_413(client: httpx.AsyncClient, db: Container) -> None:
    response = await client.post(
        "/v1/quotes",
        content=oversized_body(),
        headers={**CUSTOMER, "Content-Type": "application/json"},
    )

    problem = assert_problem(response, 413, "request_too_large")
    assert problem["errors"] == []
    assert await quote_rows(db) == 0


@pytest.mark.usefixtures("mailbox")
async def test_a_streamed_body_over_64_kib_without_length_is_a_413(
    client: httpx.AsyncClient, db: Container
) -> None:
    raw = oversized_body()

    async def chunks() -> AsyncIterator[bytes]:
        for start in range(0, len(raw), 4096):
            yield raw[start : start + 4096]

    response = await client.post(
        "/v1/quotes", content=chunks(), headers={**CUSTOMER, "Content-Type": "application/json"}
    )

    assert "content-length" not in response.request.headers
    assert_problem(response, 413, "request_too_large")
    assert await quote_rows(db) == 0


@pytest.mark.usefixtures("mailbox")
async def test_a_body_just_under_64_kib_is_read(client: httpx.AsyncClient, db: Container) -> None:
    # well-formed JSON, rejected only for its unknown padding field: the size limit let it in
    body = {"years": 1, "items": [VALID_ITEM], "padding": ""}
    body["padding"] = "x" * (64 * 1024 - len(json.dumps(body).encode()))
    raw = json.dumps(body).encode()
    assert len(raw) == 64 * 1024

    response = await client.post(
        "/v1/quotes", content=raw, headers={**CUSTOMER, "Content-Type": "application/json"}
    )

    problem = assert_problem(response, 422, "validation_failed")
    assert field_errors(problem) == [("padding", "unknown_field")]
    assert await quote_rows(db) == 0


# --- strings the database cannot store -------------------------------------------------


@pytest.fixture
async def lenient_client(db: Container) -> AsyncIterator[httpx.AsyncClient]:
    """Like `client`, but an unhandled error comes back as the 500 a real client would get."""
    transport = httpx.ASGITransport(app=app_for(db), raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as http:
        yield http


@pytest.mark.parametrize(
    "mailbox_id",
    [
        pytest.param(
            "mbx-\u0000",
            id="nul",
        ),
        pytest.param("mbx-\ud800", id="lone-surrogate"),
        pytest.param("mbx-\u00e9\u4e2d\U0001f4e7", id="unicode"),
        pytest.param("' OR '1'='1", id="sql-quote"),
        pytest.param("%", id="like-wildcard"),
    ],
)
@pytest.mark.usefixtures("mailbox")
async def test_odd_mailbox_ids_are_a_4xx_never_a_500(
    lenient_client: httpx.AsyncClient, db: Container, mailbox_id: str
) -> None:
    raw = json.dumps({"years": 1, "items": [{"mailbox_id": mailbox_id}]}).encode()

    response = await lenient_client.post(
        "/v1/quotes", content=raw, headers={**CUSTOMER, "Content-Type": "application/json"}
    )

    assert 400 <= response.status_code < 500, response.text
    assert response.headers["content-type"].startswith(PROBLEM_JSON)
    assert await quote_rows(db) == 0


# --- who may ask --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("headers", "code"),
    [
        pytest.param({}, "not_authenticated", id="no-token"),
        pytest.param({"Authorization": "Bearer not-a-jwt"}, "invalid_token", id="garbage-token"),
        pytest.param({"Authorization": "Basic dXNlcjpwYXNz"}, "not_authenticated", id="basic-auth"),
    ],
)
@pytest.mark.usefixtures("mailbox")
async def test_without_a_valid_token_it_is_a_401_and_nothing_is_written(
    client: httpx.AsyncClient, db: Container, headers: dict[str, str], code: str
) -> None:
    response = await client.post(
        "/v1/quotes", json={"years": 1, "items": [VALID_ITEM]}, headers=headers
    )

    assert_problem(response, 401, code)
    assert await quote_rows(db) == 0
