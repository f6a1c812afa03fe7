"""`tidings check`: everything wrong with a configuration, found without sending anything (PRODUCT §10).

Structuring (`tidings.config`) finds what is wrong with each value on its own. Checking goes on
from there with the plugins: every template is compiled, checked statically and rendered on a
sample for each rule and channel (`tidings.templates.check_templates`); each enabled channel looks
at its settings in every location (`Channel.check`) and, with `verify`, says whether it could
build its transport (`Channel.verify`, no I/O); and a rule none of whose channels can reach its
recipient, by what ``[contacts]`` says the host's records carry, is a warning (`tidings.reach`). Every problem is collected, then reported at once.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from tidings.config.loader import read_config, read_toml
from tidings.deployment import Deployment
from tidings.errors import ConfigError, Problem
from tidings.reach import reach_problems
from tidings.registry import Registry
from tidings.templates import check_templates

__all__ = ["check", "checked"]


def check(deployment: Deployment, *, verify: bool = False, require_env: bool = False) -> list[Problem]:
    """What is wrong with a deployment beyond its structure: errors, and warnings (``Problem.warning``).

    Args:
        verify: also ask each enabled channel whether it could build its transport with its settings
            (`Channel.verify`, no I/O), as ``tidings check`` does. Off for simulate, preview and the
            processes: they connect (the worker) or never do, and a worker reports it itself.
        require_env: with `verify`, what a channel finds missing from this process's environment
            (a secret from an environment variable) is an error instead of a warning; for a check
            run where the worker runs.
    """
    found: list[Problem] = []
    if verify:
        for name, settings in deployment.config.channels.items():
            for problem in _verify_channel(deployment, name, settings):
                found.append(problem if problem.warning and not require_env else Problem(problem.path, problem.message))
    found.extend(check_templates(deployment.templates))
    found.extend(_check_channels(deployment))
    found.extend(reach_problems(deployment))
    return found


def checked(source: Deployment | Mapping[str, Any] | str | os.PathLike[str], *, registry: Registry | None = None,
            path: Path | None = None, verify: bool = False, require_env: bool = False) -> Deployment:
    """The deployment of `source` (a file, a document or a deployment), checked; its warnings kept on it.

    A document that cannot be fully structured is still checked as far as it goes, so that one run
    reports its structural problems and its template problems together.

    Raises:
        ConfigError: listing every problem, structural and found by `check`.
    """
    if isinstance(source, Deployment):
        deployment, problems = source, []
    else:
        if isinstance(source, (str, os.PathLike)):
            path = Path(source)
            source = read_toml(path)
        loaded = read_config(source, registry=registry, path=path)
        deployment, problems = Deployment.of_loaded(loaded.config, loaded.registry), list(loaded.problems)
    found = check(deployment, verify=verify, require_env=require_env)
    problems.extend(p for p in found if not p.warning)
    if problems:
        raise ConfigError(problems)
    return deployment.with_warnings(tuple(p for p in found if p.warning))


def _verify_channel(deployment: Deployment, name: str, settings: Any) -> list[Problem]:
    """What channel `name` reports it would need to connect, or nothing when it cannot tell."""
    channel = deployment.registry.channels.get(name)
    if channel is None or channel.verify is None or settings is None:   # None: its table already has problems of its own
        return []
    try:
        return list(channel.verify(settings))
    except Exception as e:   # noqa: BLE001 - a plugin's bug is a problem to show, not a traceback out of `check`
        return [Problem(f"channels.{name}", f"the {name} channel could not verify its settings: {e!r}")]


def _check_channels(deployment: Deployment) -> list[Problem]:
    """What each enabled channel's own `check` finds in its settings, at every location (or the default one)."""
    config = deployment.config
    locations = [config.location(loc_id) for loc_id in config.locations] or [config.location(None)]
    found: list[Problem] = []
    for name in config.plugins.channels:
        channel = deployment.registry.channels.get(name)
        if channel is not None and channel.check is not None:
            found.extend(channel.check(config.channels.get(name), locations))
    return found
