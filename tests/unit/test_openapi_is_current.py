"""The committed contract is the served contract."""

from __future__ import annotations

from scripts.export_openapi import OPENAPI_FILE, current_openapi, render


def test_openapi_json_matches_the_app() -> None:
    committed = OPENAPI_FILE.read_text(encoding="utf-8")
    assert committed == render(current_openapi()), (
        "openapi/openapi.json is stale: run `make openapi` and commit it"
    )


def test_every_operation_has_a_stable_operation_id() -> None:
    document = current_openapi()
    operation_ids = [
        operation["operationId"]
        for path in document["paths"].values()
        for operation in path.values()
    ]
    assert len(operation_ids) == len(set(operation_ids))
    assert all("__" not in op_id for op_id in operation_ids)  # not FastAPI's generated ones
