"""The Cloud API request for one tidings message: free text inside the customer-service window, else a template.

WhatsApp lets a business write freely only within 24 hours of the client's last message to it (the
customer-service window); outside it, a business-initiated message must be an approved template.
Only the host knows when a client last wrote, so the host says it: the client's
``addresses.whatsapp_window_until``, an RFC 3339 time with an offset (the last inbound message's
time plus 24 hours). While it is in the future, the message's ``text`` goes as free text
(``type: "text"``); otherwise it goes as the rule's template, filled with the text.

A template's body parameters (``{{1}}``, ``{{2}}``, ...) come from the message's one ``text`` part
(the channel's only part, of role ``short``). A template entry without ``parameters`` (or with 1)
gets the whole text as ``{{1}}``: one generic approved template carries every built-in text. One
with ``parameters = 0`` gets none. One with 2 or more gets the text's lines, one parameter per
non-empty line, so a deployer's template for the channel writes them::

    [templates.visit-details]
    whatsapp = '''{{ client.first_name }}
    {{ subject.start | datetime }}
    {{ location.name }}'''

Such a text is a list of values, not a message, so a rule whose template takes 2 or more
parameters always goes as its template, also inside the window (where templates are allowed
too). Meta refuses a parameter with a line break, a tab or more than four spaces in a row, so each
is sent on one line, its white space collapsed.
"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Any

from tidings.converter import parse_aware
from tidings.errors import PermanentDeliveryError
from tidings.logging import get_logger

if TYPE_CHECKING:
    from tidings.plugin_types import RenderedMessage
    from tidings_whatsapp.config import WhatsAppConfig, WhatsAppTemplate

log = get_logger(__name__)

WINDOW_KEY = "whatsapp_window_until"    # the host's signal, in the recipient's `addresses`


def window_until(message: RenderedMessage) -> datetime | None:
    """When the recipient's customer-service window closes, as the host said; None when it did not (or wrote junk)."""
    recipient = message.recipient
    value = recipient.addresses.get(WINDOW_KEY) if recipient is not None else None
    if not value:
        return None
    try:
        return parse_aware(value)
    except ValueError as e:
        # a window the host wrote wrong is a closed one: a template is always allowed, free text is not
        log.warning("whatsapp_window_unreadable", rule=message.rule, subject=message.subject, channel="whatsapp",
                    reason="window_unreadable", error=str(e))
        return None


def in_window(message: RenderedMessage, now: datetime) -> bool:
    """Whether the host said the recipient's customer-service window is still open at `now`."""
    until = window_until(message)
    return until is not None and now < until


def one_line(text: str) -> str:
    """A template parameter as Meta takes it: no line break, no tab, no run of spaces."""
    return " ".join(text.split())


def parameters(message: RenderedMessage, template: WhatsAppTemplate) -> list[str]:
    """The template's body parameters from the message's text (see the module docstring).

    Raises:
        PermanentDeliveryError: reason ``template_params`` when the text is empty, or has another
            number of lines than the template's declared ``parameters``.
    """
    text = message.parts.get("text", "")
    if template.parameters == 0:
        return []
    if template.parameters is None or template.parameters == 1:
        value = one_line(text)
        if not value:
            raise _params_error(template, "the message's text rendered empty (WhatsApp refuses an empty parameter)")
        return [value]
    values = [one_line(line) for line in text.splitlines() if line.strip()]
    if len(values) != template.parameters:
        raise _params_error(template, f"it takes {template.parameters} parameters, one per line of the text, and "
                                      f"the text has {len(values)} non-empty lines")
    return values


def free_text_allowed(template: WhatsAppTemplate | None) -> bool:
    """Whether the text is a message (free text may go inside the window), not a template's parameter lines."""
    return template is None or template.parameters is None or template.parameters <= 1


def _params_error(template: WhatsAppTemplate, problem: str) -> PermanentDeliveryError:
    return PermanentDeliveryError(f"the WhatsApp template {template.name!r} cannot be filled: {problem}",
                                  reason="template_params", details={"provider": "whatsapp", "template": template.name})


def request(message: RenderedMessage, config: WhatsAppConfig, *, now: datetime,
            idempotency_key: str) -> tuple[dict[str, Any], dict[str, Any]]:
    """The JSON body to post for `message`, and what the receipt tells of it (``type``, template, language).

    ``biz_opaque_callback_data`` carries the idempotency key: Meta returns it in the status
    webhooks of the message, so the host can tell which tidings message a report is about.

    Raises:
        PermanentDeliveryError: reason ``no_template`` when the message must be a template and the
            rule has none, or ``template_params`` (see `parameters`).
    """
    body: dict[str, Any] = {"messaging_product": "whatsapp", "recipient_type": "individual", "to": message.to,
                            "biz_opaque_callback_data": idempotency_key}
    text = message.parts.get("text", "")
    template = config.template_for(message.rule)
    if text and free_text_allowed(template) and in_window(message, now):
        body.update(type="text", text={"preview_url": False, "body": text})
        return body, {"type": "text"}
    if template is None:
        why = "the host did not say the client's 24-hour window is open" if text else "the message has no text"
        raise PermanentDeliveryError(
            f"rule {message.rule!r} has no WhatsApp template and {why}: a message outside the window must be an "
            f"approved template (set [channels.whatsapp.templates] {message.rule} = {{ name = ..., language = ... }} "
            "or default_template)", reason="no_template", details={"provider": "whatsapp"})
    language = config.language_for(template, message.locale)
    values = parameters(message, template)
    content: dict[str, Any] = {"name": template.name, "language": {"policy": "deterministic", "code": language}}
    if values:
        content["components"] = [{"type": "body", "parameters": [{"type": "text", "text": v} for v in values]}]
    body.update(type="template", template=content)
    return body, {"type": "template", "template": template.name, "language": language}
