"""The `tidings` command: check, plugins, simulate, preview, publish, worker, scheduler, log."""

from __future__ import annotations

import json
import signal
import sys
import threading
from datetime import datetime
from pathlib import Path
from typing import Any

import click

from tidings.errors import ConfigError, EventError, TidingsError


def _load(path: str) -> Any:
    from tidings.config import load_config
    try:
        return load_config(path)
    except ConfigError as e:
        _report(path, e)
        sys.exit(1)


def _report(path: str, error: ConfigError) -> None:
    click.echo(f"{path}: {len(error.problems)} problem{'s' if len(error.problems) != 1 else ''}", err=True)
    for problem in error.problems:
        click.echo(f"  {problem}", err=True)


def _setup_logging(json_logs: bool | None, level: str) -> None:
    from tidings.logging import configure
    configure(json=json_logs, level=level)


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="tidings")
@click.option("--log-json/--log-text", "json_logs", default=None, help="Log format (default: JSON unless on a terminal).")
@click.option("--log-level", default="warning", show_default=True, type=click.Choice(["debug", "info", "warning", "error"]))
def main(json_logs: bool | None, log_level: str) -> None:
    """tidings: the messages that keep a service business's clients coming back.

    Validate a configuration with `tidings check`, see what it would send with
    `tidings simulate`, and run it with `tidings worker` and `tidings scheduler`.
    """
    _setup_logging(json_logs, log_level)


@main.command()
@click.argument("config", type=click.Path(dir_okay=False))
def check(config: str) -> None:
    """Validate CONFIG and print every problem with its place; exit 1 on any."""
    cfg = _load(config)
    rules = len(cfg.rules)
    for warning in cfg.warnings:
        click.echo(f"  {warning}", err=True)
    from tidings.preview import sms_costs
    for line in sms_costs(cfg):
        click.echo(f"  {line}")
    click.echo(f"{config}: ok ({rules} rule{'s' if rules != 1 else ''}, {len(cfg.locations)} location{'s' if len(cfg.locations) != 1 else ''}, "
               f"channels: {', '.join(cfg.plugins.channels) or 'none'}, triggers: {', '.join(cfg.plugins.triggers) or 'none'})")


@main.command()
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


@main.command()
@click.option("--config", "config_path", type=click.Path(dir_okay=False), help="Mark plugins enabled, inert or missing for this config.")
def plugins(config_path: str | None) -> None:
    """List installed plugins: kind, name, distribution, version and state."""
    import tomllib

    from tidings.plugins import GROUPS, installed
    enabled: dict[str, list[str]] = {}
    if config_path:
        raw = tomllib.loads(Path(config_path).read_text(encoding="utf-8"))
        enabled = {k: list(v) for k, v in raw.get("plugins", {}).items()}
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
    widths = [max(len(str(r[i])) for r in [("KIND", "NAME", "DISTRIBUTION", "VERSION", "STATE"), *rows]) for i in range(5)]
    for row in [("KIND", "NAME", "DISTRIBUTION", "VERSION", "STATE"), *rows]:
        click.echo("  ".join(str(c).ljust(w) for c, w in zip(row, widths)).rstrip())


def _time(value: str | None) -> datetime | None:
    if value is None:
        return None
    from tidings.converter import parse_aware
    try:
        return parse_aware(value)
    except ValueError as e:
        raise click.BadParameter(str(e)) from None


@main.command()
@click.option("--config", "config_path", required=True, type=click.Path(dir_okay=False), help="The configuration (TOML).")
@click.option("--events", "events_path", required=True, type=click.Path(dir_okay=False, allow_dash=True), help="Events, one JSON object per line (- for stdin).")
@click.option("--until", help="Stop at this RFC 3339 time (default: when nothing is pending).")
@click.option("--output", "output_path", type=click.Path(dir_okay=False, allow_dash=True), default="-", help="Where to write the messages (JSON lines; default stdout).")
@click.option("--explain", is_flag=True, help="Also write skipped, suspended, restored and rescheduled messages, with reasons.")
def simulate(config_path: str, events_path: str, until: str | None, output_path: str, explain: bool) -> None:
    """Run EVENTS through the real pipeline on a virtual clock and write what would be sent."""
    from tidings.simulate import simulate as run
    cfg = _load(config_path)
    with click.open_file(events_path, encoding="utf-8") as events:
        records = run(cfg, events, until=_time(until), explain=explain, errors=sys.stderr)
    with click.open_file(output_path, "w", encoding="utf-8") as out:
        for record in records:
            out.write(json.dumps(record, ensure_ascii=False) + "\n")


