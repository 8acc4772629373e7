"""Errors a frontend can act on: messages that say the fix, every problem of a body in
one answer, 415 for a body that isn't JSON, a 401 that tells an expired token apart,
and HEAD wherever GET answers."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest

from app.auth import issue_dev_token
from app.domain.access import Role
from tests.api.helpers import assert_problem, field_errors, put_mailbox, with_raw_header
from tests.api.order_helpers import ALL_CONSENTS, COMPANY, PERSON, new_key, order_body
from tests.conftest import CUSTOMER, STAFF, TEST_SECRET

ENGLISH = {**CUSTOMER, "Accept-Language": "en"}


def message_of(problem: dict[str, Any], field: str) -> str:
    found = [e["message"] for e in problem["errors"] if e["field"] == field]
    assert found, problem
    return str(found[0])


@pytest.fixture
async def quote_id(client: httpx.AsyncClient) -> str:
    await put_mailbox(client, "mbx-1", "STANDARD")
    response = await client.post(
        "/v1/quotes", json={"years": 1, "items": [{"mailbox_id": "mbx-1"}]}, headers=CUSTOMER
    )
    assert response.status_code == 201, response.text
    quoted: str = response.json()["id"]
    return quoted


# --- 1. messages that say the fix ---------------------------------------------------------


async def test_an_unknown_status_filter_lists_the_allowed_values(client: httpx.AsyncClient) -> None:
    response = await client.get("/v1/mailboxes?status=active", headers=ENGLISH)

    problem = assert_problem(response, 422, "validation_failed")
    assert field_errors(problem) == [("status", "invalid_value")]
    assert "one of ACTIVE, EXPIRED, DELETED, SUSPENDED" in message_of(problem, "status")


async def test_a_limit_out_of_range_gives_the_range(client: httpx.AsyncClient) -> None:
    response = await client.get("/v1/mailboxes?limit=1000", headers=ENGLISH)

    problem = assert_problem(response, 422, "validation_failed")
    assert field_errors(problem) == [("limit", "out_of_range")]
    assert "between 1 and 200" in message_of(problem, "limit")


async def test_a_limit_out_of_range_is_explained_in_italian_by_default(
    client: httpx.AsyncClient,
) -> None:
    response = await client.get("/v1/mailboxes?limit=0", headers=CUSTOMER)

    problem = assert_problem(response, 422, "validation_failed")
    assert "tra 1 e 200" in message_of(problem, "limit")


async def test_a_bad_postal_code_describes_the_format_in_words(
    client: httpx.AsyncClient, quote_id: str
) -> None:
    body = order_body(quote_id, holder={**PERSON, "postal_code": "100", "province": "Roma"})

    response = await client.post("/v1/orders", json=body, headers=new_key(ENGLISH))

    problem = assert_problem(response, 422, "validation_failed")
    postal_code = message_of(problem, "holder.postal_code")
    assert "5 digits, e.g. 00100" in postal_code
    assert "\\d" not in postal_code
    assert "2 letters, e.g. RM" in message_of(problem, "holder.province")


async def test_a_wrong_type_names_the_type_expected(client: httpx.AsyncClient) -> None:
    body = {"years": "one", "items": {"mailbox_id": "mbx-1"}, "signature_kit": 3}

    response = await client.post("/v1/quotes", json=body, headers=ENGLISH)

    problem = assert_problem(response, 422, "validation_failed")
    assert "a whole number" in message_of(problem, "years")
    assert "a list" in message_of(problem, "items")
    assert "a string" in message_of(problem, "signature_kit")


async def test_an_unknown_payment_method_lists_the_methods(
    client: httpx.AsyncClient, quote_id: str
) -> None:
    response = await client.post(
        "/v1/orders", json=order_body(quote_id, "cash"), headers=new_key(ENGLISH)
    )

    problem = assert_problem(response, 422, "validation_failed")
    assert "card, paypal, bank_transfer" in message_of(problem, "payment_method")


async def test_a_too_long_name_gives_the_maximum_length(
    client: httpx.AsyncClient, quote_id: str
) -> None:
    body = order_body(quote_id, holder={**PERSON, "name": "M" * 201})

    response = await client.post("/v1/orders", json=body, headers=new_key(ENGLISH))

    problem = assert_problem(response, 422, "validation_failed")
    assert field_errors(problem) == [("holder.name", "too_long")]
    assert "at most 200 characters" in message_of(problem, "holder.name")


async def test_an_unknown_plan_lists_the_plans_of_the_price_list(
    client: httpx.AsyncClient,
) -> None:
    await put_mailbox(client, "mbx-1", "STANDARD")
    body = {
        "years": 1,
        "items": [{"mailbox_id": "mbx-1", "plan": "STANDART"}],
        "signature_kit": "PEN",
    }

    response = await client.post("/v1/quotes", json=body, headers=ENGLISH)

    problem = assert_problem(response, 422, "validation_failed")
    assert "STANDARD" in message_of(problem, "items[0].plan")
    assert "SMART_CARD, USB_TOKEN" in message_of(problem, "signature_kit")


async def test_the_mirror_of_an_unknown_plan_lists_the_plans(client: httpx.AsyncClient) -> None:
    body = {
        "address": "mbx-9@pec.example.it",
        "plan": "STANDART",
        "expires_on": "2027-01-01",
        "account_id": "acc-1",
    }

    response = await client.put(
        "/v1/admin/mailboxes/mbx-9", json=body, headers={**STAFF, "Accept-Language": "en"}
    )

    problem = assert_problem(response, 422, "validation_failed")
    assert "STANDARD" in message_of(problem, "plan")


async def test_an_invalid_idempotency_key_says_what_a_key_is(client: httpx.AsyncClient) -> None:
    body = {"years": 1, "items": [{"mailbox_id": "mbx-1"}]}

    response = await client.post(
        "/v1/quotes",
        json=body,
        headers=with_raw_header(ENGLISH, "Idempotency-Key", "a key\u00e8".encode("latin-1")),
    )

    problem = assert_problem(response, 422, "validation_failed")
    assert "1 to 255 printable" in message_of(problem, "Idempotency-Key")


# --- 2. every problem of a body in one answer ---------------------------------------------


async def test_an_order_body_gets_all_its_problems_in_one_answer(
    client: httpx.AsyncClient, quote_id: str
) -> None:
    holder = {**PERSON, "postal_code": "100", "tax_code": "RSSMRA85T10A562X"}
    body = order_body(quote_id, holder=holder, consents={**ALL_CONSENTS, "terms": False})

    response = await client.post("/v1/orders", json=body, headers=new_key(CUSTOMER))

    problem = assert_problem(response, 422, "validation_failed")
    assert sorted(field_errors(problem)) == [
        ("consents.terms", "consent_required"),
        ("holder.postal_code", "invalid_format"),
        ("holder.tax_code", "invalid_codice_fiscale"),
    ]


async def test_billing_code_formats_come_with_the_other_mistakes(
    client: httpx.AsyncClient, quote_id: str
) -> None:
    body = order_body(
        quote_id,
        holder={**COMPANY, "postal_code": "1"},
        billing={"e_invoicing": {"sdi_code": "AB"}},
    )

    response = await client.post("/v1/orders", json=body, headers=new_key(CUSTOMER))

    problem = assert_problem(response, 422, "validation_failed")
    assert sorted(field_errors(problem)) == [
        ("billing.e_invoicing.sdi_code", "invalid_sdi_code"),
        ("holder.postal_code", "invalid_format"),
    ]


async def test_billing_rules_and_consents_come_in_one_answer(
    client: httpx.AsyncClient, quote_id: str
) -> None:
    """A structurally valid body: the domain's checks report everything together."""
    body = order_body(
        quote_id,
        "partner_credit",
        holder=COMPANY,
        consents={**ALL_CONSENTS, "privacy": False},
    )

    response = await client.post("/v1/orders", json=body, headers=new_key(CUSTOMER))

    problem = assert_problem(response, 422, "validation_failed")
    assert sorted(field_errors(problem)) == [
        ("billing.e_invoicing", "einvoicing_identifier_required"),
        ("consents.privacy", "consent_required"),
        ("payment_method", "payment_method_not_allowed"),
    ]


