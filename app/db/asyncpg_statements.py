"""SQLAlchemy Core statements compiled once to asyncpg's SQL, for plain asyncpg calls.

The hot path skips SQLAlchemy's execution layer (see app/db/quote_store.py), not its
metadata: its statements are built from the same tables and where-clauses as the
repositories, compiled to `$n` SQL, and their values converted as SQLAlchemy would
(JSON documents, UTC timestamps), so the two paths cannot drift apart.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from operator import itemgetter
from typing import Any

from sqlalchemy import ARRAY, BindParameter, ColumnElement, Select, case, literal
from sqlalchemy.dialects.postgresql.asyncpg import dialect as asyncpg_dialect
from sqlalchemy.sql.expression import Executable

from app.db.json_documents import dumps, loads
from app.db.visibility import VIEWER_SUBJECT
from app.domain.access import Principal, Role

# The engine's JSON codec (app/db/engine.py), so both paths write the same documents.
DIALECT = asyncpg_dialect(json_serializer=dumps, json_deserializer=loads)  # type: ignore[no-untyped-call]
Converter = Callable[[Any], Any]


class CompiledStatement:
    """`statement`'s SQL, its parameters in `$n` order, and its type conversions.

    A parameter built with a value (the role's literal in a visibility rule) keeps it
    unless given; one built without (`bindparam("ids")`) must be given.
    """

    def __init__(self, statement: Executable, column_keys: list[str] | None = None) -> None:
        compiled = statement.compile(dialect=DIALECT, column_keys=column_keys)  # type: ignore[attr-defined]
        self.sql = str(compiled)
        binds: dict[str, BindParameter[Any]] = compiled.binds
        self.parameters: tuple[str, ...] = tuple(compiled.positiontup or ())
        self.fixed = {
            name: binds[name].value for name in self.parameters if not binds[name].required
        }
        to_db = _present({name: _bind_processor(binds[name]) for name in self.parameters})
        # args(): the parameters picked in one C call, then converted where typed.
        self._pick: Callable[[Mapping[str, Any]], Any] = (
            itemgetter(*self.parameters) if self.parameters else _nothing
        )
        self._many = len(self.parameters) != 1
        self._conversions = tuple(
            (index, to_db[name]) for index, name in enumerate(self.parameters) if name in to_db
        )
        self.columns: tuple[str, ...] = ()
        self._from_db: dict[str, Converter] = {}
        if isinstance(statement, Select):
            selected = statement.selected_columns
            self.columns = tuple(selected.keys())
            self._from_db = _present(
                {
                    key: column.type.dialect_impl(DIALECT).result_processor(DIALECT, None)
                    for key, column in zip(self.columns, selected, strict=True)
                }
            )

    def args(self, values: Mapping[str, Any]) -> list[Any]:
        """The positional arguments, from `values` by name (names it doesn't use are
        ignored: the staff variant of a visibility rule has no subject)."""
        # Hot: a payment's one write has dozens of parameters. itemgetter picks them in
        # C, and only the few typed ones (JSON, timestamps) go through a converter.
        given = {**self.fixed, **values} if self.fixed else values
        try:
            picked = self._pick(given)
        except KeyError as missing:
            raise KeyError(f"the statement needs a value for {missing.args[0]!r}") from None
        out = list(picked) if self._many else [picked]
        for index, convert in self._conversions:
            out[index] = convert(out[index])
        return out

    def row(self, record: Mapping[str, Any]) -> dict[str, Any]:
        """A fetched record's values by column key, as SQLAlchemy would return them."""
        values = dict(record.items())
        for key, convert in self._from_db.items():
            values[key] = convert(values[key])
        return values


def fails_unless(condition: ColumnElement[bool]) -> ColumnElement[Any]:
    """1, or an error that aborts the statement and every write of its CTEs: plain SQL
    has no RAISE, but it has division by zero (asyncpg.DivisionByZeroError)."""
    return literal(1) // case((condition, 1), else_=0)


def per_role(build: Callable[[Principal], Executable]) -> dict[Role, CompiledStatement]:
    """`build(principal)` compiled once per role; the principal's subject is the
    parameter VIEWER_SUBJECT, given when the statement runs."""
    compiled = {}
    for role in Role:
        statement = CompiledStatement(build(Principal(role, _PLACEHOLDER)))
        baked = [name for name, value in statement.fixed.items() if value == _PLACEHOLDER]
        if baked and baked != [VIEWER_SUBJECT]:
            # The subject was written into the SQL as a literal: every caller would
            # get the placeholder's rows. Fail at import, not with someone's data.
            raise RuntimeError(f"the viewer's subject is bound as {baked}, not {VIEWER_SUBJECT}")
        compiled[role] = statement
    return compiled


_PLACEHOLDER = "\x00viewer"


def _bind_processor(bind: BindParameter[Any]) -> Converter | None:
    """SQLAlchemy's conversion of the value for asyncpg; None where there is nothing to
    convert. An array of plain items is such a case: asyncpg takes a list or a tuple as
    it is, and SQLAlchemy's processor would only copy it (item by item)."""
    impl = bind.type.dialect_impl(DIALECT)
    if (
        isinstance(impl, ARRAY)
        and impl.item_type.dialect_impl(DIALECT).bind_processor(DIALECT) is None
    ):
        return None
    return impl.bind_processor(DIALECT)


def _nothing(_values: Mapping[str, Any]) -> tuple[()]:
    return ()


def _present(converters: dict[str, Converter | None]) -> dict[str, Converter]:
    return {name: convert for name, convert in converters.items() if convert is not None}
