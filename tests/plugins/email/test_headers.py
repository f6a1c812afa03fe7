"""Header lines that no value can break: each is read back by the stdlib parser exactly as it was meant."""

from __future__ import annotations

from email import message_from_bytes, policy
from email.message import EmailMessage

import pytest
from tidings.errors import PermanentDeliveryError
from tidings_email import headers
from tidings_email.addresses import LINE_BREAKS

# text that reads as RFC 2047 encoded-words decoding to a line break, a header and a body
ENCODED_INJECTIONS = [
    "=?utf-8?q?Ola=0D=0AReply-To:_x@evil.example=0D=0A=0D=0APay_here?=",
    "=?UTF-8?Q?Ola=0D=0AReply-To:_x@evil.example=0D=0A=0D=0APay_here?=",
    "=?utf-8?b?T2xhDQpSZXBseS1UbzogeEBldmlsLmV4YW1wbGUNCg0KUGF5IGhlcmU=?=",
    "=?iso-8859-1?q?Ola=0AReply-To:_x@evil.example?=",
    "=?utf-8?q?Ola=E2=80=A8Reply-To:_x@evil.example?=",    # U+2028 LINE SEPARATOR
    "=?utf-8?q?Ola=C2=85Reply-To:_x@evil.example?=",        # U+0085 NEXT LINE
    "Ola =?utf-8?q?=0D=0AReply-To:_x@evil.example?= Nowak",
    # encoded twice: one decoding leaves another encoded-word
    "=?utf-8?q?=3D=3Futf-8=3Fq=3FOla=3D0D=3D0AReply-To=3A=5Fx=40evil.example=3F=3D?=",
]


def read(*lines: tuple[str, str]) -> EmailMessage:
    """A message with these header lines and the body "ours", as the stdlib parser reads it from the wire."""
    email = EmailMessage(policy=headers.POLICY)
    for name, value in lines:
        email.set_raw(name, value)
    email.set_content("ours")
    parsed = message_from_bytes(email.as_bytes().replace(b"\r\n", b"\n"), policy=policy.default)
    assert isinstance(parsed, EmailMessage)
    return parsed


@pytest.mark.parametrize("value", ENCODED_INJECTIONS)
def test_an_encoded_word_in_a_subject_is_shown_as_written_and_adds_nothing(value: str) -> None:
    email = read(("Subject", headers.unstructured("Subject", value)))

    assert str(email["Subject"]) == value
    assert email["Reply-To"] is None and email.get_content() == "ours\n"


@pytest.mark.parametrize("value", ENCODED_INJECTIONS)
def test_an_encoded_word_in_a_display_name_is_shown_as_written_and_adds_nothing(value: str) -> None:
    email = read(("To", headers.mailbox("To", value, "anna@example.com")))

    [address] = email["To"].addresses
    assert (address.display_name, address.addr_spec) == (" ".join(value.split()), "anna@example.com")
    assert email["Reply-To"] is None and email.get_content() == "ours\n"


@pytest.mark.parametrize("brk", sorted(LINE_BREAKS), ids=lambda c: f"U+{ord(c):04X}")
def test_every_kind_of_line_break_is_refused_in_every_kind_of_header(brk: str) -> None:
    for write in (lambda v: headers.unstructured("Subject", v), lambda v: headers.mailbox("To", v, "a@example.com"),
                  lambda v: headers.mailbox("To", "Ola", f"a{v}@example.com"), lambda v: headers.token("Message-ID", v),
                  headers.language_tag):
        with pytest.raises(PermanentDeliveryError) as refused:
            write(f"Ola{brk}Reply-To: x@evil.example")
        assert refused.value.reason == "header_injection"


@pytest.mark.parametrize("value", [
    "Напоминание о визите: 10 мар. 2026 г., 14:00",
    "Ваша запись перенесена на 10 сент. 2026 г., 15:00 — ждём вас в салоне «Старый город»",
    "Przypomnienie o wizycie: wtorek, 10 marca 2026, 14:00, Salon Piękności Stare Miasto, ul. Długa 1",
    "A plain English subject that is long enough to need folding somewhere along its length, surely",
    "two  spaces, a\ttab and trailing space ",
    " leading space",
    "😀 emoji 日本語 mixed with ASCII words and =? markers ?= here",
    "",
])
def test_a_subject_is_read_back_exactly_from_lines_of_at_most_78_characters(value: str) -> None:
    folded = headers.unstructured("Subject", value)

    assert str(read(("Subject", folded))["Subject"]) == value
    assert all(len(line) <= headers.MAX_LINE for line in f"Subject: {folded}".split("\r\n"))


@pytest.mark.parametrize(("name", "shown"), [
    ("Anna Nowak", "Anna Nowak"),
    ("O'Brien-Smith", "O'Brien-Smith"),
    ("Żak, Oła", "Żak, Oła"),
    ('Tom "the cat" <x@y>', 'Tom "the cat" <x@y>'),
    ("Dr.  Anna   Maria", "Dr. Anna Maria"),    # a run of spaces in a name is one space to every reader
    ("Александра Константиновна Преображенская-Щедрина", "Александра Константиновна Преображенская-Щедрина"),
])
def test_a_display_name_is_read_back_as_written(name: str, shown: str) -> None:
    [address] = read(("To", headers.mailbox("To", name, "anna@example.com")))["To"].addresses

    assert (address.display_name, address.addr_spec) == (shown, "anna@example.com")


def test_a_plain_name_and_subject_are_written_as_they_are() -> None:
    assert headers.mailbox("From", "Salon Ola", "hello@salon.example") == "Salon Ola <hello@salon.example>"
    assert headers.mailbox("From", "", "hello@salon.example") == "hello@salon.example"
    assert headers.unstructured("Subject", "Your visit on 10 March") == "Your visit on 10 March"


@pytest.mark.parametrize("address", ["a@example.com>, <x@evil.example", "a b@example.com", "=?utf-8?q?a?=@example.com", ""])
def test_an_address_that_is_not_one_mailbox_is_refused(address: str) -> None:
    with pytest.raises(PermanentDeliveryError) as refused:
        headers.mailbox("To", "Ola", address)

    assert refused.value.reason == "header_injection"


def test_a_lone_surrogate_is_refused_as_text_no_header_can_carry() -> None:
    with pytest.raises(PermanentDeliveryError) as refused:
        headers.unstructured("Subject", "Hi \udc80")

    assert refused.value.reason == "invalid_header"


@pytest.mark.parametrize(("locale", "tag"), [("pl", "pl"), ("pt_BR", "pt-BR"), ("=?utf-8?q?en?=", None), ("", None)])
def test_only_a_language_tag_becomes_content_language(locale: str, tag: str | None) -> None:
    assert headers.language_tag(locale) == tag
