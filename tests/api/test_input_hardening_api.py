"""What a client sends can be refused, never crash: credit bounds, control characters,
broken cursors and empty idempotency keys are each a 4xx naming the field."""

from __future__ import annotations

import base64

import httpx
import pytest
from sqlalchemy import text

from app.container import Container
from tests.api.helpers import assert_problem, field_errors, put_mailbox, with_raw_header
from tests.api.order_helpers import PERSON, order_body, quote_id_for
from tests.conftest import CUSTOMER, STAFF

CREDIT_URL = "/v1/admin/partners/ptn-1/credit"


def _key(key: str) -> dict[str, str]:
    return {**STAFF, "Idempotency-Key": key}


# Bug 4: the credit is 64-bit, and a top-up is bounded.


async def test_three_largest_top_ups_add_up(client: httpx.AsyncClient) -> None:
    answers = [
        await client.post(CREDIT_URL, json={"amount": "9999999.99"}, headers=_key(f"big-{n}"))
        for n in range(3)
    ]

    assert [a.status_code for a in answers] == [200, 200, 200]
    # 100.00 seeded, then three top-ups.
    assert [a.json()["credit"]["amount"] for a in answers] == [
        "10000099.99",
        "20000099.98",
        "30000099.97",
    ]


@pytest.mark.parametrize("amount", ["0.00", "10000000.00", "-1.00", "1e3"])
async def test_a_top_up_out_of_bounds_is_a_422(client: httpx.AsyncClient, amount: str) -> None:
    answer = await client.post(CREDIT_URL, json={"amount": amount}, headers=_key("bounds"))

    problem = assert_problem(answer, 422, "validation_failed")
    assert [field for field, _ in field_errors(problem)] == ["amount"]


async def test_a_top_up_past_the_credit_ceiling_is_a_409(
    client: httpx.AsyncClient, db: Container
) -> None:
    async with db.engine.begin() as connection:
        await connection.execute(
            text("UPDATE partners SET credit_cents = 9999999999999 WHERE id = 'ptn-1'")
        )

    answer = await client.post(CREDIT_URL, json={"amount": "1.00"}, headers=_key("ceiling"))

    assert_problem(answer, 409, "credit_limit_exceeded")


# Bug 5: control characters in free text are a 422 naming the field.


@pytest.mark.parametrize("field", ["name", "address", "city"])
async def test_a_nul_in_the_holder_is_a_422_naming_the_field(
    client: httpx.AsyncClient, field: str
) -> None:
    await put_mailbox(client, "mbx-nul")
    quote_id = await quote_id_for(client, CUSTOMER, [{"mailbox_id": "mbx-nul"}])
    body = order_body(quote_id, holder={**PERSON, field: "Roma\x00"})

    answer = await client.post(
        "/v1/orders", json=body, headers={**CUSTOMER, "Idempotency-Key": "nul"}
    )

    problem = assert_problem(answer, 422, "validation_failed")
    assert field_errors(problem) == [(f"holder.{field}", "control_characters")]


@pytest.mark.parametrize(
    ("path", "value"),
    [
        (("holder", "tax_code"), "RSSMRA85T10A562S\x00"),
        (("holder", "email"), "mario\x00@example.it"),
        (("holder", "postal_code"), "0010\x00"),
        (("billing", "e_invoicing", "sdi_code"), "ABC\x00123"),
        (("billing", "e_invoicing", "pec"), "fatture\x00@pec.example.it"),
        (("billing", "public_administration", "office_code"), "UF\x00XYZ"),
        (("billing", "public_administration", "cig"), "CIG\x00"),
        (("billing", "public_administration", "cup"), "CUP\x00"),
    ],
)
async def test_a_nul_in_any_order_field_is_a_422_naming_it(
    client: httpx.AsyncClient, path: tuple[str, ...], value: str
) -> None:
    body = order_body(
        "quo_x",
        holder=dict(PERSON),
        billing={
            "e_invoicing": {"sdi_code": "ABC1234"},
            "public_administration": {"office_code": "UFXYZ1", "cig": "C", "split_payment": True},
        },
    )
    target = body
    for part in path[:-1]:
        target = target[part]
    target[path[-1]] = value

    answer = await client.post(
        "/v1/orders", json=body, headers={**CUSTOMER, "Idempotency-Key": "nul-any"}
    )

    problem = assert_problem(answer, 422, "validation_failed")
    assert ".".join(path) in [field for field, _ in field_errors(problem)]


