"""The OpenAPI document as a frontend team relies on it: codes, examples, problems, inputs."""

from __future__ import annotations

import ast
import importlib
import pkgutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import jsonschema
import pytest
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT202012

import app
from app.domain.errors import DomainError
from app.main import create_app
from app.routers.problem_codes import FIELD_CODES, PROBLEM_CODES
from app.routers.problems import _PYDANTIC_CODES
from app.settings import Environment, Settings

APP_DIR = Path(app.__file__).parent
DOCUMENT_URI = "urn:pec-renewal:openapi"


@pytest.fixture(scope="module")
def document() -> dict[str, Any]:
    settings = Settings(
        environment=Environment.TEST,
        database_url="sqlite+aiosqlite://",
        auth_jwt_secret="contract-test-secret-0123456789abcdef",
    )
    return create_app(settings).openapi()


# --- every code the server can emit is in the enums ----------------------------------


def _calls(name: str) -> Iterator[ast.Call]:
    for path in APP_DIR.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Call):
                func = node.func
                called = func.id if isinstance(func, ast.Name) else getattr(func, "attr", None)
                if called == name:
                    yield node


def _literal(node: ast.Call, index: int) -> str | None:
    arg = node.args[index] if len(node.args) > index else None
    if isinstance(arg, ast.Constant):
        return arg.value if isinstance(arg.value, str) else None
    return None


def _domain_error_codes() -> set[str]:
    for module in pkgutil.walk_packages([str(APP_DIR)], prefix="app."):
        importlib.import_module(module.name)
    found: set[str] = set()
    pending = [DomainError]
    while pending:
        cls = pending.pop()
        pending += cls.__subclasses__()
        if isinstance(cls.__dict__.get("code"), str) and cls is not DomainError:
            found.add(cls.__dict__["code"])
    return found


def test_every_problem_code_the_server_raises_is_in_the_enum() -> None:
    raised = _domain_error_codes()
    raised |= {code for call in _calls("ProblemError") if (code := _literal(call, 1))}
    raised |= {code for call in _calls("problem_response") if (code := _literal(call, 2))}
    raised |= {code for call in _calls("_send_problem") if (code := _literal(call, 3))}
    # ResourceNotFound("quote", …) answers `quote_not_found`.
    raised |= {f"{kind}_not_found" for c in _calls("ResourceNotFound") if (kind := _literal(c, 0))}
    # MailboxNotRenewable(status) for the two statuses that can't renew.
    raised |= {"mailbox_deleted", "mailbox_suspended"}

    assert {"quote_not_found", "forbidden", "invalid_signature", "quote_expired"} <= raised
    assert raised - set(PROBLEM_CODES) == set()


def test_every_field_code_the_server_raises_is_in_the_enum() -> None:
    raised = {code for call in _calls("FieldError") if (code := _literal(call, 1))}
    raised |= set(_PYDANTIC_CODES.values()) | {"invalid_type", "invalid_value"}
    # Problems that also name their field (problems.py), and computed codes.
    raised |= {
        "convention_code_invalid",
        "idempotency_key_reused",
        "idempotency_key_required",
        "credit_limit_exceeded",
        "mailbox_address_taken",
        "unknown_owner",
        "acknowledgement_required",
        "consent_required",
        "quote_expired",
        "quote_blocked",
        "mailbox_not_found",
        "invalid_cursor",
        "einvoicing_identifier_required",
        "einvoicing_ambiguous",
        "holder_required",
        "holders_on_file_differ",
        "frequency_not_allowed",
    }

    assert {"invalid_codice_fiscale", "overlapping_dates", "unknown_plan"} <= raised
    assert raised - set(FIELD_CODES) == set()


def test_every_listed_code_has_a_message() -> None:
    from app.routers.messages import _MESSAGES

    assert (set(PROBLEM_CODES) | set(FIELD_CODES)) - set(_MESSAGES) <= {
        "unsupported_media_type"  # its message comes with the 415 handling
    }


