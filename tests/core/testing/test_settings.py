"""The kit's settings helpers: a channel's table structured as the core does it, problems at their keys."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from attrs import frozen

from tidings import Channel, ConfigError, hookimpl
from tidings.converter import check_fields
from tidings.testing import settings_from, table_problems


def _positive(value: int) -> str | None:
    return None if value > 0 else f"{value!r} is not positive"


@frozen
class HookConfig:
    url: str = ""
    retries: int = 3

    def __attrs_post_init__(self) -> None:
        check_fields(self, {"retries": _positive}, "channels.hook")


class Hook:
    @hookimpl
    def tidings_channels(self) -> Iterator[Channel]:
        yield Channel(name="hook", summary="POST to a hook", parts=("text",), config_type=HookConfig,
                      addresses=lambda contact, settings: (), connect=lambda settings: None)  # type: ignore[arg-type,return-value]


def test_a_table_that_structures_has_no_problems() -> None:
    assert table_problems(HookConfig, {"url": "https://hooks.example", "retries": 5}) == []


def test_a_problem_of_a_table_is_one_line_at_its_key() -> None:
    assert table_problems(HookConfig, {"retries": 0}) == ["retries: 0 is not positive"]
    assert table_problems(HookConfig, {"ulr": "x"}) == ["ulr: unknown key 'ulr' (allowed: retries, url)"]


def test_settings_are_structured_through_a_deployment_of_the_plugin() -> None:
    settings = settings_from(Hook(), "hook", {"url": "https://hooks.example"})
    assert settings == HookConfig(url="https://hooks.example")


def test_a_bad_table_is_a_config_error_at_the_channels_keys() -> None:
    with pytest.raises(ConfigError) as bad:
        settings_from(Hook(), "hook", {"retries": 0})
    assert [str(p) for p in bad.value.problems] == ["channels.hook.retries: 0 is not positive"]
