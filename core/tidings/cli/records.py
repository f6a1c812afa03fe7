"""Commands that read the schedule store, or erase from it: log, forget."""

from __future__ import annotations

import json

import click

from tidings.cli.common import load

__all__ = ["forget", "log_"]


_LOG_COLUMNS = ("at", "subject", "status", "rule", "channel", "to", "reason", "due")


@click.command(name="log")
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
    cfg = load(config_path).config
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


@click.command()
@click.option("--config", "config_path", required=True, type=click.Path(dir_okay=False))
@click.option("--client", "client_id", required=True, help="The id of the client to erase.")
def forget(config_path: str, client_id: str) -> None:
    """Erase a client: its subjects' snapshots, pending messages (never sent) and delivery-log entries."""
    from tidings.store import open_store
    cfg = load(config_path).config
    store = open_store(cfg.tidings.store, namespace=cfg.tidings.namespace)
    removed = store.forget_client(client_id)
    store.close()
    counts = [(removed["subjects"], "subject snapshot", "subject snapshots"),
              (removed["pending"], "pending message", "pending messages"), (removed["log"], "log entry", "log entries")]
    click.echo(f"forgot client {client_id}: " + ", ".join(f"{n} {one if n == 1 else many}" for n, one, many in counts))
