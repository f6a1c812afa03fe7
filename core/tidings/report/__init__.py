"""What a simulation did, for people: counts, timelines, the terminal summary and the HTML report."""

from __future__ import annotations

from tidings.report.summary import Summary
from tidings.report.text import client_text, summary_text, table
from tidings.report.timeline import Timeline, interesting, timelines

__all__ = ["Summary", "Timeline", "client_text", "interesting", "summary_text", "table", "timelines"]
