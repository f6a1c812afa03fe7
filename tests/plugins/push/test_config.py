"""The [channels.push] table, structured by the core's one converter as `tidings check` does."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from tidings.converter import converter
from tidings.testing import table_problems
from tidings_push.config import VAPID_KEY_ENV, PushConfig


def problems(table: dict[str, Any]) -> list[str]:
    return table_problems(PushConfig, table)


def test_an_empty_table_gives_the_defaults() -> None:
    config = converter.structure({}, PushConfig)

    assert (config.vapid_private_key, config.vapid_subject) == ("", "")
    assert (config.ttl, config.urgency, config.timeout) == (86400, "normal", 10.0)


def test_a_full_table_is_structured(vapid_pem: str) -> None:
    config = converter.structure({"vapid_private_key": vapid_pem, "vapid_subject": "mailto:ops@salon.example",
                                  "ttl": 3600, "urgency": "high", "timeout": 5}, PushConfig)

    assert (config.ttl, config.urgency, config.timeout) == (3600, "high", 5.0)


def test_the_private_key_is_not_shown_in_the_settings_repr(vapid_pem: str) -> None:
    assert "PRIVATE" not in repr(PushConfig(vapid_private_key=vapid_pem))


def test_an_unknown_key_is_reported_with_the_allowed_ones() -> None:
    [problem] = problems({"vapid_key": "x"})

    assert problem.startswith("vapid_key: unknown key 'vapid_key' (allowed: ")
    assert "vapid_private_key" in problem


@pytest.mark.parametrize("subject", ["mailto:ops@salon.example", "mailto:admin@localhost",
                                     "https://salon.example", "https://salon.example/contact"])
def test_a_mailto_address_or_an_https_url_is_a_valid_subject(subject: str) -> None:
    assert converter.structure({"vapid_subject": subject}, PushConfig).vapid_subject == subject


@pytest.mark.parametrize("subject", ["ops@salon.example", "mailto:ops", "mailto:ops@", "http://salon.example",
                                     "https://", "https://salon example"])
def test_any_other_subject_is_refused_with_examples(subject: str) -> None:
    [problem] = problems({"vapid_subject": subject})

    assert problem.startswith(f"vapid_subject: {subject!r} is neither a mailto: address nor an https URL")
    assert "'mailto:ops@salon.example'" in problem


def test_an_unknown_urgency_is_refused_with_the_choices() -> None:
    assert problems({"urgency": "urgent"}) == [
        "urgency: 'urgent' is not an urgency (choose one of: very-low, low, normal, high)"]


@pytest.mark.parametrize("ttl", [-1, 28 * 24 * 3600 + 1])
def test_a_ttl_outside_zero_to_four_weeks_is_refused(ttl: int) -> None:
    [problem] = problems({"ttl": ttl})

    assert problem.startswith(f"ttl: {ttl!r} is not a number of seconds from 0 to 2419200")


def test_a_ttl_of_zero_means_deliver_now_or_never_and_is_allowed() -> None:
    assert converter.structure({"ttl": 0}, PushConfig).ttl == 0


def test_every_bad_value_is_reported_under_its_own_key() -> None:
    reported = problems({"vapid_subject": "ops", "urgency": "asap", "ttl": -5, "timeout": 0})

    assert [p.partition(":")[0] for p in reported] == ["vapid_subject", "ttl", "urgency", "timeout"]


def test_a_broken_inline_key_is_caught_by_check_without_being_repeated() -> None:
    broken = "-----BEGIN PRIVATE KEY-----\nbm90IGEga2V5\n-----END PRIVATE KEY-----"

    [problem] = problems({"vapid_private_key": broken})

    assert problem.startswith("vapid_private_key: is not a VAPID key")
    assert "bm90IGEga2V5" not in problem


def test_a_key_path_that_is_no_file_is_caught_by_check(tmp_path: Path) -> None:
    missing = tmp_path / "vapid.pem"

    assert problems({"vapid_private_key": str(missing)}) == [
        (f"vapid_private_key: {str(missing)!r} is not a file (give PEM text, a base64url P-256 private key, "
         "or the path of a file holding either)")]


def test_the_key_comes_from_the_environment_when_the_table_has_none(vapid_pem: str) -> None:
    environ = {VAPID_KEY_ENV: vapid_pem}

    assert PushConfig().private_key_source(environ) == (vapid_pem, "$TIDINGS_VAPID_PRIVATE_KEY")
    assert PushConfig(vapid_private_key=vapid_pem).private_key_source({VAPID_KEY_ENV: "other"}) == (
        vapid_pem, "channels.push.vapid_private_key")
    assert PushConfig().private_key_source({}) == ("", "channels.push.vapid_private_key")
