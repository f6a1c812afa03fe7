"""Commands for writing a deployment: init, check, plugins, preview."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import click

from tidings.cli.common import load
from tidings.errors import ConfigError, TidingsError

__all__ = ["check", "init", "plugins", "preview"]


@click.command()
@click.argument("config", type=click.Path(dir_okay=False))
@click.option("--json", "as_json", is_flag=True, help="Print the result as one JSON object (problems with path, message, warning).")
@click.option("--require-env", is_flag=True,
              help="Fail, not warn, when a channel's secret or file is missing from this environment "
                   "(run it where the worker runs).")
def check(config: str, as_json: bool, require_env: bool) -> None:
    """Validate CONFIG and print every problem with its place; exit 1 on any.

    Each channel also says whether it could build its transport with its settings, without
    connecting to anything. A secret it would read from an environment variable, missing here, is a
    warning (this machine, a CI job say, need not hold the worker's secrets) unless --require-env.
    """
    if as_json:
        _check_json(config, require_env=require_env)
        return
    deployment = load(config, verify=True, require_env=require_env)
    cfg = deployment.config
    rules = len(cfg.rules)
    for warning in deployment.warnings:
        click.echo(f"  {warning}", err=True)
    from tidings.costs import cost_lines
    from tidings.reach import reach_lines
    for line in [*reach_lines(deployment), *cost_lines(deployment)]:
        click.echo(f"  {line}")
    click.echo(f"{config}: ok ({rules} rule{'s' if rules != 1 else ''}, {len(cfg.locations)} location{'s' if len(cfg.locations) != 1 else ''}, "
               f"channels: {', '.join(cfg.plugins.channels) or 'none'}, triggers: {', '.join(cfg.plugins.triggers) or 'none'})")


def _problem(problem: Any) -> dict[str, Any]:
    return {"path": problem.path, "message": problem.message, "warning": problem.warning}


def _check_json(config: str, *, require_env: bool = False) -> None:
    from tidings.check import checked
    from tidings.costs import cost_lines
    from tidings.reach import reach_lines
    try:
        deployment = checked(config, verify=True, require_env=require_env)
    except ConfigError as e:
        click.echo(json.dumps({"config": config, "ok": False, "problems": [_problem(p) for p in e.problems]}, ensure_ascii=False))
        sys.exit(1)
    cfg = deployment.config
    click.echo(json.dumps({"config": config, "ok": True, "problems": [_problem(p) for p in deployment.warnings],
                           "rules": [r.id for r in cfg.rules], "locations": list(cfg.locations),
                           "channels": list(cfg.plugins.channels), "triggers": list(cfg.plugins.triggers),
                           "reach": reach_lines(deployment), "costs": cost_lines(deployment)}, ensure_ascii=False))


@click.command()
@click.argument("path", default="tidings.toml", type=click.Path(dir_okay=False))
@click.option("--force", is_flag=True, help="Overwrite PATH if it exists.")
def init(path: str, force: bool) -> None:
    """Write a commented starter configuration to PATH (default: tidings.toml) that passes `tidings check`."""
    from importlib.resources import files
    target = Path(path)
    if target.exists() and not force:
        raise click.ClickException(f"{path} exists; pass --force to overwrite it")
    target.write_text(files("tidings").joinpath("starter/config.toml").read_text(encoding="utf-8"), encoding="utf-8")
    click.echo(f"wrote {path}: confirmation, 24 h and 1 h reminders, review request, repeat visit. "
               f"Next: tidings check {path}")


@click.command()
@click.option("--config", "config_path", type=click.Path(dir_okay=False), help="Mark plugins enabled, inert or missing for this config.")
@click.option("--json", "as_json", is_flag=True, help="Print the plugins as a JSON array of objects.")
def plugins(config_path: str | None, as_json: bool) -> None:
    """List installed plugins: kind, name, distribution, version and state."""
    import tomllib

    from tidings.plugins import GROUPS, installed
    enabled: dict[str, list[str]] = {}
    if config_path:
        try:
            raw = tomllib.loads(Path(config_path).read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as e:
            raise click.ClickException(f"{config_path}: {e}") from None
        # read from the raw table, so that listing imports no plugin; `tidings check` reports what is malformed
        table = raw.get("plugins", {})
        for kind, names in (table.items() if isinstance(table, dict) else ()):
            listed = [names] if isinstance(names, str) else names if isinstance(names, list) else []
            enabled[kind] = [name for name in listed if isinstance(name, str)]
    rows = []
    for kind in GROUPS:
        found = installed(kind)
        for name, infos in sorted(found.items()):
            for info in infos:
                state = ("enabled" if name in enabled.get(kind, []) else "inert") if config_path else "installed"
                if len(infos) > 1:
                    state += " (name claimed twice)"
                rows.append((kind[:-1], name, info.distribution, info.version, state))
        for name in enabled.get(kind, []):
            if name not in found:
                rows.append((kind[:-1], name, "-", "-", "missing"))
    header = ("KIND", "NAME", "DISTRIBUTION", "VERSION", "STATE")
    if as_json:
        click.echo(json.dumps([dict(zip((h.lower() for h in header), row, strict=True)) for row in rows]))
        return
    from tidings.report import table
    for line in table(header, rows):
        click.echo(line)


@click.command()
@click.option("--config", "config_path", required=True, type=click.Path(dir_okay=False))
@click.option("--rule", "rule_id", required=True, help="The rule id to render.")
@click.option("--locale", help="Render in this locale (default: the sample client's).")
@click.option("--event", "event_path", type=click.Path(dir_okay=False), help="A JSON event to render for, instead of a sample.")
@click.option("--json", "as_json", is_flag=True, help="Print the parts per channel as one JSON object.")
def preview(config_path: str, rule_id: str, locale: str | None, event_path: str | None, as_json: bool) -> None:
    """Print RULE's message for each of its channels, with what each channel says of it (an SMS's segments)."""
    from tidings.models import Event
    from tidings.preview import preview as render
    from tidings.preview import preview_parts
    cfg = load(config_path)
    event = Event.from_json(Path(event_path).read_text(encoding="utf-8")) if event_path else None
    try:
        if as_json:
            click.echo(json.dumps(preview_parts(cfg, rule_id, locale=locale, event=event), ensure_ascii=False))
        else:
            click.echo(render(cfg, rule_id, locale=locale, event=event))
    except (TidingsError, KeyError) as e:
        raise click.ClickException(str(e)) from None
