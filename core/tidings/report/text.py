"""The terminal forms of a run: aligned tables, the summary, and a client's timeline."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import TYPE_CHECKING, Any

from tidings.report.summary import CHANGES
from tidings.report.timeline import reason_text

if TYPE_CHECKING:
    from tidings.report.summary import Summary
    from tidings.report.timeline import Timeline

__all__ = ["client_text", "summary_text", "table"]

_CHANGE_WORDS = {"scheduled": "scheduled", "rescheduled": "moved", "suspended": "held", "restored": "restored",
                 "dropped": "dropped"}


def table(header: Sequence[str], rows: Iterable[Sequence[Any]], *, right: Iterable[int] = (),
          indent: str = "") -> list[str]:
    """Rows as lines of columns two spaces apart, each column as wide as its widest cell.

    Args:
        right: the columns to align right (numbers).
    """
    cells = [[("" if c is None else str(c)) for c in header], *[[("" if c is None else str(c)) for c in row] for row in rows]]
    widths = [max(len(row[i]) for row in cells) for i in range(len(header))]
    numeric = set(right)
    return [(indent + "  ".join(c.rjust(w) if i in numeric else c.ljust(w)
                                for i, (c, w) in enumerate(zip(row, widths, strict=True)))).rstrip() for row in cells]


def _plural(n: int, word: str) -> str:
    return f"{n} {word}{'' if n == 1 else 's'}"


def summary_text(summary: Summary) -> str:
    """Messages per rule and channel, what was not sent and why, and how messages were planned."""
    lines = [f"{_plural(summary.total_sent, 'message')} sent, {summary.total_skipped} not sent"
             + (f", {summary.total_failed} failed" if summary.total_failed else "")
             + f", from {_plural(summary.events, 'event')}"
             + (f" ({summary.rejected} rejected)" if summary.rejected else "")]
    if summary.sent:
        by_rule, by_channel = summary.by_rule(), summary.by_channel()
        rows = [[rule, *[summary.sent.get((rule, c), 0) or "-" for c in summary.channels], by_rule[rule]]
                for rule in summary.rules]
        rows.append(["total", *[by_channel[c] for c in summary.channels], summary.total_sent])
        columns = len(summary.channels) + 2
        lines += ["", *table(["sent", *summary.channels, "total"], rows, right=range(1, columns), indent="  ")]
    for title, counts in (("not sent", summary.skipped), ("failed", summary.failed)):
        if counts:
            ranked = sorted(counts.items(), key=lambda item: (-item[1], item[0]))
            lines += ["", *table([title, "", "why"], [[r, n, reason_text(r)] for r, n in ranked], right=[1], indent="  ")]
    planned = [f"{summary.changes[k]} {_CHANGE_WORDS[k]}" for k in CHANGES if summary.changes.get(k)]
    if planned:
        lines += ["", "  planning: " + ", ".join(planned)]
    return "\n".join(lines) + "\n"


def _compact(items: Sequence[tuple[str, dict[str, Any]]]) -> list[tuple[str, dict[str, Any]]]:
    """Leave out what the next line says anyway: "scheduled" for a message sent (or not) at once, and the
    "not sent" that follows a "dropped" for the same reason (a reminder moved to a time already past)."""
    out: list[tuple[str, dict[str, Any]]] = []
    for n, (subject, item) in enumerate(items):
        later = [i for s, i in items[n + 1:] if s == subject and i.get("rule") == item.get("rule") and i["at"] == item["at"]]
        if item["kind"] == "scheduled" and any(i["kind"] in ("sent", "queued", "skipped", "failed") for i in later):
            continue
        if item["kind"] == "skipped" and out and out[-1][0] == subject and out[-1][1]["kind"] == "dropped" \
                and out[-1][1].get("rule") == item.get("rule") and out[-1][1].get("why") == item.get("why"):
            continue
        out.append((subject, item))
    return out


def client_text(timelines: Sequence[Timeline], *, why: str = "") -> str:
    """One client's month: the lines of their subjects' timelines in order, times in the location's zone."""
    first = timelines[0]
    who = " · ".join(x for x in (first.client or "", first.client_name, first.locale or "", first.location_name) if x)
    merged = sorted(((datetime.fromisoformat(item["at"]), item["kind"] != "event", n, t.subject, item)
                     for t in timelines for n, item in enumerate(t.items)), key=lambda x: x[:3])
    rows = []
    for subject, item in _compact([(subject, item) for *_, subject, item in merged]):
        what = item["what"] if item["kind"] == "event" else f"{item['rule']} {item['what']}"
        rows.append([item["local"], subject, what + (f" ({item['why']})" if item.get("why") else "")])
    return "\n".join([who + (f": {why}" if why else ""), *table(["", "", ""], rows, indent="  ")[1:]]) + "\n"
