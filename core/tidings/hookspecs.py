"""Hook specifications: the contract between tidings and its plugins.

Every hook but one is a registration hook. tidings calls each once per
process, while it builds its registry (`tidings.plugins.build_registry`), and
each returns typed objects from `tidings.plugin_types`; all per-event work
goes through the returned objects.

The exception is the one broadcast hook, `tidings_delivery_recorded`, for
observers (an audit sink, a webhook, a host removing gone push
subscriptions): the core calls every implementation with every delivery-log
entry, each inside its own guard that logs and goes on, because in pluggy one
raising implementation would stop the rest (dramatiq's ``emit_after`` does the
same for its middleware).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import pluggy

if TYPE_CHECKING:
    from collections.abc import Iterable, Mapping
    from typing import Any

    from tidings.plugin_types import Channel, Command, TemplateFilter, TemplateGlobal, TemplateTexts, Trigger

_hookspec = pluggy.HookspecMarker("tidings")

hookimpl = pluggy.HookimplMarker("tidings")
"""Marker to be imported and used in plugins (and for own implementations)::

    from tidings import hookimpl

    @hookimpl
    def tidings_channels():
        yield Channel(...)

It sits beside the specifications, as pluggy's and conda's markers do, so that it is a leaf: the
plugin types and the core's own filters import it without importing the plugin loader.
"""

# hooks the core calls per event, not once while it builds the registry
BROADCAST_HOOKS = ("tidings_delivery_recorded",)

# ---------------------------------------------------------------- channels


@_hookspec
def tidings_channels() -> Iterable[Channel]:
    """Register delivery channels.

    Called once, when the registry is built. A channel plugin registers exactly one
    channel, named after its entry point in the ``tidings.channels`` group; the core
    structures ``[channels.<name>]`` into its ``config_type`` and calls ``connect``
    with the result in each worker. Each of its template parts has a role
    (`tidings.plugin_types.ROLES`), by which it gets the built-in texts.

    Example::

        from tidings import hookimpl
        from tidings.plugin_types import Channel

        @hookimpl
        def tidings_channels():
            yield Channel(name="chat", summary="Post each message to a chat",
                          parts=("headline", "message"), roles={"headline": "title", "message": "text"},
                          config_type=ChatConfig, addresses=chat_addresses, connect=connect)
    """
    yield from ()


# ---------------------------------------------------------------- triggers


@_hookspec
def tidings_triggers() -> Iterable[Trigger]:
    """Register triggers.

    Called once, when the registry is built. A trigger plugin registers one trigger,
    named after its entry point in the ``tidings.triggers`` group. Its ``plan`` is a
    pure function ``(event, rule, history) -> intents`` that never reads the clock
    or writes the store.

    Example::

        from tidings import hookimpl
        from tidings.plugin_types import Send, Trigger

        @hookimpl
        def tidings_triggers():
            yield Trigger(name="birthday", summary="Wish the client a happy birthday",
                          rule_type=BirthdayRule, default_template="birthday",
                          plan=lambda event, rule, history: [Send(due=event.occurred_at)])
    """
    yield from ()


# ---------------------------------------------------------------- templates


@_hookspec
def tidings_template_filters() -> Iterable[TemplateFilter]:
    """Register Jinja filters available to every template.

    Called once, when the template environment is built; the core's own filters
    (``datetime``, ``date``, ``time``) are registered the same way.

    Example::

        from tidings import hookimpl
        from tidings.plugin_types import TemplateFilter

        @hookimpl
        def tidings_template_filters():
            yield TemplateFilter(name="shout", function=lambda text: str(text).upper())
    """
    yield from ()


@_hookspec
def tidings_template_globals() -> Iterable[TemplateGlobal]:
    """Register functions and values every template may call, such as ``confirm_url()``.

    Called once, when the template environment is built.

    Example::

        from tidings import hookimpl
        from tidings.plugin_types import TemplateGlobal

        @hookimpl
        def tidings_template_globals():
            yield TemplateGlobal(name="brand", value="Salon Ola")
    """
    yield from ()


@_hookspec
def tidings_template_texts() -> Iterable[TemplateTexts]:
    """Register built-in texts: one template name in one locale, one text per part role.

    Called once, when the template environment is built. Trigger plugins register
    the default texts of their triggers here, for rules that name no template. Every
    channel gets the text of each of its parts' roles (`tidings.plugin_types.ROLES`).

    Example::

        from tidings import hookimpl
        from tidings.plugin_types import TemplateTexts

        @hookimpl
        def tidings_template_texts():
            yield TemplateTexts(name="birthday", locale="en",
                                texts={"title": "Happy birthday!", "short": "Happy birthday, {{ client.name }}!"})
    """
    yield from ()


# ---------------------------------------------------------------- commands


@_hookspec
def tidings_commands() -> Iterable[Command]:
    """Register subcommands of ``tidings``: ``tidings <name> ... --config CONFIG``.

    Called once, when the registry is built, so only the plugins a configuration enables add
    commands: the core reads ``--config`` wherever it stands on the command line, and hands the
    command the checked deployment as click's ``ctx.obj`` (a `tidings.commands.CommandContext`).

    Example::

        import click
        from tidings import hookimpl
        from tidings.plugin_types import Command

        @click.command()
        @click.pass_obj
        def hello(context):
            click.echo(f"{len(context.deployment.config.rules)} rules")

        @hookimpl
        def tidings_commands():
            yield Command(name="hello", summary="Count the rules", command=hello)
    """
    yield from ()


# ---------------------------------------------------------------- observers


@_hookspec
def tidings_delivery_recorded(record: Mapping[str, Any]) -> None:
    """Receive every delivery-log entry as it is recorded (the one broadcast hook).

    Called by the worker that recorded it, after the entry is stored, for every
    entry: scheduled, sent, skipped, failed, ... and ``gone``, one per address a
    provider reported gone for good (``channel``, ``to``: the push endpoint), which
    tidings will not use again. An implementation that raises is logged and the
    others still run; delivery goes on either way. Keep it quick: it runs inside
    the dispatch of a message.

    Example::

        from tidings import hookimpl

        @hookimpl
        def tidings_delivery_recorded(record):
            if record["status"] == "gone" and record["channel"] == "push":
                forget_subscription(record["client"], endpoint=record["to"])
    """
