"""``tidings manual``: the queue for staff on the command line (``list``, ``done``, ``expire``).

Run with the deployment's configuration, anywhere on the line: ``tidings manual list --config
tidings.toml --location old-town``. The commands read and write the deployment's store, so with a
Redis store they see what every worker queued.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING

import click

from tidings_manual.queue import ManualError, ManualQueue

if TYPE_CHECKING:
    from tidings.commands import CommandContext


def _queue(context: CommandContext) -> ManualQueue:
    return ManualQueue.of(context.connect())


@click.group()
def manual() -> None:
    """The messages the manual channel queued for staff to send by hand."""


@manual.command(name="list")
@click.option("--location", help="Only the messages of this location (its id).")
@click.option("--json", "as_json", is_flag=True, help="One JSON object per message, links included.")
@click.pass_obj
def list_(context: CommandContext, location: str | None, as_json: bool) -> None:
    """List the queued messages, oldest first, each with its one-tap links (expired ones expire first)."""
    config = context.deployment.config
    if location is not None and location not in config.locations:
        known = ", ".join(config.locations) or "none"
        raise click.BadParameter(f"{location!r} is not a location of {context.config_path} (locations: {known})",
                                 param_hint="--location")
    messages = _queue(context).list(location)
    if as_json:
        for message in messages:
            click.echo(json.dumps(message.to_dict(), ensure_ascii=False))
        return
    if not messages:
        click.echo("nothing queued" + (f" at {location}" if location else ""), err=True)
        return
    for message in messages:
        click.echo(f"{message.id}  {message.location or '-'}  {message.rule}  to {message.recipient} ({message.to})"
                   f"  queued {message.queued_at:%Y-%m-%d %H:%M}")
        if message.title:
            click.echo(f"  {message.title}")
        for line in message.text.splitlines():
            click.echo(f"  | {line}")
        for kind, link in message.links.items():
            click.echo(f"  {kind}: {link}")
        click.echo("")
    click.echo(f"{len(messages)} queued; when one is sent: tidings manual done ID --config {context.config_path}")


@manual.command()
@click.argument("ident", metavar="ID")
@click.option("--by", help="Who sent it (kept in the delivery log).")
@click.pass_obj
def done(context: CommandContext, ident: str, by: str | None) -> None:
    """Mark the queued message ID sent by staff: the delivery log records it as sent."""
    try:
        message = _queue(context).done(ident, by=by)
    except ManualError as e:
        raise click.ClickException(str(e)) from None
    click.echo(f"{message.id}: sent ({message.rule}, {message.subject}, to {message.to})")


@manual.command()
@click.pass_obj
def expire(context: CommandContext) -> None:
    """Expire the queued messages nobody sent in time (a visit that began, or older than max_age)."""
    expired = _queue(context).expire()
    click.echo(f"{len(expired)} expired")
