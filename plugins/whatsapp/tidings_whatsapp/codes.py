"""What a Cloud API error means: its ``error.code`` (Meta's error code reference), else the HTTP status.

Meta asks integrations to act on ``error.code`` rather than the HTTP status (which differs between
codes that mean the same) or the title (which will be removed). The codes below are classified
by what a retry can change; any other code is read by its HTTP status through
`tidings.channel_kit.http_failure` (5xx and 429 transient, 401/403 ``provider_auth``, other
refusals ``provider_rejected``).

Many delivery failures (131026 undeliverable, 131047 outside the window) are usually reported
later, through the status webhook, after the API accepted the message; the transport sees only
those the API answers at once. The webhook's ``biz_opaque_callback_data`` is the message's
idempotency key, so the host can match such a report to the tidings message.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from tidings.channel_kit import HttpFailure, http_failure, retry_after_seconds

# codes a later attempt may get past: Meta throttles, or is down
TRANSIENT = {
    4: "rate_limited",                 # the app's API call limit
    80007: "rate_limited",             # the WhatsApp Business Account's rate limit
    130429: "rate_limited",            # Cloud API throughput reached
    131048: "rate_limited",            # spam rate limit: too many earlier messages were blocked or flagged
    131056: "rate_limited",            # too many messages to the same recipient in a short time
    2: "provider_unavailable",         # temporary downtime or overload
    131000: "provider_unavailable",    # something went wrong
    131016: "provider_unavailable",    # service unavailable
    131057: "provider_unavailable",    # the business account is in maintenance mode
}

# codes no retry changes: the reason says what the deployer or the host can do
PERMANENT = {
    0: "provider_auth",                # AuthException: the token expired or was invalidated
    10: "provider_auth",               # the app lacks a permission
    190: "provider_auth",              # the access token expired or is invalid
    131005: "provider_auth",           # access denied
    131021: "invalid_address",         # the recipient is the sender's own number
    131026: "undeliverable",           # not a WhatsApp number, old app, terms not accepted, or blocked us
    131030: "recipient_not_allowed",   # a test number may only message its allow-listed recipients
    131047: "reengagement_required",   # more than 24 hours since the client last wrote: only a template may go
    131050: "recipient_opted_out",     # the client stopped marketing messages from this business
    132000: "template_params_mismatch",   # the number of parameters differs from the template's
    132001: "template_not_found",      # no approved template of that name in that language
    132005: "template_too_long",       # the text with its parameters is too long
    132007: "template_policy_violated",   # the format or characters break the template policy
    132012: "template_params_format",  # a parameter's format differs from the template's
    132015: "template_paused",         # paused for low quality
    132016: "template_disabled",       # disabled for low quality
}

TEMPLATE_CODES = range(132000, 133000)   # template errors not named above: reason "template_error"
PERMISSION_CODES = range(200, 300)       # Graph API permission errors


def error_of(answer: Mapping[str, Any]) -> Mapping[str, Any]:
    """The ``error`` object of an answer, or ``{}``."""
    error = answer.get("error")
    return error if isinstance(error, Mapping) else {}


def code_of(answer: Mapping[str, Any]) -> int | None:
    """The answer's ``error.code`` as an integer, or None."""
    code = error_of(answer).get("code")
    return code if isinstance(code, int) and not isinstance(code, bool) else None


def classify(status: int, answer: Mapping[str, Any], retry_after: str | None = None) -> HttpFailure:
    """What a refused request means: transient or permanent, and the reason, from its code or else its status.

    Args:
        status: the HTTP status.
        answer: the answer's JSON object (``{"error": {"code": ..., "message": ..., ...}}``), or ``{}``.
        retry_after: the ``Retry-After`` header, when the answer has one.
    """
    code = code_of(answer)
    if code in TRANSIENT:
        return HttpFailure(status=status, reason=TRANSIENT[code], retry_after=retry_after_seconds(retry_after))
    if code in PERMANENT:
        return HttpFailure(status=status, reason=PERMANENT[code])
    if code is not None and code in PERMISSION_CODES:
        return HttpFailure(status=status, reason="provider_auth")
    if code is not None and code in TEMPLATE_CODES:
        return HttpFailure(status=status, reason="template_error")
    return http_failure(status, retry_after)


def details_of(status: int, answer: Mapping[str, Any]) -> dict[str, Any]:
    """What the delivery log keeps of a refusal: the status and Meta's code, title, details and trace id."""
    error = error_of(answer)
    found: dict[str, Any] = {"provider": "whatsapp", "status": status}
    data = error.get("error_data")
    for key, value in (("code", error.get("code")), ("message", error.get("message")),
                       ("details", data.get("details") if isinstance(data, Mapping) else None),
                       ("fbtrace_id", error.get("fbtrace_id"))):
        if value is not None:
            found[key] = value
    return found
