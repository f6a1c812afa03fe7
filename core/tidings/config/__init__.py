"""The deployer's configuration: read from TOML and structured into `tidings.rules` models.

- `tidings.config.loader`: the document's tables (``load_config``, ``parse_config``, ``read_config``);
- `tidings.config.rule_table`: one ``[[rules]]`` entry, with its trigger's own keys;
- `tidings.config.policies`: a rule's ``channel``, including the named policies (``prefer_sms``).

The models themselves (`Config`, `Rule`, `Location`, ...) live in `tidings.rules` and are
re-exported here. Checking a configuration beyond its structure is `tidings.check`.
"""

from __future__ import annotations

from tidings.config.loader import Loaded, load_config, parse_config, read_config, read_toml
from tidings.config.policies import POLICIES, channel_order
from tidings.converter import converter
from tidings.rules import KINDS, RECIPIENTS, Config, Contacts, Links, Location, PluginsTable, Rule, Settings

__all__ = ["KINDS", "POLICIES", "RECIPIENTS", "Config", "Contacts", "Links", "Loaded", "Location", "PluginsTable", "Rule",
           "Settings", "channel_order", "converter", "load_config", "parse_config", "read_config", "read_toml"]
