"""The `tidings` command: a click group, one module per group of commands.

- `authoring`: init, check, plugins, preview (writing a deployment)
- `simulation`: simulate, demo (the pipeline on a virtual clock)
- `processes`: worker, scheduler, publish, status (the processes, events coming in, and how they fare)
- `records`: log (what the schedule store holds)
- `common`: what they share (a checked deployment, its problems reported)
"""

from __future__ import annotations

from typing import Any

import click

from tidings.cli.authoring import check, init, plugins, preview
from tidings.cli.processes import publish, scheduler, status, worker
from tidings.cli.records import log_
from tidings.cli.simulation import demo, simulate
from tidings.errors import TidingsError

__all__ = ["main", "check", "init", "plugins", "preview", "simulate", "demo", "worker", "scheduler", "publish", "status", "log_"]


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



for _command in (check, init, plugins, simulate, demo, preview, publish, worker, scheduler, status, log_):
    main.add_command(_command)
