"""The `tidings` command: a click group, one module per group of commands.

- `authoring`: init, check, plugins, preview (writing a deployment)
- `simulation`: simulate, demo (the pipeline on a virtual clock)
- `processes`: worker, scheduler, publish, status (the processes, events coming in, and how they fare)
- `records`: log and forget (what the schedule store holds, and erasing a client from it)
- `common`: what they share (a checked deployment, its problems reported)

A name that is not a core command is a plugin's (`tidings.hookspecs.tidings_commands`), found
through the configuration of ``--config`` (`tidings.commands`).
"""

from __future__ import annotations

from typing import Any

import click

from tidings.cli.authoring import check, init, plugins, preview
from tidings.cli.processes import publish, scheduler, status, worker
from tidings.cli.records import forget, log_
from tidings.cli.simulation import demo, simulate
from tidings.errors import TidingsError

__all__ = ["main", "check", "init", "plugins", "preview", "simulate", "demo", "worker", "scheduler", "publish", "status", "log_", "forget"]


def _setup_logging(json_logs: bool | None, level: str) -> None:
    from tidings.logging import configure
    configure(json=json_logs, level=level)


class _Commands(click.Group):
    """The command group: a user's mistake (a missing file, an unreachable Redis) is one line, never a traceback.

    A name that is not a core command is looked up among the commands of the plugins that the
    configuration of ``--config`` enables (`tidings.hookspecs.tidings_commands`).
    """

    def resolve_command(self, ctx: click.Context, args: list[str]) -> tuple[str | None, click.Command | None, list[str]]:
        if not args or args[0] in self.commands or args[0].startswith("-"):
            return super().resolve_command(ctx, args)
        return _plugin_command(ctx, args[0], args[1:])

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


def _plugin_command(ctx: click.Context, name: str, args: list[str]) -> tuple[str, click.Command, list[str]]:
    """A plugin's command `name`, found through the configuration that `--config` in `args` names."""
    from tidings.cli.common import load
    from tidings.commands import CommandContext, config_option
    config, rest = config_option(args)
    if config is None:
        raise click.UsageError(f"no such command {name!r}; a plugin's command runs with --config CONFIG, "
                               "whose plugins provide it", ctx)
    deployment = load(config)
    found = deployment.registry.commands.get(name)
    if found is None:
        offered = ", ".join(sorted(deployment.registry.commands)) or "none"
        raise click.UsageError(f"no such command {name!r} (the plugins {config} enables add: {offered})", ctx)
    ctx.obj = CommandContext(deployment=deployment, config_path=config)
    return name, found.command, rest


@click.group(cls=_Commands, context_settings={"help_option_names": ["-h", "--help"]},
             epilog="Plugins add commands of their own: `tidings NAME --config CONFIG ...` runs the command NAME "
                    "of the plugins CONFIG enables (the manual channel's `tidings manual list`).")
@click.version_option(package_name="tidings")
@click.option("--log-json/--log-text", "json_logs", default=None, help="Log format (default: JSON unless on a terminal).")
@click.option("--log-level", default="warning", show_default=True, type=click.Choice(["debug", "info", "warning", "error"]))
def main(json_logs: bool | None, log_level: str) -> None:
    """tidings: the messages that keep a service business's clients coming back.

    Validate a configuration with `tidings check`, see what it would send with
    `tidings simulate`, and run it with `tidings worker` and `tidings scheduler`.
    """
    _setup_logging(json_logs, log_level)



for _command in (check, init, plugins, simulate, demo, preview, publish, worker, scheduler, status, log_, forget):
    main.add_command(_command)
