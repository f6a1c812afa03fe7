"""Hook specifications: the contract between tidings and its plugins.

Every hook here is a registration hook. tidings calls each one once per
process, while it builds its registry (`tidings.plugins.build_registry`), and
each returns typed objects from `tidings.plugin_types`. No hook is called per
event; all per-event work goes through the returned objects.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import pluggy

if TYPE_CHECKING:
    from collections.abc import Iterable

    from tidings.plugin_types import Channel, TemplateFilter, TemplateGlobal, TemplateTexts, Trigger

_hookspec = pluggy.HookspecMarker("tidings")

# ---------------------------------------------------------------- channels


@_hookspec
def tidings_channels() -> Iterable[Channel]:
    """Register delivery channels.

    Called once, when the registry is built. A channel plugin registers exactly one
    channel, named after its entry point in the ``tidings.channels`` group; the core
    structures ``[channels.<name>]`` into its ``config_type`` and calls ``connect``
    with the result in each worker.

    Example::

        from tidings import hookimpl
        from tidings.plugin_types import Channel

        @hookimpl
        def tidings_channels():
            yield Channel(name="webhook", summary="POST each message to a URL",
                          parts=("text",), config_type=WebhookConfig,
                          addresses=webhook_addresses, connect=connect)
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
    """Register built-in texts: one template name in one locale, with each channel's parts.

    Called once, when the template environment is built. Trigger plugins register
    the default texts of their triggers here, for rules that name no template.

    Example::

        from tidings import hookimpl
        from tidings.plugin_types import TemplateTexts

        @hookimpl
        def tidings_template_texts():
            yield TemplateTexts(name="birthday", locale="en",
                                channels={"sms": {"text": "Happy birthday, {{ client.name }}!"}})
    """
    yield from ()
