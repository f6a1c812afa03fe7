"""The `tidings` command: check, plugins, simulate, preview, publish, worker, scheduler, log, forget."""

from __future__ import annotations

import json
import shlex
import signal
import sys
import threading
from datetime import datetime
from pathlib import Path
from typing import Any

import click

from tidings.errors import ConfigError, EventError, TidingsError


def _load(path: str, *, verify: bool = False, require_env: bool = False) -> Any:
    """The deployment of the configuration at `path`, checked (every command refuses one with problems)."""
    from tidings.check import checked
    try:
        return checked(path, verify=verify, require_env=require_env)
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


class _Commands(click.Group):
    """The command group: a user's mistake (a missing file, an unreachable Redis) is one line, never a traceback."""

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except (click.ClickException, click.exceptions.Exit, click.Abort):
            raise
        except OSError as e:
            where = f"{e.filename}: " if e.filename else ""
            raise click.ClickException(f"{where}{e.strerror or e}") from None
        except (TidingsError, UnicodeError) as e:
            raise click.ClickException(str(e)) from None
        except Exception as e:
            # the broker's or the store's client cannot reach its server (redis, pika, dramatiq)
            if type(e).__module__.split(".")[0] in ("redis", "pika", "dramatiq") and "Connection" in type(e).__name__:
                from tidings.logging import mask
                raise click.ClickException(f"cannot reach the broker or the store: {mask(str(e)) or type(e).__name__}") from None
            raise


@click.group(cls=_Commands, context_settings={"help_option_names": ["-h", "--help"]})
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
    deployment = _load(config, verify=True, require_env=require_env)
    cfg = deployment.config
    rules = len(cfg.rules)
    for warning in deployment.warnings:
        click.echo(f"  {warning}", err=True)
    from tidings.costs import cost_lines
    for line in cost_lines(deployment):
        click.echo(f"  {line}")
    click.echo(f"{config}: ok ({rules} rule{'s' if rules != 1 else ''}, {len(cfg.locations)} location{'s' if len(cfg.locations) != 1 else ''}, "
               f"channels: {', '.join(cfg.plugins.channels) or 'none'}, triggers: {', '.join(cfg.plugins.triggers) or 'none'})")


def _problem(problem: Any) -> dict[str, Any]:
    return {"path": problem.path, "message": problem.message, "warning": problem.warning}


def _check_json(config: str, *, require_env: bool = False) -> None:
    from tidings.check import checked
    from tidings.costs import cost_lines
    try:
        deployment = checked(config, verify=True, require_env=require_env)
    except ConfigError as e:
        click.echo(json.dumps({"config": config, "ok": False, "problems": [_problem(p) for p in e.problems]}, ensure_ascii=False))
        sys.exit(1)
    cfg = deployment.config
    click.echo(json.dumps({"config": config, "ok": True, "problems": [_problem(p) for p in deployment.warnings],
                           "rules": [r.id for r in cfg.rules], "locations": list(cfg.locations),
                           "channels": list(cfg.plugins.channels), "triggers": list(cfg.plugins.triggers),
                           "costs": cost_lines(deployment)}, ensure_ascii=False))


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
@click.option("--report", "report_path", type=click.Path(dir_okay=False), help="Also write a self-contained HTML report of the run here.")
@click.option("--summary/--no-summary", default=True, show_default=True, help="Print counts per rule, channel and reason on stderr at the end.")
def simulate(config_path: str, events_path: str, until: str | None, output_path: str, explain: bool,
             report_path: str | None, summary: bool) -> None:
    """Run EVENTS through the real pipeline on a virtual clock and write what would be sent."""
    from tidings.report.progress import progress_bar
    from tidings.simulate import run
    deployment = _load(config_path)
    cfg = deployment.config
    stop = _time(until)
    with click.open_file(events_path, "rb") as events:   # bytes: a line that is not UTF-8 is one rejected event
        lines = events if events_path == "-" else events.readlines()
        total = None if events_path == "-" else sum(1 for line in lines if line.strip())
        with progress_bar(total, label="simulating") as tick:
            result = run(deployment, lines, until=stop, errors=sys.stderr, progress=tick)
    with click.open_file(output_path, "w", encoding="utf-8") as out:
        for record in result.records(explain=explain):
            out.write(json.dumps(record, ensure_ascii=False) + "\n")
    if report_path:
        from tidings.report.page import write_report
        write_report(report_path, result, cfg, title=f"tidings simulate: {Path(config_path).name}",
                     sources={"config": config_path, "events": events_path})
    if summary:
        from tidings.report import Summary, summary_text
        click.echo(summary_text(Summary.of_run(result, cfg)), err=True, nl=False)
        if report_path:
            click.echo(f"report: {report_path}", err=True)
    if result.rejected:
        # every other event ran; the exit status tells a script that some did not (each is named above)
        click.echo(f"{result.rejected} event{'s were' if result.rejected != 1 else ' was'} rejected", err=True)
        sys.exit(1)


