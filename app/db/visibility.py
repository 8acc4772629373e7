"""Who may see what, as SQL: one where-clause per resource kind.

Every repository query that reads on a caller's behalf filters through these, and the
asyncpg quote store compiles its statements from the same expressions, so a rule
changes in one place for every database path. The rules (api.md, Authentication):

- mailboxes: customers their account's, partners their customers', staff all;
- quotes and orders: whoever asked for them (their owner), and staff. In memory the
  same rule is `Principal.may_open_order_of` (app/domain/access.py);
- payment events and partner credit are not filtered row by row: payment events are
  staff-only routes (`get_staff_caller`), and a partner's credit is read by the
  partner id of its own token (`get_partner_caller`) or by staff.

The caller's subject is always the bound parameter VIEWER_SUBJECT, never a literal:
the asyncpg store compiles each statement once per role and passes the subject when
it executes.
"""

from __future__ import annotations

from sqlalchemy import BindParameter, ColumnElement, String, and_, bindparam, true

from app.db.models import MailboxRow, OrderRow, QuoteRow
from app.domain.access import Principal, Role

VIEWER_SUBJECT = "viewer_subject"


def mailboxes_visible_to(principal: Principal) -> ColumnElement[bool]:
    if principal.role is Role.STAFF:
        return true()
    if principal.role is Role.PARTNER:
        return MailboxRow.partner_id == _subject(principal)
    return MailboxRow.account_id == _subject(principal)


def quotes_visible_to(principal: Principal) -> ColumnElement[bool]:
    return _owner_or_staff(principal, QuoteRow)


def orders_visible_to(principal: Principal) -> ColumnElement[bool]:
    return _owner_or_staff(principal, OrderRow)


def _owner_or_staff(principal: Principal, table: type[QuoteRow | OrderRow]) -> ColumnElement[bool]:
    if principal.role is Role.STAFF:
        return true()
    return and_(table.owner_role == principal.role.value, table.owner_id == _subject(principal))


def _subject(principal: Principal) -> BindParameter[str]:
    return bindparam(VIEWER_SUBJECT, principal.subject, type_=String)
