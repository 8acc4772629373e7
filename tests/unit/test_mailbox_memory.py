"""MailboxMemory: what it recalls, and what it forgets first."""

from __future__ import annotations

import pytest

from app.db.mailbox_memory import MailboxMemory, RememberedMailbox, seen_of
from app.domain.access import PendingOrder, Principal, Role
from tests.integration.test_quote_stores import mailbox


def remembered(
    mailbox_id: str, version: str = "1", pending: str | None = None
) -> RememberedMailbox:
    order = PendingOrder(pending, Principal(Role.CUSTOMER, "acc-1")) if pending else None
    return RememberedMailbox(
        mailbox(mailbox_id, "acc-1"), order, f"{mailbox_id} {version}", version
    )


def test_it_recalls_a_quote_s_mailboxes_only_when_it_has_them_all() -> None:
    memory = MailboxMemory()
    memory.remember([remembered("a"), remembered("b")])

    assert memory.recall(["a", "c"]) is None
    recalled = memory.recall(["b", "a", "b"])
    assert recalled is not None
    assert [entry.mailbox.id for entry in recalled] == ["b", "a"]  # each once, as asked


def test_a_mailbox_read_again_replaces_what_was_remembered() -> None:
    memory = MailboxMemory()
    memory.remember([remembered("a", "1")])
    memory.remember([remembered("a", "2", pending="ord-1")])

    (entry,) = memory.recall(["a"]) or []
    assert entry.version == "a 2"
    assert entry.pending is not None


def test_it_forgets_the_least_recently_used_mailbox_first() -> None:
    memory = MailboxMemory(capacity=2)
    memory.remember([remembered("a"), remembered("b")])
    assert memory.recall(["a"]) is not None  # "a" used: "b" is now the oldest

    memory.remember([remembered("c")])

    assert len(memory) == 2
    assert memory.recall(["b"]) is None
    assert memory.recall(["a"]) is not None
    assert memory.recall(["c"]) is not None


def test_ordered_mailboxes_are_forgotten_and_the_others_kept() -> None:
    memory = MailboxMemory()
    memory.remember([remembered("a"), remembered("b"), remembered("c")])

    memory.forget(["a", "c", "never-seen"])

    assert memory.recall(["a"]) is None
    assert memory.recall(["c"]) is None
    assert memory.recall(["b"]) is not None
    assert len(memory) == 1


def test_a_memory_of_no_mailboxes_remembers_nothing() -> None:
    memory = MailboxMemory(capacity=0)
    memory.remember([remembered("a")])

    assert memory.recall(["a"]) is None
    with pytest.raises(ValueError, match="capacity"):
        MailboxMemory(capacity=-1)


def test_only_what_was_recalled_carries_versions_for_the_insert_to_check() -> None:
    entries = [remembered("a", "7", pending="ord-1"), remembered("b", "8")]

    recalled = seen_of(entries, recalled=True)
    read = seen_of(entries, recalled=False)

    assert recalled.remembered == ("a 7", "b 8")
    assert read.remembered is None
    assert list(read.mailboxes) == ["a", "b"]
    assert list(read.pending) == ["a"]
