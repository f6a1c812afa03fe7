"""The long-running processes and the way events come in: worker, scheduler, publish, status."""

from __future__ import annotations

import contextlib
import os
import shutil
import sys
from collections.abc import Iterator
from functools import partial
from typing import Any

import click

from tidings.cli.common import load, report
from tidings.errors import ConfigError, EventError

__all__ = ["publish", "scheduler", "status", "worker"]

# sysexits' EX_TEMPFAIL: some events were not acknowledged by the broker; publishing them again is safe
NOT_ACKNOWLEDGED = 75


def _pipeline(config_path: str, deployment: Any, **options: Any) -> Any:
    from tidings.runtime.build import pipeline_for
    try:
        return pipeline_for(deployment, **options)
    except ConfigError as e:
        report(config_path, e)
        sys.exit(1)


def _log_to(path: str | None) -> None:
    """Send the process's log lines to `path` (``--log-file``) in the format and at the level the group was given."""
    if path is None:
        return
    from pathlib import Path

    from tidings.logging import configure
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    options = click.get_current_context().find_root().params
    configure(json=True if options.get("json_logs") is None else options["json_logs"],
              level=options.get("log_level", "warning"), path=path)


_PID_FILE = click.option("--pid-file", type=click.Path(dir_okay=False),
                         help="Write this process's pid here while it runs (refused if that pid is alive).")
_LOG_FILE = click.option("--log-file", type=click.Path(dir_okay=False),
                         help="Write the log here (appended; reopened when logrotate moves it) instead of stderr.")


@click.command()
@click.option("--config", "config_path", required=True, type=click.Path(dir_okay=False))
@click.option("--threads", default=4, show_default=True, help="Worker threads per process.")
@click.option("--concurrency", default=64, show_default=True, type=click.IntRange(min=1),
              help="Messages a process delivers at once, over every batch its worker threads took.")
@click.option("--processes", default=1, show_default=True, type=click.IntRange(min=1),
              help="Worker processes: more than one runs them under this one, which passes signals on.")
@_PID_FILE
@_LOG_FILE
@click.option("--metrics-port", type=click.IntRange(0, 65535),
              help="Serve Prometheus metrics on this port (of every worker process, added up).")
@click.option("--record-metrics", is_flag=True, hidden=True, help="A worker process under --processes: record, do not serve.")
def worker(config_path: str, threads: int, concurrency: int, processes: int, pid_file: str | None, log_file: str | None,
           metrics_port: int | None, record_metrics: bool) -> None:
    """Consume the queue: ingest events and deliver due messages, until SIGTERM or SIGINT.

    Outages of the store or the broker are waited out (one log line when one goes, one when it is
    back); SIGHUP reloads the configuration, if it passes `tidings check`.
    """
    from tidings.runtime.worker import run_worker
    with _running(config_path, pid_file=pid_file, log_file=log_file, metrics_port=metrics_port) as (signals, deployment):
        if processes > 1:
            from tidings.runtime.supervisor import Supervisor
            argv = _child_argv(config_path, threads=threads, concurrency=concurrency, log_file=log_file, metrics=metrics_port is not None)
            sys.exit(Supervisor(argv, processes, signals).run())
        try:
            run_worker(deployment, config_path=config_path, signals=signals, threads=threads, concurrency=concurrency,
                       metrics=metrics_port is not None or record_metrics)
        except ConfigError as e:
            report(config_path, e)
            sys.exit(1)


@contextlib.contextmanager
def _running(config_path: str, *, pid_file: str | None, log_file: str | None,
             metrics_port: int | None) -> Iterator[tuple[Any, Any]]:
    """A long-running process's start: its signals, its log, its deployment, its pid file and its metrics."""
    from tidings.runtime.pidfile import pid_file as pid_file_of
    from tidings.runtime.signals import Signals
    signals = Signals.install()   # first: a signal while the plugins load is not lost
    _log_to(log_file)
    deployment = load(config_path)
    with pid_file_of(pid_file), _metrics(metrics_port, deployment):
        yield signals, deployment