def _month(value: str | None) -> Any:
    from datetime import date

    from tidings.demo import DEFAULT_MONTH
    if value is None:
        return DEFAULT_MONTH
    try:
        return datetime.strptime(value, "%Y-%m").date().replace(day=1)
    except ValueError:
        raise click.BadParameter(f"{value!r} is not a month (use YYYY-MM, like {date.today():%Y-%m})") from None


@main.command()
@click.option("--dir", "directory", default="tidings-demo", show_default=True, type=click.Path(file_okay=False),
              help="Where to write the demo's config, events, messages and report.")
@click.option("--month", help="The month to simulate, YYYY-MM (default: 2026-03, with the change to summer time).")
@click.option("--seed", default=2026, show_default=True, help="Another seed, another month of bookings.")
@click.option("--force", is_flag=True, help="Regenerate config.toml and events.jsonl even if you edited them.")
@click.option("--report/--no-report", default=True, show_default=True, help="Write report.html.")
def demo(directory: str, month: str | None, seed: int, force: bool, report: bool) -> None:
    """Simulate a month of a salon chain in Warsaw and Kyiv, and show what it sent and why.

    Writes config.toml and events.jsonl into --dir, runs them through the real pipeline on a virtual
    clock (as `tidings simulate` does: no provider settings, nothing is sent), and writes the messages
    (messages.jsonl, with --explain records) and report.html beside them. Running it again regenerates
    the files it wrote, but keeps (and uses) config.toml or events.jsonl if you edited them; --force
    replaces them too.
    """
    from tidings.demo import prepare
    from tidings.report import (
        Summary,
        client_text,
        interesting,
        summary_text,
        timelines,
    )
    from tidings.report.progress import progress_bar
    from tidings.simulate import run
    chosen = _month(month)
    folder = prepare(directory, month=chosen, seed=seed, force=force)
    for name in folder.kept:
        click.echo(f"kept your edited {folder.directory / name} (pass --force to regenerate it)", err=True)
    deployment = _load(str(folder.config))
    cfg = deployment.config
    lines = folder.events.read_text(encoding="utf-8").splitlines(keepends=True)
    with progress_bar(sum(1 for line in lines if line.strip()), label="simulating the month") as tick:
        result = run(deployment, lines, errors=sys.stderr, progress=tick)
    with folder.messages.open("w", encoding="utf-8") as out:
        for record in result.records(explain=True):
            out.write(json.dumps(record, ensure_ascii=False) + "\n")
    if report:
        from tidings.report.page import write_report
        write_report(folder.report, result, cfg, title=f"tidings demo: Lumen, {chosen:%B %Y}",
                     sources={"config": str(folder.config), "events": str(folder.events)})
    click.echo(f"tidings demo: Lumen, a salon chain in Warsaw and Kyiv, {chosen:%B %Y} (seed {seed})"
               + (" with your edits" if folder.kept else "") + "\n")
    click.echo(summary_text(Summary.of_run(result, cfg)))
    stories = timelines(result, cfg)
    picked = interesting(result)
    if picked:
        click.echo(f"{len(picked)} client{'s' if len(picked) != 1 else ''} of the month (times in the location's zone):\n")
    for client, why in picked:
        click.echo(client_text([t for t in stories if t.client == client], why=why))
    quote = shlex.quote
    click.echo(f"wrote {folder.config}, {folder.events}, {folder.messages}" + (f" and {folder.report}" if report else ""))
    click.echo("edit them and run the demo again, or run them yourself:")
    click.echo(f"  {_this_command()} simulate --config {quote(str(folder.config))} --events {quote(str(folder.events))} --explain "
               f"--output {quote(str(folder.messages))}" + (f" --report {quote(str(folder.report))}" if report else ""))


def _this_command() -> str:
    """How the user can run tidings again: `tidings` when that is on PATH, else this script's path (.venv/bin/tidings)."""
    import os
    import shutil
    script = Path(sys.argv[0])
    found = shutil.which("tidings")
    if script.name == "tidings" and (found is None or Path(found).resolve() != script.resolve()):
        relative = os.path.relpath(script)
        return shlex.quote(relative if not relative.startswith("..") else str(script))
    return "tidings"


