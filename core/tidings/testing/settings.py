"""A channel's settings as the core structures them, for a plugin's tests of its ``config_type``."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from cattrs.errors import BaseValidationError

from tidings.converter import converter, problems_from
from tidings.plugins import registry_for


def table_problems(config_type: type, table: Mapping[str, Any]) -> list[str]:
    """What the core finds wrong with a ``[channels.<name>]`` table: one line per problem, at its key.

    Empty when the table structures. Example: ``table_problems(SmsConfig, {"timeout": 0})`` is
    ``["timeout: 0 is not a positive number of seconds"]``.
    """
    try:
        converter.structure(dict(table), config_type)
    except BaseValidationError as e:
        return [str(p) for p in problems_from(e)]
    except ValueError as e:
        return [str(e)]
    return []


def settings_from(plugin: object, name: str, table: Mapping[str, Any]) -> Any:
    """Channel `name`'s settings structured from a ``[channels.<name>]`` table, as a deployment does it.

    Raises:
        ConfigError: listing what is wrong with the table, each problem at ``channels.<name>.<key>``.
    """
    from tidings.deployment import Deployment

    deployment = Deployment.from_config({"tidings": {"timezone": "UTC"}, "plugins": {"channels": [name], "triggers": []},
                                         "channels": {name: dict(table)}}, registry=registry_for(plugin))
    return deployment.config.channels[name]