@contextlib.contextmanager
def _metrics(port: int | None, deployment: Any) -> Iterator[None]:
    """Serve the metrics on `port` while the block runs (nothing when None); the directory made for them goes after."""
    if port is None:
        yield
        return
    from tidings.runtime.metrics import prepare, serve
    given = "PROMETHEUS_MULTIPROC_DIR" in os.environ
    directory = prepare()
    server = serve(port, deployment)
    try:
        yield
    finally:
        server.shutdown()
        if not given:
            shutil.rmtree(directory, ignore_errors=True)


def _child_argv(config_path: str, *, threads: int, concurrency: int, log_file: str | None, metrics: bool) -> list[str]:
    """The command line of one worker process under `--processes`: this one's, for one process."""
    options = click.get_current_context().find_root().params
    argv = [sys.executable, "-m", "tidings.cli", "--log-level", options.get("log_level", "warning")]
    if options.get("json_logs") is not None:
        argv.append("--log-json" if options["json_logs"] else "--log-text")
    argv += ["worker", "--config", config_path, "--threads", str(threads), "--concurrency", str(concurrency)]
    return argv + (["--log-file", log_file] if log_file else []) + (["--record-metrics"] if metrics else [])


@click.command()
@click.option("--config", "config_path", required=True, type=click.Path(dir_okay=False))
@click.option("--interval", default=1.0, show_default=True, help="Seconds between looks at the store.")
@_PID_FILE
@_LOG_FILE
@click.option("--metrics-port", type=click.IntRange(0, 65535),
              help="Serve Prometheus metrics (pending, due, queue depths) on this port.")
def scheduler(config_path: str, interval: float, pid_file: str | None, log_file: str | None,
              metrics_port: int | None) -> None:
    """Move due messages from the schedule store to the queue, until SIGTERM or SIGINT.

    Outages of the store or the broker are waited out (one log line when one goes, one when it is
    back); SIGHUP reloads the configuration, if it passes `tidings check`.
    """
    from tidings.runtime.scheduler import run_scheduler
    with _running(config_path, pid_file=pid_file, log_file=log_file, metrics_port=metrics_port) as (signals, deployment):
        run_scheduler(deployment, config_path=config_path, signals=signals, interval=interval)


@click.command()
@click.option("--config", "config_path", required=True, type=click.Path(dir_okay=False))
@click.option("--json", "as_json", is_flag=True, help="Print the status as one JSON object.")
def status(config_path: str, as_json: bool) -> None:
    """Print what the store holds (pending, due now, oldest overdue), the queues' depths and the processes alive."""
    import json
    from datetime import datetime, timezone

    from tidings.runtime.status import status as status_of
    found = status_of(load(config_path), now=datetime.now(timezone.utc))
    if as_json:
        click.echo(json.dumps(found))
        return
    click.echo(f"namespace {found['namespace']}: {found['pending']} pending, "
               f"{found['due_now'] if found['due_now'] is not None else '?'} due now, "
               f"oldest overdue {found['oldest_overdue_seconds']} s")
    for queue, depth in found["queues"].items():
        click.echo(f"queue {queue}: {depth['ready']} ready, {depth['delayed']} delayed, {depth['dead']} dead")
    kinds = [p["kind"] for p in found["processes"]]
    click.echo(f"alive: {kinds.count('worker')} worker{'s' if kinds.count('worker') != 1 else ''}, "
               f"{kinds.count('scheduler')} scheduler{'s' if kinds.count('scheduler') != 1 else ''}")
    for process in found["processes"]:
        click.echo(f"  {process['kind']} {process['host']}:{process['pid']}")


@click.command()
@click.option("--config", "config_path", required=True, type=click.Path(dir_okay=False))
@click.option("--retry-for", default=30.0, show_default=True,
              help="Seconds to keep trying to reach the broker for one event before giving up on it.")
