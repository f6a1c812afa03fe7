"""The HTML report of a simulation: one self-contained page (inline CSS, JS and SVG; no request leaves it).

The page embeds the run's data as JSON and draws from it: messages per day stacked by rule,
messages per channel, what was not sent and why, the rule × channel table, and every subject's
timeline, searchable by subject id, client id or rule. Everything it shows is text set through
the DOM, never HTML, so a client's name cannot inject markup.
"""

from __future__ import annotations

import json
from collections import Counter
from datetime import datetime, timedelta
from importlib.resources import files
from pathlib import Path
from typing import TYPE_CHECKING, Any

from tidings.report.summary import Summary
from tidings.report.timeline import interesting, reason_text, timelines

if TYPE_CHECKING:
    import os

    from tidings.config import Config
    from tidings.simulate import Run

__all__ = ["render", "report_data", "write_report"]

_PLACEHOLDER = "/*TIDINGS_DATA*/null"


def report_data(run: Run, config: Config, *, title: str = "tidings simulation",
                sources: dict[str, str] | None = None) -> dict[str, Any]:
    """Everything the page shows, as JSON-ready data."""
    summary = Summary.of_run(run, config)
    zone = config.tidings.timezone
    per_day: dict[str, Counter[str]] = {}
    for record in run.records():
        day = datetime.fromisoformat(record["at"]).astimezone(zone).date().isoformat()
        per_day.setdefault(day, Counter())[record["rule"]] += 1
    days = []
    if per_day:
        first, last = (datetime.fromisoformat(d).date() for d in (min(per_day), max(per_day)))
        for n in range((last - first).days + 1):
            day = (first + timedelta(days=n)).isoformat()
            days.append({"day": day, "rules": dict(per_day.get(day, {}))})
    stories = timelines(run, config)
    picked = dict(interesting(run))
    subjects = []
    for story in stories:
        data = story.to_dict()
        data["why"] = picked.get(story.client) if story.client else None
        subjects.append(data)
    clients = {s.client for s in stories if s.client}
    return {
        "title": title, "sources": sources or {}, "zone": zone.key,
        "summary": summary.to_dict(),
        "reasons": {r: reason_text(r) for r in [*summary.skipped, *summary.failed]},
        "locations": {loc_id: loc.name or loc_id for loc_id, loc in config.locations.items()},
        "days": days, "subjects": subjects, "clients": len(clients), "interesting": list(picked),
    }


def _script_json(data: Any) -> str:
    # inside <script>, "</script>" or "<!--" in a value would end the element: escape < > & as JSON allows
    text = json.dumps(data, ensure_ascii=False, separators=(",", ":"))
    return text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")


def render(data: dict[str, Any]) -> str:
    """The page for report data (`report_data`)."""
    template = files("tidings.report").joinpath("page.html").read_text(encoding="utf-8")
    title = (data.get("title") or "tidings").replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    return template.replace("{{TITLE}}", title).replace(_PLACEHOLDER, _script_json(data))


def write_report(path: str | os.PathLike[str], run: Run, config: Config, *, title: str = "tidings simulation",
                 sources: dict[str, str] | None = None) -> Path:
    """Write the report page of a run to `path`; returns the path."""
    target = Path(path)
    target.write_text(render(report_data(run, config, title=title, sources=sources)), encoding="utf-8")
    return target