@main.command()
@click.option("--config", "config_path", required=True, type=click.Path(dir_okay=False))
@click.option("--rule", "rule_id", required=True, help="The rule id to render.")
@click.option("--locale", help="Render in this locale (default: the sample client's).")
@click.option("--event", "event_path", type=click.Path(dir_okay=False), help="A JSON event to render for, instead of a sample.")
def preview(config_path: str, rule_id: str, locale: str | None, event_path: str | None) -> None:
    """Print RULE's message for each of its channels, with SMS encoding and segments."""
    from tidings.models import Event
    from tidings.preview import preview as render
    cfg = _load(config_path)
    event = Event.from_json(Path(event_path).read_text(encoding="utf-8")) if event_path else None
    try:
        click.echo(render(cfg, rule_id, locale=locale, event=event))
    except (TidingsError, KeyError) as e:
        raise click.ClickException(str(e)) from None


def _runtime(config_path: str) -> tuple[Any, Any]:
    from tidings.pipeline import build_pipeline, open_broker
    from tidings.store import open_store
    cfg = _load(config_path)
    broker = open_broker(cfg.tidings.broker)
    store = open_store(cfg.tidings.store, namespace=cfg.tidings.namespace)
    return cfg, build_pipeline(broker, cfg, store)


def _stop_event() -> threading.Event:
    stop = threading.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda *_: stop.set())
    return stop


@main.command()
@click.option("--config", "config_path", required=True, type=click.Path(dir_okay=False))
@click.option("--threads", default=4, show_default=True, help="Worker threads.")
def worker(config_path: str, threads: int) -> None:
    """Consume the queue: ingest events and deliver due messages, until SIGTERM."""
    from dramatiq import Worker

    from tidings.logging import get_logger
    cfg, pipeline = _runtime(config_path)
    stop = _stop_event()
    pipeline.broker.emit_after("process_boot")
    w = Worker(pipeline.broker, worker_threads=threads)
    w.start()
    get_logger("tidings.cli").warning("worker_started", broker=cfg.tidings.broker.split("@")[-1], threads=threads)
    stop.wait()
    w.stop()
    pipeline.broker.close()


@main.command()
@click.option("--config", "config_path", required=True, type=click.Path(dir_okay=False))
@click.option("--interval", default=1.0, show_default=True, help="Seconds between looks at the store.")
def scheduler(config_path: str, interval: float) -> None:
    """Move due messages from the schedule store to the queue, until SIGTERM."""
    from tidings.logging import get_logger
    cfg, pipeline = _runtime(config_path)
    stop = _stop_event()
    logger = get_logger("tidings.cli")
    logger.warning("scheduler_started", store=cfg.tidings.store.split("@")[-1])
    while not stop.is_set():
        if pipeline.enqueue_due() == 0:
            stop.wait(interval)
    pipeline.store.close()


@main.command()
@click.option("--config", "config_path", required=True, type=click.Path(dir_okay=False))
@click.argument("events_path", default="-", type=click.Path(dir_okay=False, allow_dash=True))
def publish(config_path: str, events_path: str) -> None:
    """Publish events (JSON lines from a file or stdin) to the pipeline."""
    from tidings.pipeline import events_from_lines
    cfg, pipeline = _runtime(config_path)
    if cfg.tidings.broker.startswith("memory://"):
        pipeline.ingest_actor = None   # the embedded default: nothing else would consume an in-memory queue
    published = rejected = 0
    with click.open_file(events_path, encoding="utf-8") as lines:
        for number, item in events_from_lines(lines):
            if isinstance(item, EventError):
                click.echo(f"line {number}: {item}", err=True)
                rejected += 1
                continue
            pipeline.publish(item)
            published += 1
    click.echo(f"published {published} event{'s' if published != 1 else ''}" + (f", rejected {rejected}" if rejected else ""))
    if rejected:
        sys.exit(1)


@main.command(name="log")
@click.option("--config", "config_path", required=True, type=click.Path(dir_okay=False))
@click.argument("subject_id", required=False)
@click.option("--client", "client_id", help="The feed of one client instead of one subject.")
def log_(config_path: str, subject_id: str | None, client_id: str | None) -> None:
    """Print the delivery log (sent, skipped, failed, ...) of SUBJECT_ID or of a --client."""
    from tidings.store import open_store
    if not subject_id and not client_id:
        raise click.UsageError("name a SUBJECT_ID or a --client")
    cfg = _load(config_path)
    store = open_store(cfg.tidings.store, namespace=cfg.tidings.namespace)
    for entry in store.log(subject=subject_id, client=client_id):
        click.echo(json.dumps(entry, ensure_ascii=False))


if __name__ == "__main__":
    main()
