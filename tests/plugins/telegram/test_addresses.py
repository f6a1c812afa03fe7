"""A contact's Telegram address: the chat id the host keeps in addresses.telegram."""

from __future__ import annotations

import pytest

from tidings import Contact

from tidings_telegram.addresses import chat_id, telegram_addresses


@pytest.mark.parametrize("value", ["987654321", "-1001234567890", "@salon_news", " 987654321 "])
def test_a_chat_id_or_a_public_username_is_an_address(value: str) -> None:
    assert telegram_addresses(Contact(id="c", addresses={"telegram": value}), None) == (value.strip(),)


@pytest.mark.parametrize(("addresses", "reason"), [
    ({}, "no_chat_id"),
    ({"telegram": ""}, "no_chat_id"),
    ({"telegram": "ola_nowak"}, "not_a_chat_id"),      # a username without @ names nobody the bot can write to
    ({"telegram": "12ab"}, "not_a_chat_id"),
    ({"telegram": "0"}, "not_a_chat_id"),
])
def test_a_contact_without_a_chat_has_no_address_and_says_why(addresses: dict[str, str], reason: str) -> None:
    found = telegram_addresses(Contact(id="c", phone="+48600100200", addresses=addresses), None)
    assert found == () and getattr(found, "reason", None) == reason


def test_a_numeric_chat_id_is_sent_as_an_integer_and_a_username_as_text() -> None:
    assert chat_id("-1001234567890") == -1001234567890
    assert chat_id("@salon_news") == "@salon_news"
