"""The template environment: a `Sandbox` with the filters and globals it is given, and rendering on a budget.

It takes what it needs, not a configuration: the filters and globals (the plugins', or the
core's own from `tidings.templates.filters`), the ``[links]`` table the link globals sign with, and
the channels' settings, which a plugin's global reads with `channel_settings`.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from typing import TYPE_CHECKING, Any

import jinja2
from jinja2 import TemplateSyntaxError, pass_context
from jinja2.exceptions import SecurityError, UndefinedError

from tidings.errors import TemplateError
from tidings.templates import budget
from tidings.templates import filters as filters_module
from tidings.templates.sandbox import Sandbox, capped
from tidings.templates.undefined import StrictUndefined, undefined_message

if TYPE_CHECKING:
    from tidings.plugin_types import TemplateFilter, TemplateGlobal
    from tidings.registry import Registry
    from tidings.rules import Links

__all__ = ["channel_settings", "make_environment", "registry_environment", "render_source", "render_text"]


def _json_default(value: Any) -> Any:
    if isinstance(value, jinja2.Undefined):
        value._fail_with_undefined_error()
    raise TypeError(f"{type(value).__name__} cannot be written as JSON")


def _sync(function: Any) -> Any:
    """Jinja's own filter itself where Jinja wraps it to choose, on every call, between it and its async twin.

    (``map``, ``select``, ``join``, ``list`` ... ask whether the environment is async each time they are called;
    a tidings environment never is, and the sync function keeps its own pass-context marker.)
    """
    return function.__wrapped__ if getattr(function, "jinja_async_variant", False) else function


def make_environment(*, filters: Iterable[TemplateFilter] | None = None, globals: Iterable[TemplateGlobal] | None = None,
                     links: Links | None = None, channels: Mapping[str, Any] | None = None, html: bool = False) -> Sandbox:
    """A sandbox with these filters and globals (by default the core's own), the ``[links]`` its link globals sign
    with, and the channels' structured settings by name (for `channel_settings`)."""
    env = Sandbox(undefined=StrictUndefined, autoescape=html, trim_blocks=True, lstrip_blocks=True,
                  keep_trailing_newline=False, auto_reload=False, cache_size=0)
    for unsafe in ("cycler", "joiner", "lipsum", "namespace"):
        env.globals.pop(unsafe, None)   # lipsum builds unbounded text; none of them is needed in a message
    env.policies["json.dumps_kwargs"] = {"sort_keys": True, "default": _json_default}   # `tojson` refuses undefined values
    for flt in filters_module.tidings_template_filters() if filters is None else filters:
        env.filters[flt.name] = pass_context(_bind(flt.function)) if flt.needs_context else flt.function
    for glob in filters_module.tidings_template_globals() if globals is None else globals:
        env.globals[glob.name] = pass_context(_bind(glob.value)) if glob.needs_context and callable(glob.value) else glob.value
    env.filters = {name: capped(_sync(fn), name) for name, fn in env.filters.items()}
    env.tidings_links = links   # type: ignore[attr-defined]  # read by the link globals
    env.tidings_channels = dict(channels or {})   # type: ignore[attr-defined]  # read through channel_settings
    return env


def registry_environment(registry: Registry, links: Links | None, *, html: bool,
                         channels: Mapping[str, Any] | None = None) -> Sandbox:
    """A sandbox with the filters and globals of a registry's plugins (the core's own among them)."""
    return make_environment(filters=registry.filters.values(), globals=registry.globals.values(), links=links,
                            channels=channels, html=html)


def channel_settings(context: Any, channel: str) -> Any:
    """The structured ``[channels.<channel>]`` settings of the configuration being rendered, or None.

    For a plugin's global or filter registered with ``needs_context=True``, which gets the render
    context first: the Telegram channel's ``telegram_start_url()`` reads its bot's username and
    link key here. None when the channel is not enabled, or the render has no configuration
    (`render_text`).
    """
    return getattr(context.environment, "tidings_channels", {}).get(channel)


def _bind(function: Any) -> Any:
    def bound(*args: Any, **kwargs: Any) -> Any:
        return function(*args, **kwargs)
    return bound


def render_source(env: Sandbox, source: str | Any, context: Mapping[str, Any], *, where: str = "template") -> str:
    """Render one template (a source string or a compiled Template) on a fresh budget; TemplateError on any fault."""
    token = budget.running()
    try:
        template = env.from_string(source) if isinstance(source, str) else source
        out: list[str] = []
        size = 0
        for chunk in _generate(template, context):
            size += len(chunk)
            if size > budget.MAX_PART:
                raise SecurityError(f"the rendered text is longer than {budget.MAX_PART} characters")
            out.append(chunk)
        return "".join(out).strip()
    except TemplateSyntaxError as e:
        raise TemplateError(f"{where}: line {e.lineno}: {e.message}") from None
    except SecurityError as e:
        raise TemplateError(f"{where}: refused by the sandbox: {e}") from None
    except UndefinedError as e:
        raise TemplateError(f"{where}: {undefined_message(e)}") from None
    except RecursionError:
        raise TemplateError(f"{where}: refused by the sandbox: recursion too deep") from None
    except MemoryError:
        raise TemplateError(f"{where}: refused by the sandbox: out of memory") from None
    except (TypeError, ValueError, ArithmeticError, LookupError, AttributeError) as e:
        raise TemplateError(f"{where}: {type(e).__name__}: {e}") from None
    finally:
        budget.reset(token)


def _generate(template: Any, context: Mapping[str, Any]) -> Iterator[str]:
    """``template.generate(context)``, without walking the template's globals twice per render.

    Jinja's `Template.generate` builds the render's context from ``dict(globals, **context)`` and the
    set of the globals' names, each time iterating the `ChainMap` of the environment's and the
    template's globals (slow for a few dozen names). Those do not change once the template is
    compiled (the environment is complete before), so their flat copy is kept on the template and
    the context made from it is the same one.
    """
    flat = getattr(template, "_tidings_globals", None)
    if flat is None:
        flat = template._tidings_globals = dict(template.globals)
    env = template.environment
    ctx = env.context_class(env, {**flat, **context}, template.name, template.blocks, globals=flat)
    try:
        yield from template.root_render_func(ctx)
    except Exception:
        yield env.handle_exception()


def render_text(source: str, context: Mapping[str, Any], *, locale: str = "en", zone: str = "UTC",
                html: bool = False, registry: Registry | None = None) -> str:
    """Render one template string with the core's filters (or a registry's), in a locale and time zone (tests, previews)."""
    env = make_environment(html=html) if registry is None else registry_environment(registry, None, html=html)
    return render_source(env, source, {**context, "_locale": locale, "_zone": zone})
