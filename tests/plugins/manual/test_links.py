"""One-tap links carry the whole text, encoded for their scheme; the standard library's URL parser reads them back."""

from __future__ import annotations

from urllib.parse import parse_qs, unquote, urlsplit

from tidings_manual import one_tap_links

TEXT = "Hi Ola & Anna: 50% off #gel? 1+1=2 \u2014 \u017c\u00f3\u0142w \U0001f485\nSee you at 14:00."


def test_a_whatsapp_link_names_the_number_without_plus_and_carries_the_text() -> None:
    link = one_tap_links(("+48600100200",), text=TEXT)["whatsapp"]
    parts = urlsplit(link)
    assert (parts.scheme, parts.netloc, parts.path) == ("https", "wa.me", "/48600100200")
    assert parse_qs(parts.query, strict_parsing=True) == {"text": [TEXT]}
    assert not set(parts.query.partition("=")[2]) & set("&#?+= \n"), "nothing the URL would read as syntax"


def test_an_sms_link_keeps_the_international_number_and_carries_the_body() -> None:
    link = one_tap_links(("+48600100200",), text=TEXT)["sms"]
    assert link.startswith("sms:+48600100200?body=")
    parts = urlsplit(link)
    assert parts.path == "+48600100200"
    assert parse_qs(parts.query, strict_parsing=True) == {"body": [TEXT]}


def test_a_mailto_link_has_the_subject_and_the_body_with_crlf_line_breaks() -> None:
    link = one_tap_links(("+48600100200", "ola+salon@example.com"), text=TEXT, title="Visit & more?")["email"]
    parts = urlsplit(link)
    assert parts.scheme == "mailto" and unquote(parts.path) == "ola+salon@example.com"
    query = parse_qs(parts.query, strict_parsing=True)
    assert query == {"subject": ["Visit & more?"], "body": [TEXT.replace("\n", "\r\n")]}
    assert "%20" in parts.query and "+" not in parts.query, "RFC 6068: spaces as %20, never '+'"


def test_links_follow_the_configured_order_and_need_their_address() -> None:
    assert list(one_tap_links(("+48600100200", "ola@example.com"), text="x", offered=("email", "sms"))) == ["email", "sms"]
    assert list(one_tap_links(("ola@example.com",), text="x")) == ["email"]
    assert list(one_tap_links(("+48600100200",), text="x")) == ["whatsapp", "sms"]
