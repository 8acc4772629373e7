"""Every stable code a client can meet, with its HTTP status and what a frontend should do.

Kept beside app/routers/messages.py (the words) and read by scripts/export_error_codes.py,
which writes docs/error-codes.md; a test fails when a code has no entry here or the
document is stale.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class ErrorCode:
    kind: str  # where it appears: a problem's `code`, a field error's, in a quote
    status: int | None  # the problem's HTTP status (None: a 201 quote carries it)
    action: str  # what a frontend should do


def _field(action: str, status: int = 422) -> ErrorCode:
    return ErrorCode("field", status, action)


def _problem(status: int, action: str) -> ErrorCode:
    return ErrorCode("problem", status, action)


def _both(status: int, action: str) -> ErrorCode:
    return ErrorCode("problem and field", status, action)


_FIX_FIELD = "Show the message beside the field; the user corrects it."

CODES: dict[str, ErrorCode] = {
    # --- request and authentication ---------------------------------------------------
    "validation_failed": _problem(
        422, "Show each entry of `errors` beside its field: they are all the body's problems."
    ),
    "not_authenticated": _problem(401, "No token was sent: sign the user in, then retry."),
    "invalid_token": _problem(401, "The token is not valid: sign the user in again."),
    "token_expired": _problem(
        401, "Refresh the token (or sign in again), then retry the same request."
    ),
    "forbidden": _problem(403, "The role may not do this: hide the action for this user."),
    "not_found": _problem(404, "Nothing at this URL: check the path."),
    "method_not_allowed": _problem(405, "Use the method the contract lists for this path."),
    "request_too_large": _problem(413, "Send a smaller body."),
    "unsupported_media_type": _problem(
        415, "Send the body as JSON with `Content-Type: application/json`."
    ),
    "internal_error": _problem(500, "A bug on our side: retry later and report the request id."),
    "database_unavailable": _problem(503, "Retry after the `Retry-After` seconds."),
    "rate_limited": _problem(
        429,
        "Wait `Retry-After` seconds, then retry; pace calls by the `RateLimit` header "
        "(`r` requests left). A provider simply delivers the webhook again later.",
    ),
    "catalog_unavailable": _problem(503, "No price list is in force: retry later."),
    "invalid_cursor": _problem(422, "Start the list again without `cursor`."),
    "idempotency_key_required": _both(
        428, "Send an `Idempotency-Key` (a new one per intended operation)."
    ),
    "idempotency_key_reused": _both(
        422, "The key was used for another body: use a new key for a new request."
    ),
    # --- resources ------------------------------------------------------------------------
    "mailbox_not_found": _both(404, "The mailbox doesn't exist or isn't the caller's."),
    "quote_not_found": _problem(404, "The quote doesn't exist or isn't the caller's."),
    "order_not_found": _problem(404, "The order doesn't exist or isn't the caller's."),
    "account_not_found": _problem(404, "Create the account first."),
    "partner_not_found": _problem(404, "Create the partner first."),
    "payment_event_not_found": _problem(404, "Check the payment event id."),
    "unknown_provider": _problem(404, "Use a provider the contract lists."),
    "sandbox_only": _problem(404, "Available in the sandbox only."),
    # --- quotes and orders ---------------------------------------------------------------
    "convention_code_invalid": _both(422, "Let the user correct or remove the convention code."),
    "quote_expired": _both(409, "Ask for a new quote and show its prices."),
    "quote_blocked": _both(409, "Show the quote's issues; the user fixes them and quotes again."),
    "quote_already_ordered": _problem(409, "Open the order named in `order_id`."),
    "consent_required": _both(
        422, "Only consents are missing: ask the user to tick the boxes named in `errors`."
    ),
    "acknowledgement_required": _both(
        422, "Ask the user to confirm the security archive's deletion, then resend."
    ),
    "pending_order_exists": ErrorCode(
        "problem; quote issue",
        409,
        "Offer to pay or cancel the pending order (`order_id` when the caller may see it).",
    ),
    "insufficient_credit": _problem(409, "The partner tops up its credit, then orders again."),
    "order_not_cancellable": _problem(409, "Refresh the order: it has moved on."),
    "commitment_not_applicable": _problem(409, "Only a PA order awaiting payment takes one."),
    "holder_required": _both(422, "Ask for the holder's data (none on file)."),
    "holders_on_file_differ": _field("Ask which holder the order is for."),
    "payment_event_already_applied": _problem(409, "Nothing to do: see `outcome`."),
    "payment_event_not_stored": _problem(503, "The provider delivers the event again."),
    "invalid_signature": _problem(400, "Sign the webhook with the configured secret."),
    # --- administration --------------------------------------------------------------------
    "mailbox_address_taken": _both(409, "Another mailbox has this address: check the mirror."),
    "unknown_owner": _both(422, "Create the owner first with the operation in `create_with`."),
    "price_list_in_force": _problem(409, "Publish a new price list with a later valid_from."),
    "credit_limit_exceeded": _both(409, "Top up by less: the credit has a ceiling."),
    # --- field codes -----------------------------------------------------------------------
    "required": _field("Ask the user for this field."),
    "invalid_type": _field("Send the JSON type the message names (a bug in the client)."),
    "invalid_value": _field("Offer only the allowed values the message lists."),
    "invalid_json": _field("Send well-formed JSON (a bug in the client)."),
    "invalid_format": _field(_FIX_FIELD),
    "control_characters": _field("Strip control characters (line breaks, NUL) from the text."),
    "unknown_field": _field("Remove the field: the contract doesn't have it."),
    "out_of_range": _field(_FIX_FIELD),
    "too_long": _field(_FIX_FIELD),
    "too_many_items": _field("Split the request."),
    "items_required": _field("Choose at least one mailbox."),
    "duplicate_mailbox": _field("List each mailbox once."),
    "unknown_plan": _field("Offer only the plans of GET /v1/plans."),
    "unknown_signature_kit": _field("Offer only the signature kits of GET /v1/plans."),
    "invalid_codice_fiscale": _field(_FIX_FIELD),
    "invalid_partita_iva": _field(_FIX_FIELD),
    "invalid_email": _field(_FIX_FIELD),
    "invalid_sdi_code": _field(_FIX_FIELD),
    "invalid_office_code": _field(_FIX_FIELD),
    "invalid_cig": _field(_FIX_FIELD),
    "invalid_cup": _field(_FIX_FIELD),
    "einvoicing_identifier_required": _field("Ask for a Codice Destinatario, a PEC or none."),
    "einvoicing_ambiguous": _field("Keep one e-invoicing identifier."),
    "public_administration_required": _field("Ask for the PA's office code, CIG, split payment."),
    "not_a_public_administration": _field("Remove the PA data, or change the holder's kind."),
    "partner_pays_by_credit": _field("Use `partner_credit`."),
    "payment_method_not_allowed": _field("Offer another payment method."),
    "public_administration_pays_by_transfer": _field("Use `bank_transfer`."),
    # publishing a price list (staff)
    "plans_required": _field("Add at least one plan."),
    "max_below_base": _field(_FIX_FIELD),
    "duplicate_code": _field("Use each code once."),
    "invalid_date_range": _field("Put the end date after the start date."),
    "overlapping_dates": _field("Make the periods not overlap."),
    "too_precise": _field(_FIX_FIELD),
    # --- in a quote (201): blocking issues and warnings ---------------------------------
    "frequency_not_allowed": ErrorCode(
        "quote issue; field", 422, "Offer only the years allowed (1 to 5)."
    ),
    "frequency_not_allowed_promo": ErrorCode(
        "quote issue", None, "Offer at most `max_years` years for this plan."
    ),
    "auto_renewal_active": ErrorCode(
        "quote issue", None, "Offer to turn automatic renewal off, then quote again."
    ),
    "mailbox_deleted": ErrorCode(
        "quote issue; problem and field (auto-renewal)",
        409,
        "Hide the renewal and the automatic-renewal switch of this mailbox.",
    ),
    "mailbox_suspended": ErrorCode(
        "quote issue; problem and field (auto-renewal)",
        409,
        "Hide the renewal and the automatic-renewal switch of this mailbox.",
    ),
    "plan_change_not_allowed": ErrorCode(
        "quote issue", None, "Keep the plan and extra space unchanged."
    ),
    "extra_space_above_max": ErrorCode(
        "quote issue", None, "Offer at most `max_extra_mailbox_gb` extra GB."
    ),
    "free_space_required": ErrorCode(
        "quote issue", None, "Tell the user to delete `mb_to_free` MB, or keep the plan."
    ),
    "insufficient_mailbox_space": ErrorCode(
        "quote issue", None, "Add at least `smallest_extra_mailbox_gb` GB."
    ),
    "insufficient_archive_space": ErrorCode(
        "quote issue", None, "Add at least `smallest_extra_archive_gb` GB of archive."
    ),
    "archive_not_available": ErrorCode(
        "quote issue", None, "Don't offer archive space with this plan."
    ),
    "plan_not_in_price_list": ErrorCode(
        "quote issue", None, "Choose a plan of GET /v1/plans for this mailbox."
    ),
    "archive_will_be_deleted": ErrorCode(
        "quote warning",
        None,
        "Show it; the order needs `acknowledge_archive_deletion: true`.",
    ),
    "features_lost": ErrorCode("quote warning", None, "Show it before the user confirms."),
    # --- sandbox test clock --------------------------------------------------------------
    "clock_backwards": _problem(409, "Pick a moment after the clock's `now` (it never goes back)."),
    "clock_jump_too_far": _problem(422, "Move the clock in steps of at most `max_days` days."),
    # --- partner webhooks ------------------------------------------------------------------
    "webhook_url_invalid": _both(422, "Send a full https URL, without user or password."),
    "webhook_url_not_https": _both(422, "Serve the endpoint over https."),
    "webhook_url_not_public": _both(422, "Use an endpoint reachable on the public internet."),
    "webhook_secret_invalid": _both(422, "Send whsec_ + base64 of 24-64 bytes, or no secret."),
    "webhook_endpoint_not_found": _problem(404, "Set one with PUT /v1/partner/webhook-endpoint."),
    "webhook_endpoint_not_set": _problem(409, "Set an endpoint, then redeliver."),
    "webhook_delivery_not_found": _problem(404, "Check the event id in your delivery log."),
    "automatic_renewal_needs_card": _field("Untick automatic renewal, or pay by card or PayPal."),
    "payment_method_not_found": _problem(
        404, "The saved payment method doesn't exist or isn't the caller's."
    ),
}