@pytest.mark.parametrize(
    ("extra", "field"),
    [
        ({"convention_code": "CONV\x00"}, "convention_code"),
        ({"signature_kit": "KIT\x00"}, "signature_kit"),
    ],
)
async def test_a_nul_in_a_quote_field_is_a_422_naming_it(
    client: httpx.AsyncClient, extra: dict[str, str], field: str
) -> None:
    answer = await client.post(
        "/v1/quotes",
        json={"years": 1, "items": [{"mailbox_id": "mbx-1"}], **extra},
        headers=CUSTOMER,
    )

    problem = assert_problem(answer, 422, "validation_failed")
    assert [f for f, _ in field_errors(problem)] == [field]


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("address", "box\x00@pec.example.it"),
        ("plan", "STANDARD\x00"),
        ("account_id", "acc\x00"),
        ("partner_id", "ptn\x00"),
    ],
)
async def test_a_nul_in_the_mailbox_mirror_is_a_422_naming_it(
    client: httpx.AsyncClient, field: str, value: str
) -> None:
    body = {
        "address": "box@pec.example.it",
        "plan": "STANDARD",
        "expires_on": "2027-01-01",
        "account_id": "acc-1",
        field: value,
    }

    answer = await client.put("/v1/admin/mailboxes/mbx-nul", json=body, headers=STAFF)

    problem = assert_problem(answer, 422, "validation_failed")
    assert [f for f, _ in field_errors(problem)] == [field]


@pytest.mark.parametrize(
    "url",
    [
        "/v1/mailboxes/mbx%00",
        "/v1/quotes/quo%00",
        "/v1/orders/ord%00",
        "/v1/mailboxes?cursor=%00",
        "/v1/orders?cursor=%00",
        "/v1/mailboxes?expiring_before=%00",
    ],
)
async def test_a_nul_in_a_path_or_query_is_never_a_5xx(client: httpx.AsyncClient, url: str) -> None:
    answer = await client.get(url, headers=CUSTOMER)

    assert answer.status_code in (404, 422), answer.text


# Bug 6: every broken cursor is a 422 invalid_cursor naming `cursor`.

_B64 = base64.urlsafe_b64encode


@pytest.mark.parametrize(
    ("url", "cursor"),
    [
        ("/v1/orders", _B64(b"0001-01-01T00:00:00+14:00|1").decode()),
        ("/v1/orders", _B64(b"9999-12-31T23:59:59-14:00|1").decode()),
        ("/v1/orders", "not base64!"),
        ("/v1/orders", _B64(b"2026-01-01T00:00:00+00:00|99999999999").decode()),
        ("/v1/mailboxes", _B64(b"2026-01-01|mbx\x00").decode()),
        ("/v1/mailboxes", _B64(b"not-a-date|mbx-1").decode()),
        ("/v1/mailboxes", "%%%"),
        ("/v1/admin/reconciliation", "abc"),
        ("/v1/admin/reconciliation", "99999999999"),
    ],
)
async def test_a_broken_cursor_is_a_422_naming_cursor(
    client: httpx.AsyncClient, url: str, cursor: str
) -> None:
    answer = await client.get(url, params={"cursor": cursor}, headers=STAFF)

    problem = assert_problem(answer, 422, "invalid_cursor")
    assert field_errors(problem) == [("cursor", "invalid_cursor")]


# Bug 7: an empty or unprintable Idempotency-Key is a 422 naming the header.


@pytest.mark.parametrize("key", [b"", b" ", b"a\tb", b"x" * 256, "caffè".encode("latin-1")])
async def test_an_unusable_idempotency_key_is_a_422(client: httpx.AsyncClient, key: bytes) -> None:
    headers = with_raw_header(CUSTOMER, "Idempotency-Key", key)
    items = [{"mailbox_id": "mbx-1"}]

    answer = await client.post("/v1/quotes", json={"years": 1, "items": items}, headers=headers)

    problem = assert_problem(answer, 422, "validation_failed")
    assert [f for f, _ in field_errors(problem)] == ["Idempotency-Key"]


async def test_a_255_character_idempotency_key_is_accepted(client: httpx.AsyncClient) -> None:
    await put_mailbox(client, "mbx-long-key")
    headers = {**CUSTOMER, "Idempotency-Key": "k" * 255}
    items = [{"mailbox_id": "mbx-long-key"}]

    answer = await client.post("/v1/quotes", json={"years": 1, "items": items}, headers=headers)

    assert answer.status_code == 201, answer.text
