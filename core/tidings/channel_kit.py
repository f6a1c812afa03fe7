"""What channel plugins share: settings that may come from the environment, and what an HTTP error means.

Settings (used by each channel's ``config.py`` and ``verify``):

- `EnvSecret`: a secret written in the channel's table, or else taken from an environment
  variable, so that the configuration file need not hold it; and the warning ``tidings check``
  gives when it is in neither.
- `check_timeout`: the check of a ``timeout`` setting.
- `missing`: a problem for each setting a channel needs to connect that is left empty.

HTTP answers (used by the SMS and push transports): `http_failure` reads a status and a
``Retry-After`` header the same way for every provider: 429 is ``rate_limited`` and 408, 425 and
5xx are ``provider_unavailable``, both transient, with the seconds the provider asked to wait;
401 and 403 are ``provider_auth`` and anything else ``provider_rejected``, both permanent (a
channel may read the provider's own error code for a finer reason, like ``invalid_address``).

Calling a provider (used by the SMS, WhatsApp and Telegram transports, which send through the
pooled `tidings.httppool.HttpPool`): `call_provider` makes one request and turns its network
failures into delivery errors (a timeout and a failed or dropped connection are transient, a URL
that cannot work is ``provider_config``); `refusal` logs an answer that is not a success, as
deferred or rejected, and gives the error to raise for it; `json_object` reads an answer's JSON.
"""

from __future__ import annotations

import math
import os
from collections.abc import Callable, Iterator, Mapping
from typing import TYPE_CHECKING, Any

from attrs import frozen

from tidings.errors import DeliveryError, PermanentDeliveryError, Problem, TransientDeliveryError
from tidings.logging import get_logger

if TYPE_CHECKING:
    from tidings.httppool import HttpPool, Response

__all__ = ["EnvSecret", "HttpFailure", "call_provider", "check_timeout", "http_failure", "json_object", "missing",
           "refusal", "retry_after_seconds"]

log = get_logger(__name__)

# ---------------------------------------------------------------- settings


@frozen
class EnvSecret:
    """A secret setting: ``[<table>] <key>`` when written there, else ``$<variable>``.

    Example::

        AUTH_TOKEN = EnvSecret("channels.sms", "auth_token", "TIDINGS_SMS_AUTH_TOKEN")
        token = AUTH_TOKEN.value(config.auth_token)
        if not token:
            yield AUTH_TOKEN.unset("is required by the twilio provider")
    """

    table: str       # "channels.sms"
    key: str         # "auth_token"
    variable: str    # "TIDINGS_SMS_AUTH_TOKEN"

    @property
    def path(self) -> str:
        return f"{self.table}.{self.key}"

    def source(self, configured: str, environ: Mapping[str, str] | None = None) -> tuple[str, str]:
        """The secret and where it came from: ``(configured, path)``, ``(env value, "$VARIABLE")`` or ``("", path)``.

        A variable holding only white space counts as unset.
        """
        if configured:
            return configured, self.path
        value = (os.environ if environ is None else environ).get(self.variable, "")
        return (value, f"${self.variable}") if value.strip() else ("", self.path)

    def value(self, configured: str, environ: Mapping[str, str] | None = None) -> str:
        """The configured secret, else the variable's, else empty."""
        return self.source(configured, environ)[0]

    def unset(self, why: str) -> Problem:
        """The warning for a secret set neither in the table nor here: the worker's environment may have it.

        Args:
            why: who needs it, like ``"is required by the twilio provider"``.
        """
        return Problem(self.path, f"{why} and is not set here: put ${self.variable} in the worker's environment "
                                  f"(or {self.key} in this table)", warning=True)


def check_timeout(value: float) -> str | None:
    """The check of a ``timeout`` setting: a positive number of seconds (for `tidings.converter.check_fields`)."""
    if value > 0:
        return None
    shown = int(value) if math.isfinite(value) and float(value).is_integer() else value
    return f"{shown!r} is not a positive number of seconds"


def missing(settings: Any, table: str, required: Mapping[str, str]) -> Iterator[Problem]:
    """A problem for each setting named in `required` that is empty or blank, saying why it is needed.

    Args:
        settings: a channel's structured settings.
        table: where they come from, like ``"channels.sms"``.
        required: setting name -> why it is needed, like ``{"url": "is required by the json provider"}``.
    """
    for key, why in required.items():
        if not str(getattr(settings, key)).strip():
            yield Problem(f"{table}.{key}", why)


# ---------------------------------------------------------------- HTTP answers

TRANSIENT_STATUSES = frozenset({408, 425, 429})   # Request Timeout, Too Early, Too Many Requests
AUTH_STATUSES = frozenset({401, 403})
_TRANSIENT_REASONS = ("rate_limited", "provider_unavailable")