@main.command()
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
    cfg = _load(config_path)
    event = Event.from_json(Path(event_path).read_text(encoding="utf-8")) if event_path else None
    try:
        if as_json:
            click.echo(json.dumps(preview_parts(cfg, rule_id, locale=locale, event=event), ensure_ascii=False))
        else:
            click.echo(render(cfg, rule_id, locale=locale, event=event))
    except (TidingsError, KeyError) as e:
        raise click.ClickException(str(e)) from None


def _runtime(config_path: str, *, connect: bool = False, inline_if_embedded: bool = False) -> tuple[Any, Any]:
    """The configuration and its pipeline; only with `connect` (the worker) are transports built.

    The scheduler and `publish` never deliver (the scheduler hands due messages to the queue, and
    `publish` ingests), so they need no provider secret and must not fail for lack of one.

    Args:
        inline_if_embedded: with the embedded in-memory broker, run without a broker (nothing in
            another process could consume an in-memory queue).
    """
    from tidings.pipeline import build_pipeline, connect_transports, open_broker
    from tidings.store import open_store
    deployment = _load(config_path)
    cfg = deployment.config
    try:
        transports = connect_transports(deployment) if connect else {}
    except ConfigError as e:
        _report(config_path, e)
        sys.exit(1)
    embedded = cfg.tidings.broker.startswith("memory://")
    broker = None if inline_if_embedded and embedded else open_broker(cfg.tidings.broker)
    store = open_store(cfg.tidings.store, namespace=cfg.tidings.namespace)
    return cfg, build_pipeline(broker, deployment, store, transports=transports)


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
    cfg, pipeline = _runtime(config_path, connect=True)
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
    _, pipeline = _runtime(config_path, inline_if_embedded=True)
    published = rejected = 0
    with click.open_file(events_path, "rb") as lines:
        for number, item in events_from_lines(lines, pipeline.reader):
            if isinstance(item, EventError):
                click.echo(f"line {number}: {item}", err=True)
                rejected += 1
                continue
            pipeline.publish(item)
            published += 1
    click.echo(f"published {published} event{'s' if published != 1 else ''}" + (f", rejected {rejected}" if rejected else ""))
    if rejected:
        sys.exit(1)


_LOG_COLUMNS = ("at", "subject", "status", "rule", "channel", "to", "reason", "due")


@main.command(name="log")
@click.option("--config", "config_path", required=True, type=click.Path(dir_okay=False))
@click.argument("subject_id", required=False)
@click.option("--client", "client_id", help="The feed of one client instead of one subject.")
@click.option("--format", "output_format", type=click.Choice(["json", "table"]), default="json", show_default=True,
              help="JSON lines (every field), or an aligned table of the main fields for people.")
def log_(config_path: str, subject_id: str | None, client_id: str | None, output_format: str) -> None:
    """Print the delivery log (sent, skipped, failed, ...) of SUBJECT_ID or of a --client."""
    from tidings.store import open_store
    if not subject_id and not client_id:
        raise click.UsageError("name a SUBJECT_ID or a --client")
    cfg = _load(config_path).config
    store = open_store(cfg.tidings.store, namespace=cfg.tidings.namespace)
    entries = store.log(subject=subject_id, client=client_id)
    if output_format == "json":
        for entry in entries:
            click.echo(json.dumps(entry, ensure_ascii=False))
        return
    from tidings.report import table
    if not entries:
        click.echo(f"nothing in the delivery log of {subject_id or 'client ' + str(client_id)}", err=True)
        return
    for line in table([c.upper() for c in _LOG_COLUMNS], ([e.get(c) for c in _LOG_COLUMNS] for e in entries)):
        click.echo(line)


@main.command()
@click.option("--config", "config_path", required=True, type=click.Path(dir_okay=False))
@click.option("--client", "client_id", required=True, help="The id of the client to erase.")
def forget(config_path: str, client_id: str) -> None:
    """Erase a client: its subjects' snapshots, pending messages (never sent) and delivery-log entries."""
    from tidings.store import open_store
    cfg = _load(config_path).config
    store = open_store(cfg.tidings.store, namespace=cfg.tidings.namespace)
    removed = store.forget_client(client_id)
    store.close()
    counts = [(removed["subjects"], "subject snapshot", "subject snapshots"),
              (removed["pending"], "pending message", "pending messages"), (removed["log"], "log entry", "log entries")]
    click.echo(f"forgot client {client_id}: " + ", ".join(f"{n} {one if n == 1 else many}" for n, one, many in counts))


if __name__ == "__main__":
    main()
