"""The benchmark harness: tidings' data path beside its references, measured in the same run.

It starts its own `redis-server` on a spare port and a local HTTP SMS sink, runs each measurement
at least three times (tidings and its reference in the same run, one after the other), and prints a
table of medians with min and max, the ratio to the reference, and the issue's target, met or missed.
``docs/benchmarks.md`` says what each row measures and how.

Usage::

    .venv/bin/python bench/harness.py                   # the full run (the year rows need --year)
    .venv/bin/python bench/harness.py --year --json bench.json
    .venv/bin/python bench/harness.py --quick           # everything tiny: does it all work?
    .venv/bin/python bench/harness.py --only e2e,ingest --profile /tmp/prof   # py-spy profiles of rows 1, 3, 4
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
import traceback
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

import measures  # noqa: E402
from measures import Bench, Sizes, log  # noqa: E402
from services import RedisServer, Sink  # noqa: E402


@dataclass(frozen=True)
class Group:
    """One measurement, run `runs` times; it yields the figures of one or more rows."""

    name: str
    measure: Callable[[Bench], dict[str, Any]]
    needs_year: bool = False
    runs: int | None = None        # a fixed number of runs (a deterministic figure that takes minutes)


@dataclass(frozen=True)
class Target:
    """The issue's target for a row: ``figure`` is ``tidings`` or ``ratio``; ``op`` is >=, <= or <."""

    figure: str
    op: str
    value: float
    floor: float | None = None     # a weaker bound that still passes, reported as "floor met"
    text: str = ""

    def verdict(self, tidings: float | None, ratio: float | None) -> str:
        value = tidings if self.figure == "tidings" else ratio
        if value is None:
            return "n/a"

        def holds(bound: float) -> bool:
            return value >= bound if self.op == ">=" else value <= bound if self.op == "<=" else value < bound

        if holds(self.value):
            return "met"
        return "floor met" if self.floor is not None and holds(self.floor) else "missed"


@dataclass(frozen=True)
class Row:
    """A line of the table: a tidings figure from a group, its reference from the same runs, and a target."""

    id: str
    what: str
    group: str
    unit: str
    tidings: str = "tidings"
    reference: str | None = None
    reference_name: str = ""
    target: Target | None = None
    digits: int = 0


GROUPS = [
    Group("e2e", measures.end_to_end),
    Group("publish", measures.publish),
    Group("ingest", measures.ingest),
    Group("simulate", measures.simulate_short),
    Group("simulate-year", measures.simulate_year, needs_year=True),
    Group("growth", measures.growth, needs_year=True, runs=1),
    Group("lag", measures.lag),
    Group("claim", measures.claim),
    Group("slow-sink", measures.slow_sink),
]

ROWS = [
    Row("e2e-vs-raw", "events → immediate SMS at the sink, 1 worker × 8 threads + 1 scheduler", "e2e", "deliveries/s",
        reference="raw", reference_name="raw Dramatiq, 1 process × 8 threads, 1 keep-alive POST/message",
        target=Target("ratio", ">=", 1.0, floor=0.6, text="≥ 1.0 × raw (floor 0.6 ×)")),
    Row("e2e-vs-apprise", "the same, beside Apprise", "e2e", "deliveries/s",
        reference="apprise", reference_name="Apprise json://, one thread",
        target=Target("ratio", ">=", 3.0, text="≥ 3 × Apprise")),
    Row("publish-vs-send", "tidings publish of N events, start-up included", "publish", "events/s",
        reference="one", reference_name="Dramatiq send() one by one, start-up included",
        target=Target("tidings", ">=", 3000, text="≥ 3,000 events/s")),
    Row("publish-vs-pipelined", "the same, beside pipelined enqueue", "publish", "events/s",
        reference="pipelined", reference_name="Dramatiq enqueue pipelined (500 a batch)",
        target=Target("tidings", ">=", 3000, text="≥ 3,000 events/s")),
    Row("ingest", "ingest via the Python API, Redis store, one process (chain events)", "ingest", "events/s",
        reference="noop", reference_name="a no-op Dramatiq message drained, 1 process × 8 threads",
        target=Target("tidings", ">=", 1000, text="≥ 1,000 events/s")),
    Row("simulate-short", "tidings simulate, 10-location chain, 40 days (≈10,000 events)", "simulate", "s", digits=1),
    Row("simulate-year", "tidings simulate, 10-location chain, a year (≈100,000 events)", "simulate-year", "s",
        target=Target("tidings", "<", 60, text="< 60 s"), digits=1),
    Row("memory-pending", "Redis bytes per pending message, all in (after the ingest row)", "ingest", "B",
        tidings="bytes_per_pending", reference="reference_bytes",
        reference_name="sorted set of slots + hash of 300-byte payloads",
        target=Target("tidings", "<=", 400, text="≤ 400 B")),
    Row("memory-event", "Redis bytes per ingested event, all in", "ingest", "B", tidings="bytes_per_event"),
    Row("growth", "Redis bytes after a simulated year ÷ after 3 months, retention = 90d", "growth", "×",
        reference="reference", reference_name="the same year, nothing expiring (retention 3650d)",
        target=Target("tidings", "<=", 1.3, text="≤ 1.3 ×"), digits=2),
    Row("lag-p50", "due-to-send lag p50 at 1,000 due/s", "lag", "s", tidings="p50", digits=3),
    Row("lag-p99", "due-to-send lag p99 at 1,000 due/s", "lag", "s", tidings="p99",
        target=Target("tidings", "<", 1.0, text="< 1 s"), digits=3),
    Row("claim", "claim_due of every due slot, 500 a call", "claim", "slots/s",
        reference="reference", reference_name="a bare sorted-set lease claim (Lua), 500 a call",
        target=Target("tidings", ">=", 50_000, text="≥ 50,000 slots/s")),
    Row("slow-sink", "deliveries per worker process, sink answers after 100 ms", "slow-sink", "deliveries/s",
        reference="raw", reference_name="raw Dramatiq, 1 process × 8 threads, same sink",
        target=Target("tidings", ">=", 300, text="≥ 300 /s")),
]


