"""A rule outcome on the wire: its code, a message, and the numbers a UI needs."""

from __future__ import annotations

from typing import Annotated

from pydantic import BaseModel, Field, WithJsonSchema

from app.domain import issues
from app.domain.issues import Issue
from app.routers.messages import message
from app.routers.problem_codes import enum_schema

# Every rule outcome, from the domain's own classes: a new rule is in the contract at once.
ISSUE_CODES: dict[str, str] = {
    cls.code: ("Blocks. " if cls.blocking else "Warning, never blocks. ")
    + " ".join((cls.__doc__ or "").split())
    for cls in vars(issues).values()
    if isinstance(cls, type) and issubclass(cls, Issue) and cls is not Issue
}
IssueCode = Annotated[
    str,
    WithJsonSchema(
        enum_schema(ISSUE_CODES, "The renewal rule's stable code: switch on it.")
        | {"examples": ["insufficient_mailbox_space"]}
    ),
]

# The same code can need a different sentence as a quote issue than as a field error.
_ISSUE_MESSAGE_KEYS = {"frequency_not_allowed": "frequency_not_allowed_promo"}


def _absent(value: object) -> bool:
    return value is None  # each issue carries only its own numbers


class IssueOut(BaseModel):
    code: IssueCode
    blocking: bool = Field(description="true: fix it to order; false: a warning to show.")
    message: str = Field(description="For people, in the language of `Content-Language`.")
    max_years: int | None = Field(default=None, exclude_if=_absent)
    order_id: str | None = Field(default=None, exclude_if=_absent)
    max_extra_mailbox_gb: int | None = Field(default=None, exclude_if=_absent)
    mb_to_free: int | None = Field(default=None, exclude_if=_absent)
    smallest_extra_mailbox_gb: int | None = Field(default=None, exclude_if=_absent)
    smallest_extra_archive_gb: int | None = Field(default=None, exclude_if=_absent)
    archived_mb: int | None = Field(default=None, exclude_if=_absent)
    features: list[str] | None = Field(default=None, exclude_if=_absent)
    extra_users_lost: int | None = Field(default=None, exclude_if=_absent)

    @classmethod
    def of(cls, issue: Issue, language: str) -> IssueOut:
        params = issue.params()
        key = _ISSUE_MESSAGE_KEYS.get(issue.code, issue.code)
        return cls.model_validate(
            {
                **{k: list(v) if isinstance(v, tuple) else v for k, v in params.items()},
                "code": issue.code,
                "blocking": issue.blocking,
                "message": message(key, language, params),
            }
        )
