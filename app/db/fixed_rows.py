"""Array parameters as rows, in a number PostgreSQL knows when it plans.

A prepared statement is planned for its parameters' values five times; then PostgreSQL
keeps one generic plan, unless that plan's estimate is dearer than the custom ones'.
`unnest($1)` of an array parameter is guessed at 10 rows in a generic plan, where an
order has one mailbox: the guess made it dearer, and the statement was planned again at
every call, which cost PostgreSQL about as much CPU as running it (issue 10,
docs/benchmarks.md). A statement already built for a number of rows reads element i of
each array for i in `generate_series(1, n)`, n written into its SQL: the count is exact,
the generic plan is no dearer, and PostgreSQL keeps it.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sqlalchemy import bindparam, func, literal_column, select
from sqlalchemy.dialects import postgresql
from sqlalchemy.sql.elements import Grouping
from sqlalchemy.types import TypeEngine


def fixed_rows(arrays: Mapping[str, TypeEngine[Any]], count: int, name: str) -> Any:
    """A subquery `name` of `count` rows, column k of row i the i-th element of the array
    parameter k (given as unnest would take it: one list per column)."""
    series = (
        func.generate_series(literal_column("1"), literal_column(str(int(count))))
        .table_valued("i")
        .render_derived(name=f"{name}_i")
    )
    # In parentheses: `$1::VARCHAR[][i]` would read [i] as part of the type.
    elements = (
        Grouping(bindparam(key, type_=postgresql.ARRAY(kind)))[series.c.i].label(key)
        for key, kind in arrays.items()
    )
    return select(*elements).select_from(series).subquery(name)
