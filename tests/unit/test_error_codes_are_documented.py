"""Every stable code has a status, words in both languages and a documented action, and
docs/error-codes.md is the table the code generates."""

from __future__ import annotations

from app.routers.error_codes import CODES
from app.routers.field_hints import FORMATS
from app.routers.messages import message_templates
from scripts.export_error_codes import ERROR_CODES_FILE, render
from scripts.export_openapi import current_openapi


def test_every_code_with_a_message_has_a_documented_status_and_action() -> None:
    assert sorted(message_templates()) == sorted(CODES)


def test_error_codes_md_matches_the_code() -> None:
    committed = ERROR_CODES_FILE.read_text(encoding="utf-8")
    assert committed == render(), (
        "docs/error-codes.md is stale: run `make error-codes` and commit it"
    )


def _patterns(node: object) -> set[str]:
    if isinstance(node, dict):
        found = {node["pattern"]} if isinstance(node.get("pattern"), str) else set()
        return found.union(*(_patterns(value) for value in node.values()))
    if isinstance(node, list):
        return set().union(*(_patterns(value) for value in node))
    return set()


def test_every_pattern_of_the_contract_is_described_in_words() -> None:
    """A regular expression in a message is useless to a customer."""
    assert _patterns(current_openapi()) <= FORMATS.keys()
