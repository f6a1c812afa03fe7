"""The kit's fake JSON SMS provider: one delivery per idempotency key, and a lookup by key."""

from __future__ import annotations

import httpx

from tidings.testing import LocalJsonProvider


def post(provider: LocalJsonProvider, key: str, text: str) -> httpx.Response:
    return httpx.post(provider.url, json={"to": "+48600100200", "text": text}, headers={"Idempotency-Key": key})


def test_a_key_seen_before_gets_its_id_again_and_is_not_delivered_twice(local_json_provider: LocalJsonProvider) -> None:
    first, again, other = post(local_json_provider, "k-1", "Booked"), post(local_json_provider, "k-1", "Booked"), \
        post(local_json_provider, "k-2", "Moved")

    assert [(r.status_code, r.json()) for r in (first, again, other)] == [
        (201, {"id": "m-1"}), (200, {"id": "m-1"}), (201, {"id": "m-2"})]
    assert local_json_provider.texts() == ["Booked", "Moved"]
    assert local_json_provider.posts == {"k-1": 2, "k-2": 1}


def test_a_message_is_found_by_its_key_and_a_key_never_posted_is_not(local_json_provider: LocalJsonProvider) -> None:
    post(local_json_provider, "k-1", "Booked")

    found = httpx.get(f"{local_json_provider.url}/k-1")
    missing = httpx.get(f"{local_json_provider.url}/k-9")

    assert (found.status_code, found.json()) == (200, {"id": "m-1"})
    assert missing.status_code == 404
    assert local_json_provider.lookups == {"found": 1, "missing": 1}


def test_a_scripted_failure_delivers_nothing_and_the_retry_is_delivered(local_json_provider: LocalJsonProvider) -> None:
    local_json_provider.then(503, {"error": "busy"})
    assert post(local_json_provider, "k-1", "Booked").status_code == 503
    assert local_json_provider.delivered == []
    assert post(local_json_provider, "k-1", "Booked").status_code == 201
    assert local_json_provider.texts() == ["Booked"]
