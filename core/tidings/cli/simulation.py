"""Commands that run the pipeline on a virtual clock: simulate and demo."""

from __future__ import annotations

import json
import shlex
import sys
from datetime import datetime
from pathlib import Path
from typing import Any

import click

from tidings.cli.common import load, parse_time

__all__ = ["demo", "simulate"]


@click.command()
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
    deployment = load(config_path)
    cfg = deployment.config
    stop = parse_time(until)
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


@click.command()
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
    deployment = load(str(folder.config))
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
