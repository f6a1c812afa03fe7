"""Message templates (PRODUCT §4): sandboxed Jinja, resolved by name, channel and locale.

One module per idea:

- `budget`: what one render may spend (steps, characters, time), charged as a template runs;
- `sandbox`: the immutable sandbox that charges it, and the filter wrapper that caps sizes;
- `undefined`: undefined values that are an error wherever they are used;
- `environment`: a sandbox with given filters and globals, and rendering one template on a budget;
- `filters`: the core's own filters (``datetime``, ``date``, ``time``, ``money``, ``duration``) and
  link globals (``confirm_url()``, ``cancel_url()``), registered through the hooks like a plugin's;
- `locales`: locale spelling and the chain texts are looked up by;
- `context`: what a template sees for one message; `samples`: a sample event for check and preview;
- `sources`: the deployer's texts (tables and directory); `catalog`: `Templates`, which resolves
  the deployer's and the plugins' texts (by part role) for a rule, channel and locale;
- `shapes`: the keys of each variable; `static`: problems found without rendering;
  `check`: every template problem of a deployment.
"""

from __future__ import annotations

from tidings.templates.budget import MAX_PART, Budget
from tidings.templates.catalog import Templates
from tidings.templates.check import check_templates
from tidings.templates.context import build_context
from tidings.templates.environment import (channel_settings, make_environment, registry_environment, render_source,
                                           render_text)
from tidings.templates.locales import locale_chain, normalize_locale
from tidings.templates.samples import Deployed, SampleData, sample_context, sample_event
from tidings.templates.sandbox import Sandbox
from tidings.templates.static import template_problems
from tidings.templates.undefined import StrictUndefined

__all__ = ["MAX_PART", "Budget", "Deployed", "SampleData", "Sandbox", "StrictUndefined", "Templates", "build_context",
           "channel_settings", "check_templates", "locale_chain", "make_environment", "normalize_locale",
           "registry_environment", "render_source", "render_text", "sample_context", "sample_event", "template_problems"]
