"""A fetched asyncpg record, read the way the shared mappers read an ORM row."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any


class AttributeRow:
    """Attribute access over a row's values (`row.status`), as app/db/mappers.py and
    app/db/order_documents.py expect of an ORM or Core row."""

    __slots__ = ("_values",)

    def __init__(self, values: Mapping[str, Any]) -> None:
        self._values = values

    def __getattr__(self, name: str) -> Any:
        try:
            return self._values[name]
        except KeyError:
            raise AttributeError(name) from None
