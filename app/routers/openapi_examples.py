"""Examples in the contract as the schemas and routes write them, nulls included.

FastAPI renders its document with `exclude_none`, which also strips every `null` out of
the examples; but an answer's nullable fields are required, so an example without them
would no longer validate against its own schema. This puts back each model's
`json_schema_extra` examples and each route's declared response examples, verbatim.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from fastapi.routing import APIRoute
from pydantic import BaseModel


def restore_examples(document: dict[str, Any], routes: dict[str, APIRoute]) -> None:
    schemas = document.get("components", {}).get("schemas", {})
    for model in _app_models():
        extra = model.model_config.get("json_schema_extra")
        examples = extra.get("examples") if isinstance(extra, dict) else None
        for name in (model.__name__, f"{model.__name__}-Input", f"{model.__name__}-Output"):
            if examples and "examples" in schemas.get(name, {}):
                schemas[name]["examples"] = examples
    for operations in document["paths"].values():
        for operation in operations.values():
            route = routes[operation["operationId"]]
            for status, declared in route.responses.items():
                for media, spec in declared.get("content", {}).items():
                    rendered = operation["responses"][str(status)]["content"][media]
                    for key in ("example", "examples"):
                        if key in spec:
                            rendered[key] = spec[key]


def _app_models() -> Iterator[type[BaseModel]]:
    pending = list(BaseModel.__subclasses__())
    while pending:
        model = pending.pop()
        pending += model.__subclasses__()
        if model.__module__.startswith("app."):
            yield model