def test_problem_codes_are_an_enum_in_the_contract(document: dict[str, Any]) -> None:
    schemas = document["components"]["schemas"]
    assert schemas["Problem"]["properties"]["code"]["enum"] == list(PROBLEM_CODES)
    assert schemas["FieldProblem"]["properties"]["code"]["enum"] == list(FIELD_CODES)
    assert "order_id" not in schemas["Problem"]["required"]


# --- errors, inputs, keywords ---------------------------------------------------------


def _operations(document: dict[str, Any]) -> Iterator[tuple[str, dict[str, Any]]]:
    for path, operations in document["paths"].items():
        for method, operation in operations.items():
            yield f"{method.upper()} {path}", operation


def test_every_error_is_problem_json_with_the_problem_schema_only(
    document: dict[str, Any],
) -> None:
    for name, operation in _operations(document):
        for status, response in operation["responses"].items():
            if int(status) >= 400:
                assert response["content"] == {
                    "application/problem+json": {"schema": {"$ref": "#/components/schemas/Problem"}}
                }, f"{name} {status}"
                assert response["headers"]["X-Request-ID"]["required"], f"{name} {status}"


def test_public_operations_list_no_401_and_authenticated_ones_do(
    document: dict[str, Any],
) -> None:
    public = {"get_price_list", "healthz", "readyz", "metrics", "receive_payment_webhook"}
    for name, operation in _operations(document):
        has_401 = "401" in operation["responses"]
        assert has_401 is (operation["operationId"] not in public), name


def test_money_moving_operations_require_an_idempotency_key(document: dict[str, Any]) -> None:
    for path, method in (
        ("/v1/orders", "post"),
        ("/v1/admin/partners/{partner_id}/credit", "post"),
    ):
        operation = document["paths"][path][method]
        (key,) = [p for p in operation["parameters"] if p["name"] == "Idempotency-Key"]
        assert key["required"] is True
        assert "428" in operation["responses"]


def test_request_schemas_do_not_require_fields_that_have_defaults(
    document: dict[str, Any],
) -> None:
    schemas = document["components"]["schemas"]
    assert "acknowledge_archive_deletion" not in schemas["OrderIn"].get("required", [])
    assert "country" not in schemas["HolderIn"].get("required", [])
    assert "extra_mailbox_gb" not in schemas["MailboxMirrorIn"].get("required", [])
    for name, schema in schemas.items():
        if not name.endswith(("In", "-Input")):
            continue  # an answer always carries its defaulted fields: required there
        for field, spec in schema.get("properties", {}).items():
            if "default" in spec:
                assert field not in schema.get("required", []), f"{name}.{field}"


def _walk(node: Any, where: str = "") -> Iterator[tuple[str, dict[str, Any]]]:
    if isinstance(node, dict):
        yield where, node
        for key, value in node.items():
            yield from _walk(value, f"{where}/{key}")
    elif isinstance(node, list):
        for index, value in enumerate(node):
            yield from _walk(value, f"{where}/{index}")


def test_no_pydantic_only_keyword_leaks_into_a_schema(document: dict[str, Any]) -> None:
    # `ge`/`le` are not JSON Schema: a bound written so would not bind any client.
    for where, node in _walk(document["components"]):
        assert not {"ge", "le", "gt", "lt"} & set(node), where


def test_a_quote_status_can_read_expired(document: dict[str, Any]) -> None:
    status = document["components"]["schemas"]["QuoteOut"]["properties"]["status"]
    assert status["enum"] == ["ok", "blocked", "expired"]


# --- examples -----------------------------------------------------------------------


def _validator(document: dict[str, Any], schema: dict[str, Any]) -> jsonschema.Validator:
    registry: Registry[Any] = Registry().with_resource(
        DOCUMENT_URI, Resource.from_contents(document, default_specification=DRAFT202012)
    )
    return jsonschema.Draft202012Validator(_rebase(schema), registry=registry)


def _rebase(schema: Any) -> Any:
    """Point local `#/components/...` refs at the whole document in the registry."""
    if isinstance(schema, dict):
        return {
            key: (
                f"{DOCUMENT_URI}{value}"
                if key == "$ref" and value.startswith("#")
                else _rebase(value)
            )
            for key, value in schema.items()
        }
    if isinstance(schema, list):
        return [_rebase(value) for value in schema]
    return schema


