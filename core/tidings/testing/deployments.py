"""The deployment the process tests and the benchmarks run: one SMS per booking to a local JSON provider.

``booking_sms_config(store=..., url=...)`` is the text of a ``tidings.toml`` whose single rule sends
``Booked: <appointment id>`` by SMS when an appointment is created. Each test or benchmark adds what
it is about as TOML lines of its own: more ``[tidings]`` keys (a namespace, a lease), more SMS keys
(a lookup URL, a timeout), more keys of the rule (its delivery), or whole tables after the rule (more rules, their templates, ``[links]``).
"""

from __future__ import annotations


def booking_sms_config(*, store: str, url: str, broker: str | None = None, text: str = "Booked: {{ subject.id }}",
                       tidings: str = "", sms: str = "", rule: str = "", more: str = "", sender: str = "Salon") -> str:
    """A configuration sending `text` by SMS to the JSON provider at `url` for every created appointment.

    `broker` defaults to `store` (one Redis for both); `tidings`, `sms`, `rule` and `more` are TOML lines
    added as they are to the ``[tidings]`` table, to ``[channels.sms]``, to the rule and after its template.
    """
    return f"""\
[tidings]
timezone = "Europe/Warsaw"
broker = "{broker or store}"
store = "{store}"
{tidings}

[plugins]
channels = ["sms"]
triggers = ["status-change"]

[channels.sms]
provider = "json"
url = "{url}"
sender = "{sender}"
default_region = "PL"
{sms}

[[rules]]
id = "booked"
trigger = "status-change"
on = "created"
channel = "sms"
template = "booked"
{rule}

[templates.booked]
sms = "{text}"
{more}
"""
