"""The MIME message of one e-mail, built without a server."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
from tidings.errors import PermanentDeliveryError
from tidings.plugin_types import RenderedMessage
from tidings_email.addresses import Mailbox
from tidings_email.mime import build_message, message_id

SENDER = Mailbox.parse("Salon Oła <hello@salon.example>")
WHEN = datetime(2026, 3, 10, 14, 0, tzinfo=ZoneInfo("Europe/Warsaw"))

MakeMessage = Callable[..., RenderedMessage]


def test_the_message_id_is_derived_from_the_idempotency_key_only() -> None:
    assert message_id("key-1", "salon.example") == message_id("key-1", "salon.example")
    assert message_id("key-1", "salon.example") != message_id("key-2", "salon.example")
    assert message_id("key-1", "salon.example").startswith("<") and message_id("key-1", "salon.example").endswith(
        "@salon.example>")


def test_date_is_written_in_utc_and_the_message_id_defaults_to_the_sender_domain(make_message: MakeMessage) -> None:
    email = build_message(make_message(), sender=SENDER, idempotency_key="key-1", date=WHEN)

    assert str(email["Date"]) == "Tue, 10 Mar 2026 13:00:00 +0000"
    assert str(email["Message-ID"]) == message_id("key-1", "salon.example")


def test_the_message_carries_its_language_and_says_it_was_sent_automatically(make_message: MakeMessage) -> None:
    email = build_message(make_message(locale="pl"), sender=SENDER, idempotency_key="key-1", date=WHEN)

    assert str(email["Content-Language"]) == "pl"
    assert str(email["Auto-Submitted"]) == "auto-generated"


def test_non_ascii_names_and_domains_are_encoded_for_smtp(make_message: MakeMessage) -> None:
    email = build_message(make_message(to="ola@łódź.example.com", name="Żak, Oła"), sender=SENDER,
                          idempotency_key="key-1", date=WHEN)

    wire = email.as_bytes()
    assert wire.isascii()
    assert b"<ola@xn--d-uga0v4h.example.com>" in wire
    assert email["To"].addresses[0].display_name == "Żak, Oła"
    assert email["From"].addresses[0].display_name == "Salon Oła"


def test_a_message_with_only_an_html_body_is_a_single_html_part(make_message: MakeMessage) -> None:
    email = build_message(make_message(text=""), sender=SENDER, idempotency_key="key-1", date=WHEN)

    assert email.get_content_type() == "text/html"


def test_a_message_with_no_body_at_all_is_refused(make_message: MakeMessage) -> None:
    with pytest.raises(PermanentDeliveryError) as refused:
        build_message(make_message(text="", html=""), sender=SENDER, idempotency_key="key-1", date=WHEN)

    assert refused.value.reason == "empty_message"


@pytest.mark.parametrize(("overrides", "header"), [
    ({"subject": "Hi\nBcc: victim@example.com"}, "Subject"),
    ({"subject": "Hi\rBcc: victim@example.com"}, "Subject"),
    ({"subject": "Hi\u2028Bcc: victim@example.com"}, "Subject"),
    ({"name": "Anna\r\nBcc: victim@example.com"}, "To"),
    ({"to": "anna@example.com\nBcc: victim@example.com"}, "To"),
    ({"locale": "pl\nBcc: victim@example.com"}, "Content-Language"),
])
def test_a_line_break_in_any_header_value_is_a_header_injection(
        make_message: MakeMessage, overrides: dict[str, str], header: str) -> None:
    with pytest.raises(PermanentDeliveryError) as refused:
        build_message(make_message(**overrides), sender=SENDER, idempotency_key="key-1", date=WHEN)

    assert refused.value.reason == "header_injection"
    assert refused.value.details == {"header": header}


def test_a_line_break_in_the_idempotency_key_is_a_header_injection(make_message: MakeMessage) -> None:
    with pytest.raises(PermanentDeliveryError) as refused:
        build_message(make_message(), sender=SENDER, idempotency_key="key\r\nBcc: x@example.com", date=WHEN)

    assert refused.value.reason == "header_injection"


def test_an_invalid_recipient_address_is_refused_as_invalid(make_message: MakeMessage) -> None:
    with pytest.raises(PermanentDeliveryError) as refused:
        build_message(make_message(to="not-an-address"), sender=SENDER, idempotency_key="key-1", date=WHEN)

    assert refused.value.reason == "invalid_address"