def _examples(document: dict[str, Any]) -> Iterator[tuple[str, dict[str, Any], Any]]:
    """(where, schema, example) for every example the document holds."""
    for where, node in _walk(document):
        if "/properties/" in where and where.rsplit("/", 1)[-1] in ("examples", "example"):
            continue  # a property *named* examples
        schema = node.get("schema") if "schema" in node else None
        if schema is not None:  # a media type or a parameter
            for name, example in (node.get("examples") or {}).items():
                yield f"{where}/examples/{name}", schema, example["value"]
            if "example" in node:
                yield f"{where}/example", schema, node["example"]
        elif isinstance(node.get("examples"), list) and ("type" in node or "properties" in node):
            for index, example in enumerate(node["examples"]):
                yield f"{where}/examples/{index}", node, example


def test_every_example_in_the_document_validates_against_its_schema(
    document: dict[str, Any],
) -> None:
    found = list(_examples(document))
    assert len(found) > 20
    failures = []
    for where, schema, example in found:
        errors = list(_validator(document, schema).iter_errors(example))
        if errors:
            failures.append(f"{where}: {errors[0].message}")
    assert failures == []


def test_an_invalid_example_would_be_caught(document: dict[str, Any]) -> None:
    schema = {"$ref": "#/components/schemas/QuoteIn"}
    assert list(_validator(document, schema).iter_errors({"years": 9, "items": []}))


def test_every_operation_and_parameter_is_described(document: dict[str, Any]) -> None:
    for name, operation in _operations(document):
        assert operation.get("description"), name
        for parameter in operation.get("parameters", []):
            assert parameter.get("description"), f"{name} {parameter['name']}"


def test_the_document_names_its_servers(document: dict[str, Any]) -> None:
    assert [server["url"] for server in document["servers"]] == ["/", "http://127.0.0.1:8000"]


def test_issue_codes_are_an_enum_of_every_rule(document: dict[str, Any]) -> None:
    from app.domain.issues import Issue

    code = document["components"]["schemas"]["IssueOut"]["properties"]["code"]
    assert set(code["enum"]) == {rule.code for rule in Issue.__subclasses__()}
    assert all(f"`{value}`" in code["description"] for value in code["enum"])


def test_examples_keep_their_nulls(document: dict[str, Any]) -> None:
    # FastAPI renders with exclude_none: a required nullable field would vanish.
    quote = document["components"]["schemas"]["QuoteOut"]["examples"][0]
    cancel = document["paths"]["/v1/orders/{order_id}/cancel"]["post"]["responses"]["200"]
    assert quote["signature_kit"] is None
    assert cancel["content"]["application/json"]["example"]["paid_at"] is None


# --- descriptions and examples everywhere ----------------------------------------------


def _has_example(document: dict[str, Any], media: dict[str, Any]) -> bool:
    """An example on the media type, or on the component schema it refers to."""
    if "example" in media or media.get("examples"):
        return True
    ref = media.get("schema", {}).get("$ref", "")
    return bool(ref) and bool(
        document["components"]["schemas"][ref.rsplit("/", 1)[1]].get("examples")
    )


def test_every_property_has_a_description(document: dict[str, Any]) -> None:
    undescribed = [
        f"{name}.{prop}"
        for name, schema in document["components"]["schemas"].items()
        for prop, spec in schema.get("properties", {}).items()
        if not spec.get("description")
    ]
    assert undescribed == []


def test_every_operation_has_examples(document: dict[str, Any]) -> None:
    missing = []
    for name, operation in _operations(document):
        body = operation.get("requestBody")
        if body and not all(_has_example(document, m) for m in body["content"].values()):
            missing.append(f"{name}: request body")
        answers = [
            media
            for status, response in operation["responses"].items()
            if status.startswith("2")
            for media in response.get("content", {}).values()
        ]
        if not answers or not all(_has_example(document, media) for media in answers):
            missing.append(f"{name}: 2xx response")
    assert missing == []
