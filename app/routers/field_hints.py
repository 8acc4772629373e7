"""What a field error's message needs to say the fix: allowed values, ranges, formats.

pydantic's error context carries the raw facts (the enum's values, one bound, a regular
expression); this module turns them into params the messages of app/routers/messages.py
fill in. A regular expression means nothing to a customer, so each pattern the schemas
use has a description in words here (a test fails when a new one is missing).
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from datetime import date
from typing import Annotated, Any, Union, get_args, get_origin

import annotated_types
from fastapi.routing import APIRoute
from pydantic import BaseModel
from pydantic.fields import FieldInfo

from app.routers.messages import Localized

# Regular expressions of the schemas → the format in words, with an example.
FORMATS: dict[str, Localized] = {
    r"^\d{5}$": Localized("5 cifre, ad es. 00100", "5 digits, e.g. 00100"),
    r"^[A-Za-z]{2}$": Localized("2 lettere, ad es. RM", "2 letters, e.g. RM"),
    r"^[^@\s]+@[^@\s]+\.[^@\s]+$": Localized(
        "un indirizzo email, ad es. nome@esempio.it", "an email address, e.g. name@example.it"
    ),
    r"^[!-?A-~]+@[!-?A-~]+\.[!-?A-~]+$": Localized(
        "un indirizzo email ASCII, ad es. nome@esempio.it",
        "an ASCII email address, e.g. name@example.it",
    ),
    r"^[A-Za-z0-9._:@-]+$": Localized(
        "lettere, cifre e . _ : @ - senza spazi", "letters, digits and . _ : @ - with no spaces"
    ),
    r"^[ -~]+$": Localized("caratteri ASCII stampabili", "printable ASCII characters"),
    r"^-?\d+\.\d{2}$": Localized(
        "un importo con 2 decimali, ad es. 113.46", "an amount with 2 decimals, e.g. 113.46"
    ),
    r"^\d{1,7}\.\d{2}$": Localized(
        "un importo con 2 decimali, ad es. 113.46", "an amount with 2 decimals, e.g. 113.46"
    ),
    r"^[A-Z0-9][A-Z0-9_-]{0,31}$": Localized(
        "fino a 32 lettere maiuscole, cifre, _ o -, ad es. STANDARD",
        "up to 32 capital letters, digits, _ or -, e.g. STANDARD",
    ),
    r"^[A-Z0-9][A-Z0-9_-]{0,63}$": Localized(
        "fino a 64 lettere maiuscole, cifre, _ o -, ad es. CONV2026",
        "up to 64 capital letters, digits, _ or -, e.g. CONV2026",
    ),
    r"^\d(\.\d{1,6})?$": Localized(
        "un'aliquota come 0.22 (al massimo 6 decimali)", "a rate like 0.22 (at most 6 decimals)"
    ),
    r"^[!-~](?:[ -~]*[!-~])?$": Localized(
        "da 1 a 255 caratteri ASCII stampabili, senza spazi all'inizio o alla fine",
        "1 to 255 printable ASCII characters, no space at either end",
    ),
    r"^\d+$": Localized("solo cifre, ad es. 42", "digits only, e.g. 42"),
    r"^0+\.00$": Localized("un importo pari a zero", "an amount of zero"),
    r"^2[01]\d\d-": Localized(
        "una data tra il 2000 e il 2199, AAAA-MM-GG", "a date from 2000 to 2199, YYYY-MM-DD"
    ),
    r"^(200[1-9]|20[1-9]\d|21[0-8]\d|219[0-8])-": Localized(
        "data e ora ISO 8601 tra il 2001 e il 2198", "an ISO 8601 date and time, 2001 to 2198"
    ),
    r"^(0(\.\d{1,4}0{0,2})?|1(\.0{1,6})?)$": Localized(
        "un'aliquota da 0 a 1, al passo di 0.0001, ad es. 0.22",
        "a rate from 0 to 1, to the nearest 0.0001, e.g. 0.22",
    ),
    r"^[^\x00-\x1f\x7f-\x9f]*[^\s\x00-\x1f\x7f-\x9f][^\x00-\x1f\x7f-\x9f]*$": Localized(
        "un testo non vuoto senza caratteri di controllo",
        "a non-blank text without control characters",
    ),
    r"^[^@\s\x00-\x1f\x7f-\x9f]+@[^@\s\x00-\x1f\x7f-\x9f]+\.[^@\s\x00-\x1f\x7f-\x9f]+$": Localized(
        "un indirizzo email, ad es. nome@esempio.it", "an email address, e.g. name@example.it"
    ),
}

# pydantic error types (by prefix) → the type the field wants, in words.
_TYPES: tuple[tuple[tuple[str, ...], Localized], ...] = (
    (("int_",), Localized("un numero intero", "a whole number")),
    (("string_",), Localized("un testo", "a string")),
    (("bool_",), Localized("true o false", "true or false")),
    (("model_", "dict_", "dataclass_"), Localized("un oggetto", "an object")),
    (("list_", "tuple_", "set_"), Localized("una lista", "a list")),
    (("decimal_", "float_"), Localized("un numero", "a number")),
    (("datetime_",), Localized("data e ora ISO 8601", "an ISO 8601 date and time")),
    (("date_",), Localized("una data AAAA-MM-GG", "a date YYYY-MM-DD")),
)


def hint_params(
    kind: str, context: Mapping[str, Any], bounds: Mapping[str, Any] | None = None
) -> dict[str, Any]:
    """The params a message needs for pydantic error `kind`; `bounds` are the field's own
    constraints (ge/le…), since the error names only the bound that was crossed."""
    if kind in ("enum", "literal_error"):
        allowed = re.findall(r"'([^']*)'", str(context.get("expected", "")))
        return {"allowed": ", ".join(allowed)} if allowed else {}
    if kind in ("greater_than", "greater_than_equal", "less_than", "less_than_equal"):
        return _range({**(bounds or {}), **context})
    if kind == "string_too_long":
        return {"max_length": context.get("max_length", "")}
    if kind == "string_pattern_mismatch":
        described = FORMATS.get(str(context.get("pattern", "")))
        return {"format": described} if described else {}
    if kind.endswith(("_type", "_parsing")) or kind == "int_from_float":
        for prefixes, expected in _TYPES:
            if kind.startswith(prefixes):
                return {"expected": expected}
    return {k: v for k, v in context.items() if isinstance(v, int | str)}


def _range(constraints: Mapping[str, Any]) -> dict[str, Any]:
    low = constraints.get("ge", _step(constraints.get("gt"), 1))
    high = constraints.get("le", _step(constraints.get("lt"), -1))
    params = {}
    if low is not None:
        params["min"] = _shown(low)
    if high is not None:
        params["max"] = _shown(high)
    return params


def _step(bound: Any, by: int) -> Any:
    # An exclusive integer bound reads better as the inclusive one (gt=0 → at least 1).
    return bound + by if isinstance(bound, int) else bound


def _shown(value: Any) -> Any:
    return value.isoformat() if isinstance(value, date) else value


def field_bounds(route: APIRoute | None, location: Sequence[Any]) -> dict[str, Any]:
    """The ge/gt/le/lt constraints declared on the field at `location` (pydantic's `loc`),
    found through the route's parameters and body model; empty when not found."""
    if route is None or not location:
        return {}
    where, path = location[0], list(location[1:])
    dependant = route.dependant
    params = {
        "query": dependant.query_params,
        "path": dependant.path_params,
        "header": dependant.header_params,
    }.get(str(where))
    if params is not None:
        info = next((p.field_info for p in params if path and p.alias == path[0]), None)
        return _bounds_of(info.metadata) if info else {}
    if where == "body" and route.body_field is not None:
        return _bounds_in(route.body_field.field_info.annotation, path)
    return {}


def _bounds_in(annotation: Any, path: list[Any]) -> dict[str, Any]:
    metadata: list[Any] = []
    for part in path:
        annotation, extra = _unwrap(annotation)
        if isinstance(part, int):
            args = get_args(annotation)
            annotation, metadata = (args[0] if args else None), []
        elif isinstance(annotation, type) and issubclass(annotation, BaseModel):
            field = _model_field(annotation, str(part))
            if field is None:
                return {}
            annotation, metadata = field.annotation, list(field.metadata)
        else:
            return {}
    _, extra = _unwrap(annotation)
    return _bounds_of([*metadata, *extra])


def _model_field(model: type[BaseModel], name: str) -> FieldInfo | None:
    for field_name, field in model.model_fields.items():
        if name in (field_name, field.alias):
            return field
    return None


def _unwrap(annotation: Any) -> tuple[Any, list[Any]]:
    """Strip Optional and Annotated, keeping Annotated's constraints."""
    extra: list[Any] = []
    while True:
        origin = get_origin(annotation)
        if origin is Annotated:
            annotation, *more = get_args(annotation)
            extra += more
        elif origin is Union or type(annotation).__name__ == "UnionType":
            present = [a for a in get_args(annotation) if a is not type(None)]
            if len(present) != 1:
                return annotation, extra
            annotation = present[0]
        else:
            return annotation, extra


def _bounds_of(metadata: Sequence[Any]) -> dict[str, Any]:
    bounds: dict[str, Any] = {}
    for item in metadata:
        if isinstance(item, FieldInfo):
            bounds.update(_bounds_of(item.metadata))
        for name in ("gt", "ge", "lt", "le"):
            value = getattr(item, name, None)
            if value is not None and isinstance(item, annotated_types.BaseMetadata):
                bounds[name] = value
    return bounds
