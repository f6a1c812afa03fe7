"""The settings of the WhatsApp channel: the ``[channels.whatsapp]`` table of a tidings configuration.

The core structures the table into `WhatsAppConfig` with its one converter (unknown keys are
errors, also inside a template's table); the classes check their own values and report every bad
one with its key. Credentials are not required here, because ``simulate`` never connects:
`tidings_whatsapp.plugin.verify` reports a missing one to ``tidings check``.

Environment:
    ``TIDINGS_WHATSAPP_ACCESS_TOKEN``: the Cloud API access token, used when ``access_token`` is
    empty, so that the configuration file need not hold it.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from typing import Any

from attrs import field, frozen

from tidings.channel_kit import EnvSecret, check_timeout
from tidings.converter import check_fields

ACCESS_TOKEN_ENV = "TIDINGS_WHATSAPP_ACCESS_TOKEN"
ACCESS_TOKEN = EnvSecret("channels.whatsapp", "access_token", ACCESS_TOKEN_ENV)

MAX_PARAMS = 100    # body parameters a template entry may declare; Meta's own templates stay far below

_NAME = re.compile(r"[a-z0-9_]{1,512}")                  # Meta: lower-case letters, digits and underscores
_LANGUAGE = re.compile(r"[a-z]{2,3}(_[A-Za-z0-9]{2,4})?")   # Meta's codes: "pl", "en_US", "pt_BR", "zh_HK"
_VERSION = re.compile(r"v[0-9]+\.[0-9]+")
_PHONE_NUMBER_ID = re.compile(r"[0-9]+")


def _check_name(value: str) -> str | None:
    if _NAME.fullmatch(value):
        return None
    return (f"{value!r} is not a WhatsApp template name: approved templates are named in lower-case letters, "
            "digits and underscores (like 'visit_reminder')")


def _check_language(value: str) -> str | None:
    if not value or _LANGUAGE.fullmatch(value):
        return None
    return f"{value!r} is not a WhatsApp language code: use one like 'pl', 'en_US' or 'pt_BR' (or leave it empty)"


def _check_parameters(value: int | None) -> str | None:
    if value is None or 0 <= value <= MAX_PARAMS:
        return None
    return f"{value!r} is not a number of body parameters: use 0 to {MAX_PARAMS}, or leave it out"


@frozen
class WhatsAppTemplate:
    """An approved message template of the WhatsApp Business Account (a ``templates`` entry).

    Attributes:
        name: the template's name as approved in WhatsApp Manager (``visit_reminder``).
        language: its language code (``pl``, ``en_US``); empty means the recipient's locale, read
            through ``[channels.whatsapp] languages``.
        parameters: how many body parameters (``{{1}}``...) the template has. Left out (or 1), the
            message's ``text`` on one line fills ``{{1}}``; 0 sends none; 2 or more are the text's
            lines, one parameter per line (see `tidings_whatsapp.messages`).
    """

    name: str
    language: str = ""
    parameters: int | None = None

    def __attrs_post_init__(self) -> None:
        check_fields(self, {"name": _check_name, "language": _check_language, "parameters": _check_parameters},
                     "channels.whatsapp template")


def _check_version(value: str) -> str | None:
    if _VERSION.fullmatch(value):
        return None
    return f"{value!r} is not a Graph API version: use one like 'v23.0'"


def _check_phone_number_id(value: str) -> str | None:
    if not value or _PHONE_NUMBER_ID.fullmatch(value):
        return None
    return (f"{value!r} is not a phone number id: it is the number WhatsApp Manager shows as \"Phone number ID\" "
            "(digits, like '106540352242922'), not the phone number itself")


def _check_region(value: str) -> str | None:
    if not value:
        return None
    import phonenumbers

    if value not in phonenumbers.SUPPORTED_REGIONS:
        return f"{value!r} is not a region code: use a two-letter ISO 3166 code in capitals, like 'PL' or 'IT'"
    return None


def _check_languages(value: Mapping[str, str]) -> str | None:
    for locale, code in value.items():
        if not _LANGUAGE.fullmatch(code):
            return f"{code!r} (for {locale!r}) is not a WhatsApp language code: use one like 'pl', 'en_US' or 'pt_BR'"
    return None


def _check_base_url(value: str) -> str | None:
    if value.startswith(("https://", "http://")):
        return None
    return f"{value!r} is not an http(s) URL: the Graph API's is 'https://graph.facebook.com'"


_CHECKS: dict[str, Callable[[Any], str | None]] = {
    "base_url": _check_base_url,
    "api_version": _check_version,
    "phone_number_id": _check_phone_number_id,
    "default_region": _check_region,
    "languages": _check_languages,
    "timeout": check_timeout,
}


@frozen
class WhatsAppConfig:
    """The ``[channels.whatsapp]`` settings.

    Attributes:
        base_url: the Graph API's root; messages go to ``{base_url}/{api_version}/{phone_number_id}/messages``.
        api_version: the Graph API version (``v23.0``).
        phone_number_id: the business phone number's id (WhatsApp Manager, "Phone number ID").
        access_token: a system user's access token; empty means ``$TIDINGS_WHATSAPP_ACCESS_TOKEN``.
        default_region: the ISO 3166 region national numbers are read in at a location with no
            ``region`` whose time zone belongs to no country.
        templates: rule id -> the approved template its messages use outside the customer-service window.
        default_template: the template of the rules ``templates`` does not name (none: such a message
            is sent only inside the window).
        languages: a recipient's locale -> the WhatsApp language code of the templates' translation
            (``en = "en_US"``), for templates without a ``language``.
        timeout: seconds to wait for the API before the attempt counts as a transient failure.
    """

    base_url: str = "https://graph.facebook.com"
    api_version: str = "v23.0"
    phone_number_id: str = ""
    access_token: str = field(default="", repr=False)
    default_region: str = ""
    templates: dict[str, WhatsAppTemplate] = field(factory=dict)
    default_template: WhatsAppTemplate | None = None
    languages: dict[str, str] = field(factory=dict)
    timeout: float = 10.0

    def __attrs_post_init__(self) -> None:
        check_fields(self, _CHECKS, "channels.whatsapp")   # every bad value at once, each under its own key

    def secret(self, environ: Mapping[str, str] | None = None) -> str:
        """The access token: the configured one, else ``$TIDINGS_WHATSAPP_ACCESS_TOKEN``, else empty."""
        return ACCESS_TOKEN.value(self.access_token, environ)

    def template_for(self, rule: str) -> WhatsAppTemplate | None:
        """The approved template a rule's messages use outside the window: its own, else the default one."""
        return self.templates.get(rule, self.default_template)

    def language_for(self, template: WhatsAppTemplate, locale: str) -> str:
        """The language code to send `template` in to a recipient of `locale`.

        The template's own ``language`` wins; then ``languages`` for the locale (``pt_BR``), then
        for its language (``pt``); then the locale itself, written as WhatsApp writes codes
        (``pt-BR`` → ``pt_BR``).
        """
        if template.language:
            return template.language
        written = locale.replace("-", "_")
        language = written.split("_")[0]
        return self.languages.get(written) or self.languages.get(language) or written
