"""Examples in the contract as they were written, nulls included.

FastAPI renders the document with `exclude_none=True` (fastapi/fastapi#5559), which drops
every `null` from every example too: an example of an answer with a nullable field
(`paid_at: null`, `next_cursor: null`) would lose the key and no longer match its own
schema. The examples are put back from where they are declared: a model's
`json_schema_extra`, a route's `responses`, a body's `openapi_examples` and a route's
`openapi_extra`.
"""

from __future__ import annotations

from collections.abc import Iterator
from copy import deepcopy
from typing import Any

from fastapi.routing import APIRoute
from pydantic import BaseModel

_KEYS = ("example", "examples")


def restore_examples(document: dict[str, Any], routes: dict[str, APIRoute]) -> None:
    _restore_model_examples(document.get("components", {}).get("schemas", {}))
    for operations in document["paths"].values():
        for operation in operations.values():
            _restore_operation_examples(operation, routes[operation["operationId"]])


def _restore_model_examples(schemas: dict[str, Any]) -> None:
    declared = {
        cls.__name__: extra["examples"]
        for cls in _models(BaseModel)
        if cls.__module__.startswith("app.")
        and isinstance(extra := cls.model_config.get("json_schema_extra"), dict)
        and "examples" in extra
    }
    for schema in schemas.values():
        examples = declared.get(schema.get("title", ""))
        if examples is not None and "examples" in schema:
            schema["examples"] = deepcopy(examples)


def _restore_operation_examples(operation: dict[str, Any], route: APIRoute) -> None:
    for status, declared in route.responses.items():
        rendered = operation["responses"].get(str(status), {}).get("content", {})
        _copy_examples(declared.get("content", {}), rendered)
    body = operation.get("requestBody", {}).get("content", {})
    field = route.body_field
    examples = getattr(field.field_info, "openapi_examples", None) if field else None
    if examples:
        _copy_examples({media: {"examples": examples} for media in body}, body)
    extra_body = (route.openapi_extra or {}).get("requestBody", {})
    _copy_examples(extra_body.get("content", {}), body)


def _copy_examples(declared: dict[str, Any], rendered: dict[str, Any]) -> None:
    for media, content in declared.items():
        if media in rendered:
            for key in _KEYS:
                if key in content:
                    rendered[media][key] = deepcopy(content[key])


def _models(cls: type[BaseModel]) -> Iterator[type[BaseModel]]:
    for sub in cls.__subclasses__():
        yield sub
        yield from _models(sub)