async def test_missing_consents_alone_keep_their_own_code(
    client: httpx.AsyncClient, quote_id: str
) -> None:
    body = order_body(quote_id, consents={**ALL_CONSENTS, "terms": False})

    response = await client.post("/v1/orders", json=body, headers=new_key(CUSTOMER))

    problem = assert_problem(response, 422, "consent_required")
    assert field_errors(problem) == [("consents.terms", "consent_required")]


# --- 3. 415 for a body that isn't JSON ----------------------------------------------------

QUOTE_BODY = json.dumps({"years": 1, "items": [{"mailbox_id": "mbx-1"}]})


@pytest.mark.parametrize(
    "content_type",
    ["text/plain;charset=UTF-8", "application/x-www-form-urlencoded", None],
    ids=["text", "form", "missing"],
)
async def test_a_body_that_is_not_json_is_a_415(
    client: httpx.AsyncClient, content_type: str | None
) -> None:
    headers = {**CUSTOMER}
    if content_type is not None:
        headers["Content-Type"] = content_type

    response = await client.post("/v1/quotes", content=QUOTE_BODY.encode(), headers=headers)

    assert_problem(response, 415, "unsupported_media_type")


@pytest.mark.parametrize("content_type", ["application/json; charset=utf-8", "application/x+json"])
async def test_json_media_types_are_accepted(client: httpx.AsyncClient, content_type: str) -> None:
    await put_mailbox(client, "mbx-1", "STANDARD")

    response = await client.post(
        "/v1/quotes",
        content=QUOTE_BODY.encode(),
        headers={**CUSTOMER, "Content-Type": content_type},
    )

    assert response.status_code == 201, response.text


