"""A contact's e-mail address, and the mailboxes of the settings."""

from __future__ import annotations

import pytest
from tidings.models import Contact
from tidings_email.addresses import Mailbox, ascii_address, email_addresses
from tidings_email.config import EmailConfig


@pytest.mark.parametrize(("email", "expected"), [
    ("anna@example.com", ("anna@example.com",)),
    ("  Anna.Nowak@EXAMPLE.com ", ("Anna.Nowak@example.com",)),   # the domain is case-insensitive, the local part is not
    ("ola@Łódź.example.com", ("ola@łódź.example.com",)),
    ("żółw@example.com", ("żółw@example.com",)),
])
def test_a_valid_address_is_returned_normalised(email: str, expected: tuple[str, ...]) -> None:
    assert email_addresses(Contact(id="c1", email=email), EmailConfig()) == expected


@pytest.mark.parametrize("email", [None, "", "   ", "anna", "anna@", "@example.com", "anna@@example.com",
                                   "anna@example", "anna nowak@example.com", "anna@example.com\r\nBcc: x@example.com",
                                   "Anna <anna@example.com>"])
def test_a_missing_or_invalid_address_gives_no_address(email: str | None) -> None:
    assert email_addresses(Contact(id="c1", email=email), None) == ()


def test_no_dns_lookup_decides_validity() -> None:
    # a domain that cannot resolve is still a valid address: the SMTP server is the judge
    assert email_addresses(Contact(id="c1", email="anna@no-such-domain-tidings.example"), None) == (
        "anna@no-such-domain-tidings.example",)


def test_an_internationalised_domain_has_an_ascii_form_for_smtp() -> None:
    assert ascii_address("ola@łódź.example.com") == "ola@xn--d-uga0v4h.example.com"
    assert ascii_address("żółw@example.com") == "żółw@example.com"   # no ASCII form: needs SMTPUTF8


@pytest.mark.parametrize(("value", "name", "address"), [
    ("Salon Ola <hello@salon.example>", "Salon Ola", "hello@salon.example"),
    ('"Ola, Salon" <hello@salon.example>', "Ola, Salon", "hello@salon.example"),
    ("hello@salon.example", "", "hello@salon.example"),
    ("Salon Oła <hello@SALON.example>", "Salon Oła", "hello@salon.example"),
])
def test_a_mailbox_is_read_with_or_without_a_display_name(value: str, name: str, address: str) -> None:
    assert Mailbox.parse(value) == Mailbox(name=name, address=address)


@pytest.mark.parametrize(("value", "complaint"), [
    ("Salon Ola", "not one mailbox"),
    ("a@salon.example, b@salon.example", "not one mailbox"),
    ("Salon <hello@salon>", "valid e-mail address"),
    ("Salon Ola <hello@salon.example>\r\nBcc: x@example.com", "line break"),
])
def test_a_bad_mailbox_is_refused_naming_the_value(value: str, complaint: str) -> None:
    with pytest.raises(ValueError, match=complaint) as refused:
        Mailbox.parse(value)
    assert repr(value) in str(refused.value)
