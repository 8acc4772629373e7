"""How a router asks for idempotency and sends back the answer the helper kept."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import orjson
from pydantic import BaseModel
from starlette.responses import JSONResponse

from app.domain.access import Principal
from app.services.idempotency import Answer, IdempotentRequest, fingerprint


def idempotent_request(
    owner: Principal,
    operation: str,
    key: str | None,
    body: BaseModel,
    path_params: Mapping[str, str] | None = None,
) -> IdempotentRequest:
    """The request as validated, defaults left out: what "the same body" is judged on.
    Hashed only under a key: without one there is nothing to compare it with (and a
    quote, most often sent without, saves the work)."""
    if key is None:
        return IdempotentRequest(owner, operation, None, None)
    canonical = {**body.model_dump(mode="json", exclude_defaults=True), **(path_params or {})}
    return IdempotentRequest(owner, operation, key, fingerprint(canonical))


def answer_response(answer: Answer, headers: Mapping[str, str] | None = None) -> JSONResponse:
    """The first answer, or its replay: the same status and the same bytes."""
    response = _SortedJSONResponse(answer.body, status_code=answer.status_code)
    response.headers.update(headers or {})
    if answer.replayed:
        response.headers["Idempotent-Replayed"] = "true"
    return response


class _SortedJSONResponse(JSONResponse):
    # The stored copy is JSONB, which keeps no key order: sorting keys makes the first
    # answer and its replays byte for byte the same.
    def render(self, content: Any) -> bytes:
        return orjson.dumps(content, option=orjson.OPT_SORT_KEYS | orjson.OPT_NON_STR_KEYS)