@frozen
class HttpFailure:
    """What an HTTP answer that is not a success means, whatever the provider."""

    status: int
    reason: str                        # rate_limited | provider_unavailable | provider_auth | provider_rejected
    retry_after: float | None = None   # seconds the provider asked to wait, for a transient failure

    @property
    def transient(self) -> bool:
        return self.reason in _TRANSIENT_REASONS

    def error(self, message: str, *, details: Mapping[str, Any] | None = None) -> DeliveryError:
        """The delivery error to raise: transient ones carry `retry_after`, also as ``details["retry_after"]``."""
        found = dict(details or {})
        if not self.transient:
            return PermanentDeliveryError(message, reason=self.reason, details=found)
        if self.retry_after is not None:
            found["retry_after"] = self.retry_after
        return TransientDeliveryError(message, reason=self.reason, details=found, retry_after=self.retry_after)


def http_failure(status: int, retry_after: str | None = None) -> HttpFailure:
    """What `status` means (see the module docstring), with the seconds of its ``Retry-After`` header if transient."""
    if status == 429:
        reason = "rate_limited"
    elif status in TRANSIENT_STATUSES or status >= 500:
        reason = "provider_unavailable"
    elif status in AUTH_STATUSES:
        reason = "provider_auth"
    else:
        reason = "provider_rejected"
    wait = retry_after_seconds(retry_after) if reason in _TRANSIENT_REASONS else None
    return HttpFailure(status=status, reason=reason, retry_after=wait)


def retry_after_seconds(value: str | None) -> float | None:
    """A ``Retry-After`` header's delay in seconds; None when absent or unreadable.

    An HTTP date is None too: the core's own backoff applies, rather than trusting a clock that
    is not ours.
    """
    if value is None:
        return None
    try:
        seconds = float(value)
    except ValueError:
        return None
    return seconds if math.isfinite(seconds) and seconds >= 0 else None


# ---------------------------------------------------------------- calling a provider


def _same(text: str) -> str:
    return text


def call_provider(pool: HttpPool, method: str, url: str, *, provider: str, name: str, hint: str,
                  fields: Mapping[str, Any], action: str = "", scrub: Callable[[str], str] = _same,
                  event: str | None = None, **kwargs: Any) -> Response:
    """One request through `pool`, its network failures turned into delivery errors.

    Args:
        provider: the provider's short name, for ``details["provider"]`` (``"whatsapp"``, ``"twilio"``).
        name: how messages name it (``"the WhatsApp Cloud API"``).
        hint: where its URL is set, for a URL that cannot work (``"base_url in [channels.whatsapp]"``).
        fields: logged with ``<provider>_deferred`` (rule, subject, channel, to).
        action: what was asked, named when it timed out (``"sendMessage"``).
        scrub: what an error's text goes through before it is written (a URL carrying a token).
        event: the log line's prefix, ``<event>_deferred`` (the channel's name; `provider` by default).
        kwargs: the request's own (`HttpPool.request`: ``json``, ``data``, ``headers``).

    Raises:
        TransientDeliveryError: ``timeout``, or ``connection_failed`` (refused, dropped, reset).
        PermanentDeliveryError: ``provider_config``: the URL is not http(s) or has no host.
    """
    import http.client

    from tidings.httppool import InvalidURL

    details = {"provider": provider}
    deferred = f"{event or provider}_deferred"
    try:
        return pool.request(method, url, **kwargs)
    except TimeoutError as e:
        log.info(deferred, **fields, reason="timeout")
        asked = f" {action}" if action else ""
        raise TransientDeliveryError(f"{name} did not answer{asked} within {pool.timeout:g} s ({type(e).__name__})",
                                     reason="timeout", details=details) from None
    except InvalidURL as e:
        raise PermanentDeliveryError(f"{name} URL cannot be used: {scrub(str(e))} (check {hint})",
                                     reason="provider_config", details=details) from None
    except (OSError, http.client.HTTPException) as e:
        log.info(deferred, **fields, reason="connection_failed")
        raise TransientDeliveryError(f"could not reach {name}: {type(e).__name__}: {scrub(str(e))}",
                                     reason="connection_failed", details=details) from None


def refusal(failure: HttpFailure, *, provider: str, name: str, fields: Mapping[str, Any], details: Mapping[str, Any],
            said: str = "", code: str = "", fix: str = "", logged: Mapping[str, Any] | None = None) -> DeliveryError:
    """The error to raise for an answer that is not a success, logged as ``<provider>_deferred`` or ``_rejected``.

    Args:
        failure: what the answer means (`http_failure`, or the provider's own reading of its codes).
        said: what the provider said, as ``": <its message>"``; `code` its error code as ``", code 131026"``.
        fix: what to check, added when the credentials were refused (``provider_auth``).
        logged: more fields for the log line (the provider's code, the seconds to wait).
    """
    status = failure.status
    extra = dict(logged or {})
    if failure.transient:
        log.info(f"{provider}_deferred", **fields, status=status, **extra, reason=failure.reason)
        return failure.error(f"{name} answered HTTP {status}{code}{said}; the message will be retried", details=details)
    log.warning(f"{provider}_rejected", **fields, status=status, **extra, reason=failure.reason)
    advice = f": check {fix}" if fix and failure.reason == "provider_auth" else ""
    return failure.error(f"{name} refused the message (HTTP {status}{code}){said}{advice}", details=details)


def json_object(response: Response) -> dict[str, Any]:
    """The answer's JSON object, or ``{}`` when it is not one."""
    try:
        data = response.json()
    except ValueError:
        return {}
    return data if isinstance(data, dict) else {}
