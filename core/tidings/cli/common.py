"""What the commands share: loading a checked deployment, reporting its problems, reading times."""

from __future__ import annotations

import sys
from datetime import datetime
from typing import Any

import click

from tidings.errors import ConfigError

__all__ = ["load", "report", "parse_time"]


def load(path: str, *, verify: bool = False, require_env: bool = False) -> Any:
    """The deployment of the configuration at `path`, checked (every command refuses one with problems)."""
    from tidings.check import checked
    try:
        return checked(path, verify=verify, require_env=require_env)
    except ConfigError as e:
        report(path, e)
        sys.exit(1)


def report(path: str, error: ConfigError) -> None:
    click.echo(f"{path}: {len(error.problems)} problem{'s' if len(error.problems) != 1 else ''}", err=True)
    for problem in error.problems:
        click.echo(f"  {problem}", err=True)



def parse_time(value: str | None) -> datetime | None:
    if value is None:
        return None
    from tidings.converter import parse_aware
    try:
        return parse_aware(value)
    except ValueError as e:
        raise click.BadParameter(str(e)) from None