def stats(values: list[float | None]) -> dict[str, Any] | None:
    numbers = [v for v in values if v is not None]
    if not numbers:
        return None
    return {"median": statistics.median(numbers), "min": min(numbers), "max": max(numbers), "values": numbers}


def row_result(row: Row, runs: list[dict[str, Any]], skipped: str | None, *, scale: float = 1.0) -> dict[str, Any]:
    out: dict[str, Any] = {"id": row.id, "what": row.what, "unit": row.unit, "runs": len(runs),
                           "target": row.target.text if row.target else None}
    if skipped is not None:
        return {**out, "tidings": None, "reference": None, "ratio": None, "met": None, "note": skipped}
    tidings = stats([r.get(row.tidings) for r in runs])
    out["tidings"] = tidings
    note = None
    if tidings is None and row.id == "growth":
        note = "not available: [tidings] retention is not a configuration key of this tidings yet"
    if row.reference is not None:
        out["reference"] = {"name": row.reference_name, **(stats([r.get(row.reference) for r in runs]) or {})}
        ratios = [r[row.tidings] / r[row.reference] for r in runs
                  if r.get(row.tidings) is not None and r.get(row.reference)]
        out["ratio"] = stats(ratios)
    else:
        out["reference"] = out["ratio"] = None
    median = tidings["median"] if tidings else None
    ratio = out["ratio"]["median"] if out.get("ratio") else None
    out["met"] = row.target.verdict(median, ratio) if row.target else None
    if out["met"] not in (None, "n/a") and scale != 1.0:
        out["met"] = f"not judged (scale {scale:g})"   # the targets hold for the full sizes only
    out["note"] = note
    if row.id in ("memory-pending", "memory-event") and runs:
        out["breakdown"] = {k.split(":", 1)[1]: v for k, v in runs[-1].items() if k.startswith("bytes:")}
        out["pending"], out["events"] = runs[-1].get("pending"), runs[-1].get("events")
    for extra in ("redis_commands", "redis_scripts", "raw_redis_commands"):
        if row.id in ("e2e-vs-raw", "ingest") and runs and extra in runs[0]:
            out[extra + "_per_message"] = statistics.median(r[extra] for r in runs)
    if row.id == "lag-p99" and runs:
        out["setup_overran"] = any(r.get("setup_overran") for r in runs)
    return out


def figure(value: float | None, digits: int) -> str:
    if value is None:
        return "—"
    return f"{value:,.{digits}f}"


def spread(s: dict[str, Any] | None, digits: int) -> str:
    if not s or "median" not in s:
        return "—"
    if len(s["values"]) == 1:
        return figure(s["median"], digits)
    return f"{figure(s['median'], digits)} [{figure(s['min'], digits)}–{figure(s['max'], digits)}]"


def table(results: list[dict[str, Any]]) -> str:
    """The results as a Markdown table (medians, [min–max] of the runs)."""
    digits = {row.id: row.digits for row in ROWS}
    lines = ["| row | what | tidings | reference | tidings ÷ reference | target | met |",
             "|---|---|---|---|---|---|---|"]
    for r in results:
        d = digits[r["id"]]
        if r.get("note") and r["tidings"] is None:
            tidings = r["note"]
        else:
            tidings = f"{spread(r['tidings'], d)} {r['unit']}"
        reference = "—"
        if r.get("reference"):
            reference = f"{spread(r['reference'], d)} {r['unit']} ({r['reference']['name']})"
        ratio = spread(r.get("ratio"), 2) + " ×" if r.get("ratio") else "—"
        lines.append(f"| {r['id']} | {r['what']} | {tidings} | {reference} | {ratio} | {r['target'] or '—'} | {r['met'] or '—'} |")
    return "\n".join(lines)