@click.argument("events_path", default="-", type=click.Path(dir_okay=False, allow_dash=True))
def publish(config_path: str, retry_for: float, events_path: str) -> None:
    """Publish events (JSON lines from a file or stdin) to the pipeline.

    Exits 1 when a line was rejected (each is named with its line number), and 75 when the broker did
    not acknowledge some events within --retry-for seconds (their line numbers are printed; publishing
    them again is safe, an event is planned once).
    """
    from tidings.errors import PublishError
    from tidings.pipeline import events_from_lines
    from tidings.pipeline.build import PUBLISH_BATCH
    from tidings.runtime.outages import Outage, QuietReconnects, is_connection_error, keep_trying
    pipeline = _pipeline(config_path, load(config_path), inline_if_embedded=True)
    broker = Outage("broker", "publish")
    QuietReconnects(broker).install()
    published = rejected = 0
    unacknowledged: list[int] = []
    given_up = False
    last_error: BaseException | None = None
    numbers: list[int] = []   # the line of each event handed to publish_many, by its position

    def valid(lines: Any) -> Iterator[Any]:
        nonlocal rejected
        for number, item in events_from_lines(lines, pipeline.reader):
            if isinstance(item, EventError):
                click.echo(f"line {number}: {item}", err=True)
                rejected += 1
                continue
            numbers.append(number)
            yield item

    def one_by_one(event: Any, number: int) -> bool:
        """Publish `event` on its own, waiting out an outage for --retry-for (once the broker stayed away that
        long, each further one gets one attempt); False when the broker did not acknowledge it."""
        nonlocal given_up, last_error
        try:
            keep_trying(partial(pipeline.publish, event), outage=broker, within=0.0 if given_up else retry_for)
        except Exception as e:
            if not is_connection_error(e):
                raise
            given_up, last_error = True, e
            unacknowledged.append(number)
            return False
        given_up = False
        return True

    with click.open_file(events_path, "rb") as lines:
        # in batches while the broker takes them; an event of a batch it did not take goes on its own
        for batch in _batches(valid(lines), PUBLISH_BATCH):
            first = len(numbers) - len(batch)
            try:
                outcomes = list(pipeline.publish_many(batch)) if not given_up else None
            except Exception as e:
                if not is_connection_error(e):
                    raise
                outcomes = None
            if outcomes is None:
                published += sum(one_by_one(event, numbers[first + i]) for i, event in enumerate(batch))
                continue
            for index, outcome in outcomes:
                if isinstance(outcome, PublishError):
                    published += one_by_one(batch[index], numbers[first + index])
                elif isinstance(outcome, EventError):
                    click.echo(f"line {numbers[first + index]}: {outcome}", err=True)
                    rejected += 1
                else:
                    published += 1
    click.echo(f"published {published} event{'s' if published != 1 else ''}" + (f", rejected {rejected}" if rejected else "")
               + (f", not acknowledged {len(unacknowledged)}" if unacknowledged else ""))
    if unacknowledged:
        from tidings.logging import mask
        click.echo(f"cannot reach the broker: the events on line{'s' if len(unacknowledged) != 1 else ''} "
                   f"{_ranges(unacknowledged)} were not acknowledged; publish them again (an event is planned once). "
                   f"Last error: {mask(f'{type(last_error).__name__}: {last_error}')}", err=True)
        sys.exit(NOT_ACKNOWLEDGED)
    if rejected:
        sys.exit(1)


def _batches(items: Iterator[Any], size: int) -> Iterator[list[Any]]:
    """`items` in lists of `size` (the last one shorter)."""
    batch: list[Any] = []
    for item in items:
        batch.append(item)
        if len(batch) == size:
            yield batch
            batch = []
    if batch:
        yield batch


def _ranges(numbers: list[int]) -> str:
    """1, 2, 3, 5 -> '1-3, 5'."""
    spans: list[list[int]] = []
    for n in numbers:
        if spans and n == spans[-1][1] + 1:
            spans[-1][1] = n
        else:
            spans.append([n, n])
    return ", ".join(f"{a}-{b}" if a != b else str(a) for a, b in spans)
