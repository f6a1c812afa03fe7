"""Channel selection (PRODUCT §6): the usable channels in order, and why each other one is not."""

from __future__ import annotations

from tidings import Channel, Contact, NoAddress
from tidings.selection import choose


def channel(name: str, addresses: object) -> Channel:
    return Channel(name=name, summary="", parts=("text",), addresses=lambda c, s: addresses, connect=lambda s: None)


def test_no_address_is_an_empty_tuple_that_says_why() -> None:
    found = NoAddress("not_mobile")
    assert found == () and not found and len(found) == 0 and list(found) == []
    assert found.reason == "not_mobile" and repr(found) == "NoAddress('not_mobile')"


def test_a_channel_that_says_why_it_has_no_address_is_refused_with_that_detail() -> None:
    channels = {"pager": channel("pager", NoAddress("not_mobile")), "fax": channel("fax", ()),
                "mail": channel("mail", ("a@example.com",))}
    choice = choose(["pager", "fax", "mail"], Contact(id="c", consents={"mail": True}), role="client",
                    channels=channels, settings={})
    assert [c.channel.name for c in choice.usable] == ["mail"]
    assert choice.refused == {"pager": "invalid_address", "fax": "invalid_address"}
    assert choice.details == {"pager": "not_mobile"}   # a bare () gives no detail, as before


def test_the_reason_of_a_choice_with_no_usable_channel_is_still_invalid_address() -> None:
    choice = choose(["pager"], Contact(id="c"), role="staff", channels={"pager": channel("pager", NoAddress("no_phone"))},
                    settings={})
    assert not choice.usable and choice.reason == "invalid_address" and choice.details == {"pager": "no_phone"}
