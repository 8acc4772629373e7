"""Field types shared by the v1 schemas: identifiers and codes that are safe to store.

Identifiers are printable ASCII without spaces and codes printable ASCII: nothing a
database or a log could choke on (a NUL byte, say) reaches either.
"""

from __future__ import annotations

import re
from typing import Annotated

from fastapi import Path
from pydantic import AfterValidator, BeforeValidator, Field, JsonValue, StringConstraints
from pydantic_core import PydanticCustomError

ID_PATTERN = r"^[A-Za-z0-9._:@-]+$"
_ID = re.compile(ID_PATTERN)

Identifier = Annotated[str, StringConstraints(min_length=1, max_length=64, pattern=ID_PATTERN)]
Code = Annotated[str, StringConstraints(min_length=1, max_length=64, pattern=r"^[ -~]+$")]
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]")
# The same rule in the contract, so a generated client (and a fuzzer) knows it: no
# control character, and at least one character that isn't a space (text is stripped).
TEXT_PATTERN = r"^[^\x00-\x1f\x7f-\x9f]*[^\s\x00-\x1f\x7f-\x9f][^\x00-\x1f\x7f-\x9f]*$"


def _whole_number(value: object) -> object:
    # JSON Schema's `integer` includes 1.0 (a number with no fraction); strict pydantic
    # would refuse it, so a whole float becomes the int it is. 1.5 stays a float: refused.
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return value


# Dates and timestamps the calendar arithmetic handles safely (2000–2199): JSON Schema
# can't bound a date, a pattern on its year can. Timestamps keep a day's margin for
# their offset.
DATE_IN_RANGE: dict[str, JsonValue] = {"pattern": r"^2[01]\d\d-"}
TIMESTAMP_IN_RANGE: dict[str, JsonValue] = {"pattern": r"^(200[1-9]|20[1-9]\d|21[0-8]\d|219[0-8])-"}

# Integers in a request body: 3 or 3.0, never "3" or 3.5. The bounds go inside the
# Annotated, before the validator, so the contract shows them as minimum/maximum.
WholeNumber = BeforeValidator(_whole_number)
Years = Annotated[int, Field(ge=1, le=5), WholeNumber]
ExtraGigabytes = Annotated[int, Field(ge=0, le=1000), WholeNumber]
UsedMegabytes = Annotated[int, Field(ge=0, le=10_000_000), WholeNumber]


def _no_control_characters(value: str) -> str:
    # PostgreSQL refuses NUL in text and JSON; the others garble emails and invoices.
    if _CONTROL.search(value):
        raise PydanticCustomError("control_characters", "control characters are not allowed")
    return value


# For any other string a client sends that has no tighter pattern (an email, a tax code).
NoControlCharacters = AfterValidator(_no_control_characters)
# Free text a person typed (a name, an address): any script, no control characters.
# (The pattern is the contract's statement of the two checks; the checks themselves
# answer with their own codes: `control_characters`, `required`.)
TextInContract = Field(json_schema_extra={"pattern": TEXT_PATTERN})
Text = Annotated[
    str,
    StringConstraints(strip_whitespace=True, min_length=1, max_length=200),
    NoControlCharacters,
    TextInContract,
]
# The same, for the narrower name columns (a plan's, a signature kit's).
ShortText = Annotated[
    str,
    StringConstraints(strip_whitespace=True, min_length=1, max_length=120),
    NoControlCharacters,
    TextInContract,
]
# A new resource's id, chosen by the caller (the mail platform's mailbox id).
NewIdInPath = Annotated[
    str,
    Path(
        min_length=1,
        max_length=64,
        pattern=ID_PATTERN,
        description="The id to create or replace: 1–64 of A–Z a–z 0–9 . _ : @ -",
    ),
]
# An existing resource's id: anything that can't be an id is simply not found.
IdInPath = Annotated[
    str, Path(max_length=200, description="The resource's `id`, as an answer gave it.")
]


def is_identifier(value: str) -> bool:
    return len(value) <= 64 and _ID.fullmatch(value) is not None
