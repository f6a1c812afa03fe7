"""Channel selection (PRODUCT §6): the usable channels in order, and why each other one is not."""

from __future__ import annotations

from collections.abc import Callable, Collection

from tidings import Channel, Contact, NoAddress, PushSubscription
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


PUSH_AND_SMS = {
    "push": Channel(name="push", summary="", parts=("title", "body"), connect=lambda s: None,
                    addresses=lambda c, s: tuple(p.endpoint for p in c.push), address_key=lambda c, a: a),
    "sms": Channel(name="sms", summary="", parts=("text",), connect=lambda s: None,
                   addresses=lambda c, s: (c.phone,) if c.phone else ()),
}
OLA = Contact(id="c-1", phone="+48600100200", consents={"push": True, "sms": True},
              push=(PushSubscription("https://push.example/1"), PushSubscription("https://push.example/2")))


def gone_ones(*dead: str) -> Callable[[Channel, tuple[str, ...]], Collection[str]]:
    def gone(channel: Channel, addresses: tuple[str, ...]) -> Collection[str]:
        return {a for a in addresses if a in dead}
    return gone


def test_an_address_reported_gone_does_not_count_and_the_others_stay_in_order() -> None:
    choice = choose(["push", "sms"], OLA, role="client", channels=PUSH_AND_SMS, settings={},
                    gone=gone_ones("https://push.example/1"))

    assert [(c.channel.name, c.addresses) for c in choice.usable] == [("push", ("https://push.example/2",)),
                                                                       ("sms", ("+48600100200",))]


def test_a_channel_whose_every_address_is_gone_is_refused_as_address_gone() -> None:
    every = gone_ones("https://push.example/1", "https://push.example/2")
    choice = choose(["push", "sms"], OLA, role="client", channels=PUSH_AND_SMS, settings={}, gone=every)

    assert [c.channel.name for c in choice.usable] == ["sms"]
    assert choice.refused == {"push": "address_gone"}
    assert choose(["push"], OLA, role="client", channels=PUSH_AND_SMS, settings={}, gone=every).reason == "address_gone"
