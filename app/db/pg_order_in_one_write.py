"""A customer's order in two round trips: one read, then one write that is all or nothing.

The transactional path (LeanUnitOfWork) places an order in five: BEGIN, the key claimed
with the quote read, the order written holding and locking its mailboxes, the answer and
email queued, COMMIT. Here, on a pooled connection without a transaction:

1. `read`: the key's earlier answer, the quote (language, holders on file) and its
   mailboxes with their row versions (`xmin`), and the order's number reserved.
2. `write`: ONE statement, hence atomic: the key claimed with its answer, the order, its
   holds, its mailboxes locked and found unchanged since the read, and the email queued.

Given the process's memories (app/db/order_memory.py, app/db/mailbox_memory.py), `recall`
gives the same facts as `read` for a quote this process stored, without a round trip:
the order is then ONE statement, whose write also checks the account's language. And
each write reserves an order number for a later `recall` while the memory wants one.

The write takes its locks in the transactional path's order (key, order, holds,
mailboxes), so the two never wait on each other crosswise. When anything moved between
the two round trips (a key or quote used meanwhile, a mailbox held or changed, a
deadlock), the write fails as a whole and `write` answers False: the caller places the
order on the transactional path instead, which decides what the request gets.

The statements are built from the same tables, columns and mappers as the transactional
path's (pg_quote_repository, pg_order_repository, pg_idempotency_repository,
pg_outbox_repository), compiled once.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass
from functools import cache
from typing import Any, cast

import asyncpg
from sqlalchemy import (
    String,
    Table,
    and_,
    any_,
    bindparam,
    func,
    literal_column,
    select,
    true,
)
from sqlalchemy.dialects import postgresql
from sqlalchemy.ext.asyncio import AsyncEngine
from sqlalchemy.sql.expression import Select

from app.db.asyncpg_statements import CompiledStatement, fails_unless, per_role
from app.db.fixed_rows import fixed_rows
from app.db.group_commit import GroupCommit, RowWrites, WritesAlone
from app.db.mappers import (
    MAILBOX_COLUMNS,
    MAILBOX_FIELDS,
    MAILBOX_ROW_VERSION,
    mailbox_from_values,
)
from app.db.models import IdempotencyRecordRow, MailboxRow, OrderRow, PendingRenewalRow, QuoteRow
from app.db.order_documents import order_to_values
from app.db.pg_idempotency_repository import CLAIMED, EarlierClaim, claim_values
from app.db.pg_outbox_repository import QUEUED_COLUMNS, insert_messages, message_values
from app.db.pg_quote_repository import HOLDERS_ON_FILE, LANGUAGE, QUOTE_ITEM, found_quote
from app.db.pg_quote_store import ACCOUNT_LANGUAGE
from app.db.placed_order_memory import PlacedOrder
from app.db.pooled_connection import KeptConnection, autocommit_connection
from app.db.process_memory import ProcessMemory
from app.db.quote_repository import QUOTE_RECORD_COLUMNS
from app.db.visibility import VIEWER_SUBJECT, quotes_visible_to
from app.domain.access import Principal
from app.domain.idempotency_identity import IdempotencyClaim
from app.domain.mailbox import Mailbox
from app.domain.order_aggregate import Order
from app.domain.outgoing_message import OutgoingMessage
from app.domain.quote_record import QuoteToOrder

_RECORDS = cast(Table, IdempotencyRecordRow.__table__)
_ORDERS = cast(Table, OrderRow.__table__)
_MAILBOX = "mailbox_"  # prefix of the mailbox columns beside the quote's
_MAILBOX_KEYS = tuple((f"{_MAILBOX}{name}", name) for name in MAILBOX_FIELDS)
_EARLIER = "earlier_"  # prefix of the earlier answer's columns
_VERSION = "mailbox_version"
_RESERVED = "reserved_seq"
_ORDER_VERSION = "order_version"
_ORDER_SEQUENCE = func.pg_get_serial_sequence(_ORDERS.name, _ORDERS.c.seq.name)


@dataclass(frozen=True, slots=True)
class OrderFacts:
    """What `read` found: the earlier answer to the key, or the quote to order (None:
    no such quote), its mailboxes as they stand, their versions and the order's number.
    Or what `recall` remembered of them (`recalled`; no earlier answer looked for)."""

    earlier: EarlierClaim | None
    found: QuoteToOrder | None
    mailboxes: dict[str, Mailbox]
    versions: dict[str, str]
    seq: int
    recalled: bool = False


def _read(with_holders: bool) -> Any:
    def build(viewer: Principal) -> Select[Any]:
        identity = [
            _RECORDS.c[name] == bindparam(f"identity_{name}")
            for name in ("owner_role", "owner_id", "operation", "key")
        ]
        earlier = (
            select(
                *(
                    _RECORDS.c[name].label(f"{_EARLIER}{name}")
                    for name in ("fingerprint", "status_code", "body")
                )
            )
            .where(*identity)
            .subquery("earlier")
        )
        # In FROM, not in the select list: evaluated once, not once per mailbox row.
        reserved = select(func.nextval(_ORDER_SEQUENCE).label(_RESERVED)).subquery("reserved")
        visible = and_(QuoteRow.id == bindparam("quote_id"), quotes_visible_to(viewer))
        # The quote's mailbox ids as an array first (LATERAL: once the quote is read),
        # so that the primary key finds them whatever the planner guesses of the
        # quote's items: as a join on them, it scanned every mailbox per order.
        ids = func.array(select(QUOTE_ITEM["mailbox_id"].astext).scalar_subquery())
        of_quote = (
            select(
                *(column.label(f"{_MAILBOX}{column.key}") for column in MAILBOX_COLUMNS),
                MAILBOX_ROW_VERSION.label(_VERSION),
            )
            .where(MailboxRow.id == any_(ids))
            .lateral("of_quote")
        )
        extra = (LANGUAGE, HOLDERS_ON_FILE) if with_holders else (LANGUAGE,)
        return select(
            reserved.c[_RESERVED], *earlier.c, *QUOTE_RECORD_COLUMNS, *extra, *of_quote.c
        ).select_from(
            reserved.outerjoin(earlier, true())
            .outerjoin(QuoteRow, visible)
            .outerjoin(of_quote, true())
        )

    return per_role(build)


_READ = {with_holders: _read(with_holders) for with_holders in (False, True)}


@cache
def _write(mailboxes: int, messages: int, recalled: bool, reserve: bool) -> CompiledStatement:
    """The write of `mailboxes` mailboxes and `messages` messages; each CTE reads the one
    before, which makes PostgreSQL take their locks in that order. `recalled`: the
    account's language must still be the one remembered; `reserve`: it also answers the
    next order number, for a later order of this process."""
    answered = (*CLAIMED, "status_code", "body")
    claimed = (
        postgresql.insert(_RECORDS)
        .values({name: bindparam(name, type_=_RECORDS.c[name].type) for name in answered})
        .returning(_RECORDS.c.key)
        .cte("claimed")
    )
    order_columns = [column.name for column in _ORDERS.c]
    row = select(
        *(bindparam(f"order_{name}", type_=_ORDERS.c[name].type) for name in order_columns)
    ).select_from(claimed)
    placed = (
        postgresql.insert(_ORDERS)
        .from_select(order_columns, row)
        .returning(OrderRow.id, literal_column("orders.xmin::text", String).label(_ORDER_VERSION))
        .cte("placed")
    )
    # Rows of a known number: PostgreSQL then keeps one plan of this statement for every
    # call (app/db/fixed_rows.py); unnest's guess made it plan again at each.
    wanted = fixed_rows({"mailbox_ids": String()}, mailboxes, "wanted")
    held = (
        postgresql.insert(PendingRenewalRow.__table__)  # type: ignore[arg-type]
        .from_select(
            ["mailbox_id", "order_id"],
            select(wanted.c.mailbox_ids, placed.c.id).select_from(placed).join(wanted, true()),
        )
        .returning(PendingRenewalRow.mailbox_id)
        .cte("held")
    )
    as_read = fixed_rows({"read_ids": String(), "read_versions": String()}, mailboxes, "as_read")
    unchanged = (
        select(MailboxRow.id)
        .join(
            as_read,
            and_(
                as_read.c.read_ids == MailboxRow.id,
                as_read.c.read_versions == MAILBOX_ROW_VERSION,
            ),
        )
        .where(MailboxRow.id.in_(select(held.c.mailbox_id)))
        .order_by(MailboxRow.id)
        .with_for_update(of=MailboxRow)
        .cte("unchanged")
    )
    queued = insert_messages(messages, QUEUED_COLUMNS).cte("queued")
    unmoved = select(func.count()).select_from(unchanged).scalar_subquery() == mailboxes
    if recalled:
        remembered = bindparam("remembered_language", type_=String)
        unmoved = and_(unmoved, ACCOUNT_LANGUAGE.is_not_distinct_from(remembered))
    # The order's id first: the group commit hands each row to its request by it.
    answers = [
        bindparam("order_id", type_=String).label("order_key"),
        fails_unless(unmoved).label("written"),
        # The order's version as written: its payment, from memory, checks it is still so.
        select(placed.c[_ORDER_VERSION]).scalar_subquery().label(_ORDER_VERSION),
    ]
    if reserve:
        answers.append(func.nextval(_ORDER_SEQUENCE).label(_RESERVED))
    return CompiledStatement(select(*answers).add_cte(queued))


class OrderInOneWrite:
    """`read` (or `recall`), then `write`, outside any transaction: on one pooled asyncpg
    connection, or each statement on its own with the write in a group commit."""

    def __init__(
        self, db: Any, memory: ProcessMemory | None = None, writes: RowWrites | None = None
    ) -> None:
        self._db = db  # an asyncpg Connection, or KeptConnection
        self._writes = WritesAlone(db) if writes is None else writes
        # The read's connection, to send the write's group (app/db/group_commit.py).
        self._kept = db if isinstance(db, KeptConnection) else None
        self._mailboxes = None if memory is None else memory.mailboxes
        self._memory = None if memory is None else memory.orders
        self._placed = None if memory is None or not memory.placed.enabled else memory.placed

    def recall(self, principal: Principal, quote_id: str) -> OrderFacts | None:
        """`read`'s facts as remembered, for a quote `principal` stored in this process
        whose mailboxes are remembered without an unpaid order, and a number reserved;
        None otherwise. Nothing is asked of the database: `write` checks them."""
        memory, mailboxes = self._memory, self._mailboxes
        if memory is None or mailboxes is None:
            return None
        quote = memory.recall_quote(quote_id)
        if quote is None or quote.record.owner != principal:
            return None
        entries = mailboxes.recall([item.mailbox_id for item in quote.record.quote.items])
        if entries is None or any(entry.pending is not None for entry in entries):
            return None
        seq = memory.take_number()
        if seq is None:
            return None
        return OrderFacts(
            None,
            QuoteToOrder(quote.record, quote.language),
            {entry.mailbox.id: entry.mailbox for entry in entries},
            {entry.mailbox.id: entry.row_version for entry in entries},
            seq,
            recalled=True,
        )

    def unused(self, facts: OrderFacts) -> None:
        """`facts` were not written: their number serves a later order."""
        if facts.recalled and self._memory is not None:
            self._memory.keep_number(facts.seq)
            self._memory.outcome(written=False)

    async def read(
        self,
        claim: IdempotencyClaim,
        principal: Principal,
        quote_id: str,
        *,
        language_of: str | None,
        with_holders: bool,
    ) -> OrderFacts:
        statement = _READ[with_holders][principal.role]
        values = {
            **{f"identity_{name}": value for name, value in claim.identity.columns().items()},
            "quote_id": quote_id,
            "language_of": language_of,
            VIEWER_SUBJECT: principal.subject,
        }
        rows = [
            statement.row(r) for r in await self._db.fetch(statement.sql, *statement.args(values))
        ]
        first = rows[0]
        seq = int(first[_RESERVED])
        if first[f"{_EARLIER}fingerprint"] is not None:
            earlier = EarlierClaim(
                first[f"{_EARLIER}fingerprint"],
                first[f"{_EARLIER}status_code"],
                first[f"{_EARLIER}body"],
            )
            return OrderFacts(earlier, None, {}, {}, seq)
        if first["id"] is None:
            return OrderFacts(None, None, {}, {}, seq)
        mailboxes, versions = {}, {}
        for row in rows:
            if row[f"{_MAILBOX}id"] is not None:
                mailbox = mailbox_from_values({name: row[key] for key, name in _MAILBOX_KEYS})
                mailboxes[mailbox.id] = mailbox
                versions[mailbox.id] = row[_VERSION]
        return OrderFacts(None, found_quote(first, with_holders), mailboxes, versions, seq)

    async def write(
        self,
        order: Order,
        claim: IdempotencyClaim,
        answer: tuple[int, dict[str, Any]],
        messages: Sequence[OutgoingMessage],
        facts: OrderFacts,
    ) -> bool:
        """Everything, or nothing and False: something moved since `read` (or since what
        `recall` remembered)."""
        versions = facts.versions
        wanted = sorted(order.mailbox_ids)
        status_code, body = answer
        order_values = order_to_values(order) | {
            "seq": order.seq,
            "idempotency_key": claim.identity.key,
            "request_hash": claim.fingerprint,
        }
        values = (
            claim_values(claim.identity, claim.fingerprint, claim.now)
            | {"status_code": status_code, "body": body}
            | {f"order_{name}": value for name, value in order_values.items()}
            | {
                "mailbox_ids": wanted,
                # Row i of each: as many as the statement was built for (fixed_rows).
                "read_ids": wanted,
                "read_versions": [versions.get(mailbox_id) for mailbox_id in wanted],
            }
            | message_values(messages, claim.now)
        )
        if facts.recalled:
            values["language_of"] = order.owner.subject
            values["remembered_language"] = facts.found.language if facts.found else None
        memory = self._memory
        reserve = memory is not None and memory.reserve_number()
        statement = _write(len(wanted), len(messages), facts.recalled, reserve)
        written = None
        try:
            written = await self._writes.fetchrow(
                statement.sql, statement.args(values), order.id, self._kept
            )
        except GAVE_WAY:
            return False
        finally:
            if reserve:
                assert memory is not None
                memory.reserved(None if written is None else written[_RESERVED])
        # What this process remembered of the quote and its mailboxes can serve no later
        # request now: forgotten, it no longer weighs on the garbage collector's young
        # collections (~10 tracked objects a quote, 2 a mailbox).
        if memory is not None:
            memory.forget_quote(order.quote_id)
            if facts.recalled:
                memory.outcome(written=True)
        if self._mailboxes is not None:
            self._mailboxes.forget(order.mailbox_ids)
        if self._placed is not None:  # for its payment (app/db/placed_order_memory.py)
            assert written is not None
            placed = PlacedOrder(order, written[_ORDER_VERSION], facts.mailboxes, dict(versions))
            self._placed.remember(placed)
        return True


# What the write fails with when something moved since the read: a unique key taken
# (the Idempotency-Key, the quote, a mailbox's hold), a mailbox gone or changed, or a
# deadlock PostgreSQL broke. Nothing was written; any other error is an error.
GAVE_WAY = (
    asyncpg.UniqueViolationError,
    asyncpg.ForeignKeyViolationError,
    asyncpg.DivisionByZeroError,
    asyncpg.DeadlockDetectedError,
)


@asynccontextmanager
async def open_order_in_one_write(
    engine: AsyncEngine, memory: ProcessMemory | None = None, writes: GroupCommit | None = None
) -> AsyncIterator[OrderInOneWrite]:
    if writes is not None:  # the read's connection goes on to the write's group, or back
        async with KeptConnection(engine) as kept:
            yield OrderInOneWrite(kept, memory, writes)
        return
    async with autocommit_connection(engine) as connection:
        yield OrderInOneWrite(connection, memory)
