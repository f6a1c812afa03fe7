"""`Templates`: every text a deployment can send, resolved by template, channel and locale, compiled once.

Where a text comes from, first match wins: the deployer's (`tidings.templates.sources`: the
templates directory, then the ``[templates.NAME]`` tables), then the texts plugins register
(`tidings_template_texts`, the triggers' built-in defaults), which are written per part role and
so serve any channel by the roles of its parts (`tidings.plugin_types.ROLES`).

A rule uses its `template`, or its trigger's built-in texts when it names none; a deployer template
that has no text for a channel falls back to the trigger's built-in text for it. Locales resolve
recipient locale → its language (``pl_PL`` → ``pl``) → the template's unlocalised texts →
``[tidings].locale`` → ``en``; whichever text is used, its filters write dates in the recipient's
locale (`Templates.format_locale`).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING, Any

from attrs import define, field
from jinja2 import TemplateSyntaxError

from tidings.errors import Problem, TemplateError
from tidings.templates.environment import registry_environment, render_source
from tidings.templates.locales import babel_knows, locale_chain, normalize_locale
from tidings.templates.sandbox import Sandbox
from tidings.templates.sources import DeployerTexts, Places, Sources

if TYPE_CHECKING:
    from tidings.plugin_types import TemplateTexts
    from tidings.registry import Registry
    from tidings.rules import Config, Rule

__all__ = ["Templates"]

Found = tuple[str | None, str, Mapping[str, str]]   # (locale, template name, part -> source)


@define
class Templates:
    """Every template a configuration can use, compiled once, rendered per message."""

    config: Config
    registry: Registry
    deployer: Sources
    builtin: dict[str, dict[str, list[TemplateTexts]]]     # name -> locale -> the texts plugins registered
    places: Places = field(factory=dict)                    # where each deployer text is written
    problems: list[Problem] = field(factory=list)           # found while loading
    _envs: dict[bool, Sandbox] = field(factory=dict)
    _compiled: dict[tuple[str, bool], Any] = field(factory=dict)
    # what depends on the configuration alone, worked out once: the text a (template, trigger) sends
    # through a channel in a recipient locale, the locale a render formats in, whether a part is HTML
    _resolved: dict[tuple[str | None, str, str, str | None], Found | None] = field(factory=dict)
    _format_locales: dict[tuple[str | None, str | None], str] = field(factory=dict)
    _html: dict[tuple[str, str], bool] = field(factory=dict)

    @classmethod
    def build(cls, config: Config, registry: Registry) -> Templates:
        """The templates of a configuration, with the texts, filters and globals of its registry's plugins.

        Sources that cannot be read are kept in `problems` (``tidings check`` reports them), not raised.
        """
        deployer = DeployerTexts.read(config, registry)
        builtin: dict[str, dict[str, list[TemplateTexts]]] = {}
        for texts in registry.texts:
            builtin.setdefault(texts.name, {}).setdefault(normalize_locale(texts.locale), []).append(texts)
        return cls(config=config, registry=registry, deployer=deployer.sources, builtin=builtin,
                   places=deployer.places, problems=deployer.problems)

    def env(self, html: bool) -> Sandbox:
        if html not in self._envs:
            self._envs[html] = registry_environment(self.registry, self.config.links, html=html,
                                                    channels=self.config.channels)
        return self._envs[html]

    def is_html(self, channel: str, part: str) -> bool:
        """Whether a channel's part is HTML (role ``html``): only HTML is autoescaped."""
        key = (channel, part)
        if key not in self._html:
            found = self.registry.channels.get(channel)
            self._html[key] = found.role(part) == "html" if found is not None else part == "html"
        return self._html[key]

    def compiled(self, source: str, html: bool) -> Any:
        key = (source, html)
        if key not in self._compiled:
            try:
                self._compiled[key] = self.env(html).from_string(source)
            except TemplateSyntaxError as e:
                raise TemplateError(f"line {e.lineno}: {e.message}") from None
            except (RecursionError, MemoryError):
                raise TemplateError("refused by the sandbox: the template is nested too deeply") from None
        return self._compiled[key]

    def names(self) -> set[str]:
        return set(self.deployer) | set(self.builtin)

    def builtin_texts(self, name: str, locale: str, channel: str) -> dict[str, str]:
        """The built-in texts of template `name` in `locale` for a channel's parts, by part name."""
        found = self.registry.channels.get(channel)
        texts: dict[str, str] = {}
        if found is not None:
            for registered in self.builtin.get(name, {}).get(locale, ()):
                texts.update(registered.for_channel(found))
        return texts

    def _names_of(self, rule: Rule) -> tuple[str, str | None]:
        trigger = self.registry.triggers.get(rule.trigger)
        default = trigger.default_template if trigger is not None else None
        return rule.template or default or "", default

    def resolve(self, rule: Rule, channel: str, locale: str | None) -> Found | None:
        """(locale, template name, part sources) of the text a rule sends through a channel, or None.

        It depends on the rule's template and trigger only, so it is looked up once for each of them,
        channel and locale (the texts do not change once loaded).
        """
        key = (rule.template, rule.trigger, channel, locale)
        if key not in self._resolved:
            self._resolved[key] = self._resolve(rule, channel, locale)
        return self._resolved[key]

    def _resolve(self, rule: Rule, channel: str, locale: str | None) -> Found | None:
        name, default = self._names_of(rule)
        chain = locale_chain(locale, self.config.tidings.locale)
        # the recipient's own locale first, then the template's unlocalised texts, then the configured locale and en
        own = locale_chain(locale, last=None)
        deployer = self.deployer.get(name, {})
        for loc in [*own, None, *chain]:
            texts = deployer.get(loc, {}).get(channel)
            if texts:
                return loc, name, texts
        for candidate in dict.fromkeys(n for n in (name, default) if n):
            for loc in chain:
                texts = self.builtin_texts(candidate, loc, channel)
                if texts:
                    return loc, candidate, texts
        return None

    def locales(self, rule: Rule, channel: str) -> list[str]:
        """The locales a rule's template (or its trigger's built-in one) has a text in for `channel`, sorted."""
        found: set[str] = set()
        for name in dict.fromkeys(n for n in self._names_of(rule) if n):
            found |= {loc for loc, texts in self.deployer.get(name, {}).items() if loc and channel in texts}
            found |= {loc for loc in self.builtin.get(name, {}) if self.builtin_texts(name, loc, channel)}
        return sorted(found)

    def format_locale(self, recipient: str | None, text: str | None) -> str:
        """The locale the ``datetime``, ``date`` and ``time`` filters (and ``money``, ``duration``) write in.

        Always the recipient's: a localised text in the recipient's language is in that language
        already (``pl_PL`` formats a ``pl`` text's dates the Polish way, with its regional details),
        and an unlocalised text, or another language's text used as a fallback, still gives the
        recipient a date they read at a glance ("10 mar 2026, 14:00", never "2:00 PM" for a Polish
        client). Only a locale Babel does not know falls back: to the text's, then ``[tidings].locale``.
        """
        key = (recipient, text)
        if key not in self._format_locales:
            self._format_locales[key] = self._format_locale(recipient, text)
        return self._format_locales[key]

    def _format_locale(self, recipient: str | None, text: str | None) -> str:
        for candidate in locale_chain(recipient, text, self.config.tidings.locale):
            if babel_knows(candidate):
                return candidate
        return "en"

    def render(self, *, rule: Rule, channel: str, parts: Iterable[str], context: Mapping[str, Any],
               locale: str | None) -> dict[str, str]:
        """The rendered parts of a rule's message for one channel; TemplateError if it cannot be."""
        found = self.resolve(rule, channel, locale)
        if found is None:
            raise TemplateError(f"template {rule.template or rule.trigger!r} has no text for channel {channel!r}")
        used, name, sources = found
        context = {**context, "_locale": self.format_locale(locale or context.get("_locale"), used)}
        out: dict[str, str] = {}
        for part in parts:
            if part in sources:
                where = f"template {name!r} ({used or 'default'}) {channel}.{part}"
                html = self.is_html(channel, part)
                try:
                    template = self.compiled(sources[part], html)
                except TemplateError as e:
                    raise TemplateError(f"{where}: {e}") from None
                out[part] = render_source(self.env(html), template, context, where=where)
        return out