async def test_authentication_comes_before_the_media_type(client: httpx.AsyncClient) -> None:
    response = await client.post(
        "/v1/quotes", content=QUOTE_BODY.encode(), headers={"Content-Type": "text/plain"}
    )

    assert_problem(response, 401, "not_authenticated")


async def test_the_role_check_comes_before_the_media_type(client: httpx.AsyncClient) -> None:
    response = await client.put(
        "/v1/admin/mailboxes/mbx-1",
        content=b"plan=STANDARD",
        headers={**CUSTOMER, "Content-Type": "application/x-www-form-urlencoded"},
    )

    assert_problem(response, 403, "forbidden")


# --- 4. a 401 that says what is wrong with the token ---------------------------------------


async def test_a_missing_token_is_a_plain_challenge(client: httpx.AsyncClient) -> None:
    response = await client.get("/v1/mailboxes")

    assert_problem(response, 401, "not_authenticated")
    assert response.headers["WWW-Authenticate"] == "Bearer"


async def test_an_expired_token_says_to_sign_in_again(client: httpx.AsyncClient) -> None:
    issued = datetime.now(UTC) - timedelta(days=2)
    token = issue_dev_token(TEST_SECRET, Role.CUSTOMER, "acc-1", now=issued, ttl=timedelta(days=1))

    response = await client.get(
        "/v1/mailboxes", headers={"Authorization": f"Bearer {token}", "Accept-Language": "en"}
    )

    problem = assert_problem(response, 401, "token_expired")
    assert "sign in again" in problem["detail"]
    challenge = response.headers["WWW-Authenticate"]
    assert challenge.startswith('Bearer error="invalid_token"')
    assert "expired" in challenge


async def test_a_forged_token_is_an_invalid_token(client: httpx.AsyncClient) -> None:
    token = issue_dev_token("not-the-secret-" * 3, Role.STAFF, "staff-1")

    response = await client.get("/v1/mailboxes", headers={"Authorization": f"Bearer {token}"})

    assert_problem(response, 401, "invalid_token")
    assert response.headers["WWW-Authenticate"].startswith('Bearer error="invalid_token"')


# --- 5. HEAD wherever GET answers ----------------------------------------------------------


async def test_head_of_the_price_list_has_the_headers_and_no_body(
    client: httpx.AsyncClient,
) -> None:
    got = await client.get("/v1/plans")

    response = await client.head("/v1/plans")

    assert response.status_code == 200
    assert response.content == b""
    assert response.headers["ETag"] == got.headers["ETag"]
    assert response.headers["Content-Length"] == got.headers["Content-Length"]
    assert response.headers["Cache-Control"] == got.headers["Cache-Control"]


async def test_head_of_the_price_list_honours_if_none_match(client: httpx.AsyncClient) -> None:
    etag = (await client.get("/v1/plans")).headers["ETag"]

    response = await client.head("/v1/plans", headers={"If-None-Match": etag})

    assert response.status_code == 304
    assert response.content == b""


async def test_head_of_an_authenticated_get_needs_the_token(client: httpx.AsyncClient) -> None:
    response = await client.head("/v1/mailboxes")

    assert response.status_code == 401
    assert response.content == b""
    assert response.headers["WWW-Authenticate"] == "Bearer"


async def test_head_operations_are_not_in_the_contract(client: httpx.AsyncClient) -> None:
    paths = (await client.get("/openapi.json")).json()["paths"]

    assert all("head" not in operations for operations in paths.values())
