"""Every member of the staff, partner and webhook schemas says what it is, and every one
of their operations shows an example request (when it takes a body) and answer."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from app.main import create_app
from app.settings import Environment, Settings

SCHEMAS = [
    "AccountIn",
    "AccountOut",
    "HolderVersionOut",
    "CreditTopUpIn",
    "CreditOut",
    "ReconciliationItemOut",
    "ReconciliationPageOut",
    "PaymentEventOut",
    "PartnerIn",
    "PartnerOut",
    "PlanIn",
    "SignatureKitIn",
    "PromotionIn",
    "ConventionIn",
    "PriceListIn",
    "PublishedPriceListOut",
    "PublicationOut",
    "PublishedPriceListsOut",
    "CreditMovementOut",
    "CreditStatementOut",
    "WebhookAck",
]
OPERATIONS = [
    "get_account",
    "put_account",
    "mirror_mailbox",
    "register_payment_commitment",
    "put_partner",
    "top_up_partner_credit",
    "retry_payment_event",
    "list_price_lists",
    "publish_price_list",
    "list_reconciliation",
    "get_partner_credit",
    "receive_payment_webhook",
]
WEBHOOK = ("/v1/webhooks/payments/{provider}", "post")


@pytest.fixture(scope="module")
def document() -> dict[str, Any]:
    settings = Settings(
        environment=Environment.TEST,
        database_url="sqlite+aiosqlite://",
        auth_jwt_secret="contract-test-secret-0123456789abcdef",
    )
    return create_app(settings).openapi()


def _properties(where: str, schema: dict[str, Any]) -> Iterator[tuple[str, dict[str, Any]]]:
    for name, member in schema.get("properties", {}).items():
        yield f"{where}.{name}", member
        yield from _properties(f"{where}.{name}", member)


def test_every_property_is_described(document: dict[str, Any]) -> None:
    schemas = document["components"]["schemas"]
    members = [member for name in SCHEMAS for member in _properties(name, schemas[name])]
    body = document["paths"][WEBHOOK[0]][WEBHOOK[1]]["requestBody"]["content"]
    for event in body["application/json"]["schema"]["anyOf"]:
        members += _properties(event["title"], event)

    assert len(members) > 120
    assert [where for where, member in members if not member.get("description")] == []


def _has_example(media: dict[str, Any], schemas: dict[str, Any]) -> bool:
    ref = media.get("schema", {}).get("$ref", "")
    named = schemas.get(ref.rsplit("/", 1)[-1], {}) if ref else {}
    return bool(media.get("example") or media.get("examples") or named.get("examples"))


def test_every_operation_has_request_and_answer_examples(document: dict[str, Any]) -> None:
    schemas = document["components"]["schemas"]
    seen = set()
    for operations in document["paths"].values():
        for operation in operations.values():
            if operation["operationId"] not in OPERATIONS:
                continue
            seen.add(operation["operationId"])
            body = operation.get("requestBody", {}).get("content", {})
            assert all(_has_example(m, schemas) for m in body.values()), operation["operationId"]
            for status, response in operation["responses"].items():
                if status.startswith("2"):
                    media = response["content"]["application/json"]
                    assert _has_example(media, schemas), f"{operation['operationId']} {status}"
    assert seen == set(OPERATIONS)


def test_the_webhook_declares_its_body_and_signature_headers(document: dict[str, Any]) -> None:
    operation = document["paths"][WEBHOOK[0]][WEBHOOK[1]]
    headers = {p["name"] for p in operation["parameters"] if p["in"] == "header"}
    examples = operation["requestBody"]["content"]["application/json"]["examples"]

    assert {"Stripe-Signature", "webhook-id", "webhook-timestamp", "webhook-signature"} <= headers
    assert set(examples) == {"stripe", "generic"}
    assert {"400", "404", "503"} <= set(operation["responses"])
    assert "401" not in operation["responses"]  # the signature is the credential: a 400
