"""`check_templates`: every template problem of a deployment, found before anything is sent."""

from __future__ import annotations

import difflib

from tidings.errors import Problem, TemplateError
from tidings.templates.catalog import Templates
from tidings.templates.samples import sample_context
from tidings.templates.static import template_problems

__all__ = ["check_templates"]


def check_templates(templates: Templates) -> list[Problem]:
    """Every template problem of a configuration: compile, static checks, and a render on a sample per rule."""
    config, registry = templates.config, templates.registry
    problems = list(templates.problems)
    for (name, locale, channel, part), where in sorted(templates.places.items(), key=lambda kv: kv[1]):
        source = templates.deployer[name][locale][channel][part]
        problems.extend(template_problems(templates.env(templates.is_html(channel, part)), source, where))
    static = {p.path for p in problems}
    for index, rule in enumerate(config.rules):
        place = f"rules[{index}] ({rule.id})"
        if rule.trigger not in registry.triggers:
            continue
        if rule.template and rule.template not in templates.names():
            # the rule still sends: its trigger's built-in texts stand in (PRODUCT §4: the default)
            defined = ", ".join(sorted(templates.deployer)) or "none"
            close = difflib.get_close_matches(rule.template, list(templates.names()), n=1)
            hint = f"did you mean {close[0]!r}? " if close else ""
            problems.append(Problem(f"{place}.template", f"no template named {rule.template!r} ({hint}defined: {defined}); "
                                                         f"the built-in {rule.trigger} texts are used", warning=True))
        context = sample_context(templates, rule)
        for channel in rule.channel:
            found = templates.resolve(rule, channel, config.tidings.locale)
            if found is None:
                problems.append(Problem(f"{place}.template", f"template {rule.template or rule.trigger!r} has no text "
                                                             f"for channel {channel!r}"))
                continue
            locale, name, sources = found
            if any(templates.places.get((name, locale, channel, part)) in static for part in sources):
                continue    # already reported where the text is written
            registered = registry.channels.get(channel)
            channel_parts = registered.parts if registered is not None else tuple(sources)
            try:
                templates.render(rule=rule, channel=channel, parts=channel_parts, context=context,
                                 locale=config.tidings.locale)
            except TemplateError as e:
                problems.append(Problem(f"{place}.template", str(e)))
    return problems