def machine() -> dict[str, Any]:
    import dramatiq
    import redis

    try:
        commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True,
                                cwd=Path(__file__).parent).stdout.strip()
    except OSError:
        commit = ""
    server = subprocess.run(["redis-server", "--version"], capture_output=True, text=True).stdout.split()
    return {"cpus": os.cpu_count(), "load_average": os.getloadavg(), "python": platform.python_version(),
            "dramatiq": dramatiq.__version__, "redis_py": redis.__version__,
            "redis_server": next((w.split("=")[1] for w in server if w.startswith("v=")), ""), "commit": commit}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3, help="runs of each measurement (default 3)")
    parser.add_argument("--scale", "--size", type=float, default=1.0, help="multiply every size (0.1: a tenth)")
    parser.add_argument("--quick", action="store_true", help="everything tiny (scale 0.01), the year rows included")
    parser.add_argument("--year", action="store_true", help="also simulate a year (slow today: minutes)")
    parser.add_argument("--only", help="comma-separated groups: " + ", ".join(g.name for g in GROUPS))
    parser.add_argument("--json", type=Path, help="also write the results here")
    parser.add_argument("--profile", type=Path, help="write py-spy profiles of rows 1, 3 and 4 (first run) here")
    args = parser.parse_args(argv)

    from tidings.logging import configure
    configure(json=True, level="warning")   # the harness's own pipelines (the lag row's ingest) log like a worker

    scale = 0.01 if args.quick else args.scale
    sizes = Sizes().scaled(scale) if scale != 1.0 else Sizes()
    only = set(args.only.split(",")) if args.only else None
    unknown = (only or set()) - {g.name for g in GROUPS}
    if unknown:
        parser.error(f"--only: no group named {', '.join(sorted(unknown))} (choose from: {', '.join(g.name for g in GROUPS)})")
    if args.profile:
        args.profile.mkdir(parents=True, exist_ok=True)
    command = "bench/harness.py " + " ".join(sys.argv[1:] if argv is None else argv)
    started = time.time()
    print(f"tidings benchmark: {command.strip()} (runs {args.runs}, scale {scale:g})", file=sys.stderr, flush=True)
    about = machine()
    results: list[dict[str, Any]] = []
    failures: list[str] = []
    with RedisServer() as redis_server, tempfile.TemporaryDirectory(prefix="tidings-bench-") as scratch:
        sink = Sink()
        bench = Bench(redis=redis_server, sink=sink, sizes=sizes, folder=Path(scratch), profile=args.profile)
        per_group: dict[str, tuple[list[dict[str, Any]], str | None]] = {}
        try:
            for group in GROUPS:
                if only is not None and group.name not in only:
                    continue
                if group.needs_year and not (args.year or args.quick):
                    per_group[group.name] = ([], "skipped: pass --year (a year of the chain takes minutes today)")
                    continue
                runs: list[dict[str, Any]] = []
                error = None
                for run in range(group.runs or args.runs):
                    bench.run = run
                    log(f"{group.name}: run {run + 1}")
                    try:
                        runs.append(group.measure(bench))
                    except Exception as e:   # one broken measurement must not lose the others' figures
                        traceback.print_exc()
                        error = f"failed: {type(e).__name__}: {e}"
                        failures.append(f"{group.name}: {error}")
                        break
                    log(f"{group.name}: {json.dumps({k: round(v, 3) if isinstance(v, float) else v for k, v in runs[-1].items() if not k.startswith('bytes:')})}")
                claim = bench.facts.pop("claim", None)
                if claim is not None:
                    claim.close()
                per_group[group.name] = (runs, error if not runs else None)
        finally:
            sink.stop()
        for row in ROWS:
            if row.group in per_group:
                runs, skipped = per_group[row.group]
                results.append(row_result(row, runs, skipped, scale=scale))
    about["load_average_end"] = os.getloadavg()
    report = {"command": command.strip(), "runs": args.runs, "scale": scale, "sizes": vars(sizes), "machine": about,
              "seconds": round(time.time() - started, 1), "rows": results, "failures": failures}
    print(table(results))
    if args.json:
        args.json.write_text(json.dumps(report, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    if args.profile:
        import profile_summary
        print(profile_summary.summarise(args.profile), file=sys.stderr)
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
