"""A fetched asyncpg record, read the way the shared mappers read an ORM row."""

from __future__ import annotations

from collections.abc import Mapping
from types import SimpleNamespace
from typing import Any


class AttributeRow(SimpleNamespace):
    """Attribute access over a row's values (`row.status`), as app/db/mappers.py and
    app/db/order_documents.py expect of an ORM or Core row.

    A namespace rather than a `__getattr__` over the mapping: the mappers read every
    column, and an instance attribute is found in C (a payment reads some 40)."""

    def __init__(self, values: Mapping[str, Any]) -> None:
        super().__init__(**values)
