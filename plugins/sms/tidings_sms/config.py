"""The settings of the SMS channel: the ``[channels.sms]`` table of a tidings configuration.

The core structures the table into `SmsConfig` with its one converter (unknown keys are errors);
`SmsConfig` itself checks the values and reports every bad one with its key, the value and
the way out. Credentials are not required at this stage, because ``simulate`` never connects:
`tidings_sms.plugin.verify` reports a missing one to ``tidings check`` (a warning when the token
would come from the environment), and `connect` refuses it.

Environment:
    ``TIDINGS_SMS_AUTH_TOKEN``: the provider's secret, used when ``auth_token`` is empty, so that
    the configuration file need not hold it.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from typing import Any

from attrs import field, frozen

from tidings.channel_kit import EnvSecret, check_timeout
from tidings.converter import check_fields

PROVIDERS = ("twilio", "json")
AUTH_TOKEN_ENV = "TIDINGS_SMS_AUTH_TOKEN"
AUTH_TOKEN = EnvSecret("channels.sms", "auth_token", AUTH_TOKEN_ENV)
# what a value of the json provider's `body` may contain; each is replaced by the message's value
BODY_PLACEHOLDERS = ("to", "sender", "text", "idempotency_key")
# what a value of the json provider's `headers` may contain
HEADER_PLACEHOLDERS = ("auth_token", "account_sid", "idempotency_key")
PLACEHOLDER = re.compile(r"\{([A-Za-z_][A-Za-z0-9_]*)\}")

_PHONE_SENDER = re.compile(r"\+?[0-9]{3,15}")
_ALPHANUMERIC_SENDER = re.compile(r"[A-Za-z0-9 ]{1,11}")


def _check_provider(value: str) -> str | None:
    if value not in PROVIDERS:
        return f"{value!r} is not a known provider (choose one of: {', '.join(PROVIDERS)})"
    return None


def _check_sender(value: str) -> str | None:
    if not value or _PHONE_SENDER.fullmatch(value):
        return None
    if _ALPHANUMERIC_SENDER.fullmatch(value) and any(c.isalpha() for c in value):
        return None
    if len(value) > 11 and not value.startswith("+"):
        return (f"{value!r} is {len(value)} characters long: an alphanumeric sender id has at most 11 "
                "(letters, digits, spaces), or use a phone number like '+48600100200'")
    return (f"{value!r} is neither a phone number like '+48600100200' nor an alphanumeric sender id "
            "(1 to 11 letters, digits or spaces, with at least one letter)")


def _check_region(value: str) -> str | None:
    if not value:
        return None
    import phonenumbers

    if value not in phonenumbers.SUPPORTED_REGIONS:
        return f"{value!r} is not a region code: use a two-letter ISO 3166 code in capitals, like 'PL' or 'IT'"
    return None


def _check_placeholders(allowed: tuple[str, ...]) -> Callable[[Mapping[str, Any]], str | None]:
    def check(value: Mapping[str, Any]) -> str | None:
        for path, text in _strings(value, ""):
            for name in PLACEHOLDER.findall(text):
                if name not in allowed:
                    where = f" at {path.lstrip('.')}" if path else ""
                    return (f"unknown placeholder {{{name}}} in {text!r}{where} "
                            f"(allowed: {', '.join('{' + a + '}' for a in allowed)})")
        return None
    return check


def _strings(value: Any, path: str) -> list[tuple[str, str]]:
    if isinstance(value, str):
        return [(path, value)]
    if isinstance(value, Mapping):
        return [s for k, v in value.items() for s in _strings(v, f"{path}.{k}")]
    if isinstance(value, (list, tuple)):
        return [s for i, v in enumerate(value) for s in _strings(v, f"{path}[{i}]")]
    return []


def _check_statuses(value: tuple[int, ...]) -> str | None:
    for status in value:
        if not 200 <= status <= 299:
            return f"{status!r} is not a success status: use 2xx codes, like [200, 201, 202]"
    return None


_CHECKS: dict[str, Callable[[Any], str | None]] = {
    "provider": _check_provider,
    "sender": _check_sender,
    "default_region": _check_region,
    "timeout": check_timeout,
    "headers": _check_placeholders(HEADER_PLACEHOLDERS),
    "body": _check_placeholders(BODY_PLACEHOLDERS),
    "success_statuses": _check_statuses,
}


def _default_body() -> dict[str, Any]:
    return {"to": "{to}", "from": "{sender}", "text": "{text}"}


@frozen
class SmsConfig:
    """The ``[channels.sms]`` settings.

    Attributes:
        provider: ``"twilio"`` (a Twilio-style form API) or ``"json"`` (a generic JSON API).
        base_url: the Twilio-style API's root; messages go to
            ``{base_url}/2010-04-01/Accounts/{account_sid}/Messages.json``.
        account_sid: the Twilio account SID (the user name of basic auth).
        auth_token: the provider secret; empty means ``$TIDINGS_SMS_AUTH_TOKEN``.
        messaging_service_sid: a Twilio Messaging Service, sent instead of ``From`` when set.
        sender: a phone number (``+48600100200``) or an alphanumeric sender id of at most 11 characters.
        default_region: the ISO 3166 region used to read national numbers (``"PL"``: ``600 100 200``) at a
            location that has no ``region`` of its own and whose time zone belongs to no country; empty
            means only international numbers (``+48…``) are valid there.
        transliterate: replace the letters outside GSM-7 at send time by their nearest GSM-7 letters
            (``ą`` → ``a``, ``Київ`` → ``Kyiv``), so that no letter turns an SMS into costlier UCS-2.
        timeout: seconds to wait for the provider before the attempt counts as a transient failure.
        url: the json provider's endpoint.
        headers: the json provider's extra headers; values may contain ``{auth_token}``,
            ``{account_sid}`` and ``{idempotency_key}``.
        body: the json provider's request body; its string values may contain ``{to}``,
            ``{sender}``, ``{text}`` and ``{idempotency_key}``, at any depth.
        success_statuses: the json provider's statuses that mean "accepted".
        id_field: where the json provider's answer holds the message id (dotted: ``"data.id"``).
        error_field: where the json provider's error answer holds its error code (dotted).
        invalid_address_codes: the json provider's error codes that mean the number is invalid.
        idempotency_header: the header carrying the idempotency key to the json provider.
        lookup_url: the json provider's endpoint that finds a message by its idempotency key
            (``{idempotency_key}`` in the URL); 200 means it was accepted, 404 that it never arrived.
            With it, a message whose worker died mid-request is looked up instead of sent again.
    """

    provider: str = "twilio"
    base_url: str = "https://api.twilio.com"
    account_sid: str = ""
    auth_token: str = field(default="", repr=False)
    messaging_service_sid: str = ""
    sender: str = ""
    default_region: str = ""
    transliterate: bool = False
    timeout: float = 10.0
    # the json provider
    url: str = ""
    headers: dict[str, str] = field(factory=dict)
    body: dict[str, Any] = field(factory=_default_body)
    success_statuses: tuple[int, ...] = (200, 201, 202)
    id_field: str = "id"
    error_field: str = "code"
    invalid_address_codes: tuple[str, ...] = ()
    idempotency_header: str = "Idempotency-Key"
    lookup_url: str = ""

    def __attrs_post_init__(self) -> None:
        check_fields(self, _CHECKS, "channels.sms")   # every bad value at once, each under its own key

    def secret(self, environ: Mapping[str, str] | None = None) -> str:
        """The auth token: the configured one, else ``$TIDINGS_SMS_AUTH_TOKEN``, else empty."""
        return AUTH_TOKEN.value(self.auth_token, environ)
