"""A rule outcome on the wire: its code, a message, and the numbers a UI needs."""

from __future__ import annotations

from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, WithJsonSchema

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


_HEAD = ("code", "blocking", "message")  # every issue's fields; the rest are its numbers


def _absent(value: object) -> bool:
    return value is None  # each issue carries only its own numbers


class IssueOut(BaseModel):
    """A renewal rule's outcome: `code` to switch on, `message` to show, and only the
    numbers of that rule (the other number fields are absent)."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "code": "insufficient_mailbox_space",
                    "blocking": True,
                    "message": "Spazio insufficiente: aggiungi almeno 1 GB alla casella.",
                    "smallest_extra_mailbox_gb": 1,
                }
            ]
        }
    )

    code: IssueCode
    blocking: bool = Field(description="true: fix it to order; false: a warning to show.")
    message: str = Field(description="For people, in the language of `Content-Language`.")
    max_years: int | None = Field(
        default=None,
        exclude_if=_absent,
        description="`frequency_not_allowed`: the most years the promotion renews for.",
    )
    order_id: str | None = Field(
        default=None,
        exclude_if=_absent,
        description="`pending_order_exists`: the unpaid order to pay or cancel (absent when "
        "it isn't yours to open).",
    )
    max_extra_mailbox_gb: int | None = Field(
        default=None,
        exclude_if=_absent,
        description="`extra_space_above_max`: the most extra mailbox GB the plan allows.",
    )
    mb_to_free: int | None = Field(
        default=None,
        exclude_if=_absent,
        description="`free_space_required`: MB of messages to delete before this renewal.",
    )
    smallest_extra_mailbox_gb: int | None = Field(
        default=None,
        exclude_if=_absent,
        description="`insufficient_mailbox_space`: the fewest extra mailbox GB that hold "
        "what is used.",
    )
    smallest_extra_archive_gb: int | None = Field(
        default=None,
        exclude_if=_absent,
        description="`insufficient_archive_space`: the fewest extra archive GB that hold "
        "what is archived.",
    )
    archived_mb: int | None = Field(
        default=None,
        exclude_if=_absent,
        description="`archive_will_be_deleted`: MB of archived messages that will be deleted.",
    )
    features: list[str] | None = Field(
        default=None,
        exclude_if=_absent,
        description="`features_lost`: the features that go away (`sms_reports`, `extra_users`).",
    )
    extra_users_lost: int | None = Field(
        default=None,
        exclude_if=_absent,
        description="`features_lost`: how many extra users go away.",
    )

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


# The numbers' fields, in IssueOut's order (its code, blocking and message come first).
_PARAM_FIELDS = tuple(name for name in IssueOut.model_fields if name not in _HEAD)


def issue_values(issue: Issue, language: str) -> dict[str, object]:
    """`IssueOut.of(issue, language)` as plain values in the model's field order, its
    absent numbers left out: what it serializes to, without building the model."""
    params = issue.params()
    key = _ISSUE_MESSAGE_KEYS.get(issue.code, issue.code)
    values: dict[str, object] = {
        "code": issue.code,
        "blocking": issue.blocking,
        "message": message(key, language, params),
    }
    for name in _PARAM_FIELDS:
        value = params.get(name)
        if value is not None:
            values[name] = value
    return values
