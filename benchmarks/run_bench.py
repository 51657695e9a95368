"""Benchmark `callshrink run`: an initial load and one more day, two histories, and the year.

As a user runs it: an initial load, then one more day, at two history sizes, and the
35-million-call year extrapolated from the larger.

Usage:
    python benchmarks/run_bench.py                      # 40 locations x 42 days (~4 M calls)
    python benchmarks/run_bench.py --data DIR           # keep (or reuse) the generated exports
    python benchmarks/run_bench.py --locations 4 --days 6 --small-days 2   # a quick try

Data: ``--locations`` x ``--days`` local days at the contact-center rate (1,940 calls a
location-day, the ``contact-center`` preset: 40 locations make about 96 thousand calls a day,
35 million a year), generated into ``--data`` (a temporary folder unless given; reused when it
holds exports of the same arguments). The landing files are split by the UTC date in their
names: the last two dates are "the day" (one UTC day of files plus the evening spill-over of the
last local day, as build_bench.py explains), the dates before it are history.

For each history, small (the ``--small-days`` dates just before the day) and large (every date
before the day), in a fresh database ``callshrink_run_bench`` of the configured server
(CALLSHRINK_DATABASE_URL) or the private one:

  1. ``callshrink run -q`` over a landing folder holding the history: the initial load
     (loading, every Great Expectations check, every model and test, calls and revenue marts);
  2. once the database is at rest (vacuumed and analysed, no autovacuum worker left in it, a
     checkpoint), the day's files added to the same folder, ``callshrink run -q`` again: the
     incremental day. The wait is printed, not counted: a day's run comes a day after the last.

Each run writes ``--summary-json``; the benchmark prints, per run, the wall seconds, the
seconds of the raw step (every table loaded and checked, several at once), of loading and of
checks (each table's, summed), of the dbt build, the rows loaded, the peak memory of the run's
process (the loader and the checks run in it; not dbt's, a child process) and the database's
size after it. Then the ratio of the two incremental days (the same day's files on a small and
a large history: a day's work should not grow with history) and the year: the large initial run's
seconds scaled linearly by 35,000,000 over its calls, with the share of the year it measured.
Last, for the large history and its day, dbt's own elapsed time, its ten slowest models
and tests, and its longest path: the chain of models and tests, each waiting for the one
before it, that set the build's end (run_results.json and manifest.json of the run's dbt
folder). No figure is asserted. Run it on a quiet machine.
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import psycopg

from callshrink import db, settings
from callshrink.dbt import tool
from callshrink.generate import generate
from callshrink.settings import PROJECT_DIR

sys.path.insert(0, str(Path(__file__).resolve().parent))
from build_bench import checkpoint, file_date, fresh_database

BENCH_DB = "callshrink_run_bench"
RATE = 1940.0  # calls a location-day: the contact-center preset
YEAR_CALLS = 35_000_000


@dataclass
class Run:
    label: str
    wall: float
    summary: dict
    database_mb: int

    @property
    def rows(self) -> int:
        return sum(load["rows_loaded"] for load in self.summary["raw"].values())

    def part(self, name: str) -> float:
        """Seconds of `loading` and `checks` (each table's, summed), `raw` (the step that
        loads and checks every table, several at once) or `dbt` (the build)."""
        loads = self.summary["raw"].values()
        if name == "loading":
            return sum(load["seconds"] for load in loads)
        if name == "checks":
            return sum(load["check_seconds"] for load in loads)
        step = {"raw": "raw_tables", "dbt": "callshrink_dbt_assets"}[name]
        return self.summary["step_seconds"].get(step, float("nan"))


def generated(data: Path, locations: int, days: int, seed: int) -> dict[str, int]:
    """Generate the exports into data/ unless they are there for the same arguments; the
    number of calls by UTC date of their start (from the answer key's calls.csv)."""
    stamp = data / "run_bench.json"
    wanted = {"locations": locations, "days": days, "seed": seed, "rate": RATE}
    if stamp.exists():
        recorded = json.loads(stamp.read_text())
        if {key: recorded.get(key) for key in wanted} == wanted:
            print(f"# reusing the exports in {data}", flush=True)
            return recorded["calls_by_date"]
    started = time.perf_counter()
    summary = generate(
        data,
        locations=locations,
        days=days,
        seed=seed,
        calls_per_location_day=RATE,
        progress=sys.stderr.isatty(),
    )
    calls_by_date: dict[str, int] = {}
    with (data / "answer_key" / "calls.csv").open(newline="", encoding="utf-8") as fh:
        for row in csv.DictReader(fh):
            date = row["start_utc"][:10]
            calls_by_date[date] = calls_by_date.get(date, 0) + 1
    stamp.write_text(json.dumps({**wanted, "calls_by_date": calls_by_date}))
    print(
        f"# generated {summary['calls']:,} calls ({locations} locations x {days} days) in "
        f"{time.perf_counter() - started:,.0f} s",
        flush=True,
    )
    return calls_by_date


def link_files(landing: Path, dest: Path, dates: set[str]) -> int:
    """Hard-link (or copy) the landing files of the given UTC dates into dest; how many."""
    count = 0
    for path in sorted(p for p in landing.rglob("*") if p.is_file()):
        if file_date(path) not in dates:
            continue
        target = dest / path.relative_to(landing)
        target.parent.mkdir(parents=True, exist_ok=True)
        try:
            os.link(path, target)
        except OSError:
            shutil.copy2(path, target)
        count += 1
    return count


def callshrink_run(label: str, url: str, landing: Path, reference: Path, out: Path) -> Run:
    summary_path = out / f"{label.replace(' ', '_')}.json"
    env = {**os.environ, settings.DATABASE_URL_VAR: url}
    started = time.perf_counter()
    command = [tool("callshrink"), "run", "-q", "--landing", str(landing)]
    command += ["--reference", str(reference), "--summary-json", str(summary_path)]
    done = subprocess.run(command, env=env, capture_output=True, text=True)
    wall = time.perf_counter() - started
    if done.returncode != 0:
        sys.stderr.write(done.stdout[-4000:] + done.stderr[-4000:])
        raise SystemExit(f"run_bench: `callshrink run` failed for {label}")
    with psycopg.connect(url) as conn:
        size = conn.execute("select pg_database_size(current_database())").fetchone()[0]
    run = Run(label, wall, json.loads(summary_path.read_text()), size >> 20)
    print(f"# {label}: {wall:,.0f} s, {run.rows:,} rows", flush=True)
    return run


def settle(url: str, poll: float = 2.0) -> float:
    """Bring the database to rest: vacuum and analyse it, wait until no autovacuum worker is
    at work in it, checkpoint; return the seconds it took. The next day's run comes a day
    after the history's, when autovacuum has long finished with the tables the initial load
    made (35 GB at 3.75 million calls) and the server has written its dirty pages: timed at
    once, the day would also pay for that background work (three autovacuum workers on the
    PBX tables the day's models read and write, throughout the day's run), and the more for
    the larger history. A VACUUM of our own does autovacuum's work unthrottled."""
    started = time.perf_counter()
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("vacuum (analyze)")
        busy = (
            "select count(*) from pg_stat_activity "
            "where backend_type = 'autovacuum worker' and datname = current_database()"
        )
        # the launcher looks at a database once per naptime: idle for one whole naptime, it
        # found nothing left to do
        naptime = conn.execute(
            "select setting::float from pg_settings where name = 'autovacuum_naptime'"
        ).fetchone()[0]
        idle_since = time.perf_counter()
        while time.perf_counter() - idle_since < naptime + poll:
            time.sleep(poll)
            if conn.execute(busy).fetchone()[0]:
                idle_since = time.perf_counter()
    checkpoint(url)
    return time.perf_counter() - started


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--locations", type=int, default=40, help="default 40")
    parser.add_argument("--days", type=int, default=42, help="local days generated (42)")
    parser.add_argument(
        "--small-days", type=int, default=10, help="UTC dates of the small history (10)"
    )
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--data", type=Path, help="generated exports here (kept); default tmp")
    args = parser.parse_args(argv)

    work = Path(tempfile.mkdtemp(prefix="callshrink-run-bench-"))
    data = args.data or work / "data"
    try:
        calls_by_date = generated(data, args.locations, args.days, args.seed)
        landing = data / "landing"
        dates = sorted({d for p in landing.rglob("*") if p.is_file() and (d := file_date(p))})
        day, history = set(dates[-2:]), dates[:-2]
        if len(history) <= args.small_days:
            raise SystemExit("run_bench: --days must give more history than --small-days")
        histories = {"small": set(history[-args.small_days :]), "large": set(history)}
        server = db.database_url()
        runs: dict[str, tuple[Run, Run]] = {}
        for name, dated in histories.items():
            url = fresh_database(server, BENCH_DB)
            folder = work / f"landing_{name}"
            shutil.rmtree(folder, ignore_errors=True)
            link_files(landing, folder, dated)
            first = callshrink_run(f"{name} history", url, folder, data / "reference", work)
            waited = settle(url)
            print(f"# {name} history at rest after {waited:,.0f} s more (vacuum)", flush=True)
            link_files(landing, folder, day)
            second = callshrink_run(f"{name} + day", url, folder, data / "reference", work)
            runs[name] = (first, second)
        report(args, calls_by_date, dates, runs)
    finally:
        shutil.rmtree(work / "landing_small", ignore_errors=True)
        shutil.rmtree(work / "landing_large", ignore_errors=True)
        if args.data is None:
            shutil.rmtree(work, ignore_errors=True)
    return 0


def report(
    args: argparse.Namespace,
    calls_by_date: dict[str, int],
    dates: list[str],
    runs: dict[str, tuple[Run, Run]],
) -> None:
    calls = sum(calls_by_date.values())
    day_calls = sum(calls_by_date.get(date, 0) for date in dates[-2:])
    print("\n== callshrink run")
    print(f"command: {' '.join(sys.argv)}")
    print(
        f"data: {args.locations} locations x {args.days} days, {calls:,} calls, "
        f"UTC dates {dates[0]}..{dates[-1]}; the day: {dates[-2]} and {dates[-1]}, "
        f"{day_calls:,} calls"
    )
    for name, dated in (("small", dates[-2 - args.small_days : -2]), ("large", dates[:-2])):
        print(f"{name} history: {sum(calls_by_date.get(d, 0) for d in dated):,} calls")
    header = (
        f"{'run':<16}{'wall s':>9}{'raw s':>8}{'loading s':>11}{'checks s':>10}{'dbt s':>9}"
        f"{'raw rows':>13}{'peak MB':>9}{'db MB':>9}"
    )
    print(header)
    for first, second in runs.values():
        for run in (first, second):
            print(
                f"{run.label:<16}{run.wall:>9.1f}{run.part('raw'):>8.1f}{run.part('loading'):>11.1f}"
                f"{run.part('checks'):>10.1f}{run.part('dbt'):>9.1f}{run.rows:>13,}"
                f"{run.summary['peak_memory_mb']:>9,}{run.database_mb:>9,}"
            )
    small_day, large_day = runs["small"][1].wall, runs["large"][1].wall
    print(
        f"\nincremental day on the large history / on the small: {large_day:.1f} / "
        f"{small_day:.1f} s = {large_day / small_day:.2f}"
    )
    large = runs["large"][0]
    history_calls = sum(calls_by_date.get(date, 0) for date in dates[:-2])
    scale = YEAR_CALLS / history_calls
    print(
        f"the year ({YEAR_CALLS:,} calls) from the large initial run (about "
        f"{history_calls:,.0f} calls, {history_calls / YEAR_CALLS:.0%} of it), linearly: "
        f"{large.wall * scale / 60:,.0f} min (loading and checks "
        f"{large.part('raw') * scale / 60:,.0f}, dbt {large.part('dbt') * scale / 60:,.0f}); "
        "peak memory of the run's process "
        f"{large.summary['peak_memory_mb']:,} MB"
    )
    for run in (runs["large"][0], runs["large"][1]):
        print_dbt_profile(run)


def print_dbt_profile(run: Run, count: int = 10) -> None:
    """The run's slowest dbt models and tests and its longest path, from the run_results.json
    and manifest.json of its dbt folder (target/callshrink_dbt_assets-<run id>-*, kept for the
    newest CALLSHRINK_KEEP_DBT_RUNS)."""
    folders = sorted(
        (PROJECT_DIR / "target").glob(f"callshrink_dbt_assets-{run.summary['run_id'][:7]}-*")
    )
    if not folders:
        print(f"\n{run.label}: its dbt folder is gone (CALLSHRINK_KEEP_DBT_RUNS)")
        return
    results = json.loads((folders[-1] / "run_results.json").read_text())
    nodes = sorted(results["results"], key=lambda node: -node["execution_time"])
    print(
        f"\n{run.label}: dbt's elapsed {results['elapsed_time']:.1f} s "
        f"({len(nodes)} nodes); the slowest:"
    )
    for node in nodes[:count]:
        print(f"  {node['execution_time']:7.1f} s  {node['unique_id']}")
    manifest_file = folders[-1] / "manifest.json"
    if not manifest_file.exists():  # the figures above are printed; the path needs the graph
        print(f"{run.label}: no manifest.json in {folders[-1]}, so no longest path")
        return
    path = longest_path(results["results"], json.loads(manifest_file.read_text())["parent_map"])
    if path:
        print(f"{run.label}: the longest path, seconds from the first node's start (start, end):")
        for node_id, started, ended in path:
            print(f"  {started:7.1f} {ended:7.1f}  {node_id}")


def _execute_span(result: dict) -> tuple[datetime, datetime] | None:
    for timing in result.get("timing", []):
        if timing["name"] == "execute" and timing.get("started_at") and timing.get("completed_at"):
            # dbt writes UTC with a "Z", which fromisoformat reads from Python 3.11 on
            return (
                datetime.fromisoformat(timing["started_at"]),
                datetime.fromisoformat(timing["completed_at"]),
            )
    return None


def longest_path(
    results: list[dict], parent_map: dict[str, list[str]]
) -> list[tuple[str, float, float]]:
    """The chain of nodes that set the build's end: from the node that finished last, back
    through the predecessor each one waited for longest, the one of them that finished last.
    A node's predecessors in `dbt build` are its parents and the tests of its parents (a
    model starts once its parents' tests pass). (unique_id, start, end) in seconds from the
    first node's start, first node first."""
    spans = {r["unique_id"]: span for r in results if (span := _execute_span(r)) is not None}
    if not spans:
        return []
    tests_of: dict[str, list[str]] = {}
    for node_id, parents in parent_map.items():
        if node_id.startswith("test.") and node_id in spans:
            for parent in parents:
                tests_of.setdefault(parent, []).append(node_id)
    origin = min(start for start, _ in spans.values())
    node_id: str | None = max(spans, key=lambda key: spans[key][1])
    path = []
    while node_id is not None:
        started, ended = spans[node_id]
        path.append((node_id, (started - origin).total_seconds(), (ended - origin).total_seconds()))
        parents = [p for p in parent_map.get(node_id, []) if p in spans]
        waited_for = parents
        if not node_id.startswith("test."):  # a test waits for what it tests only
            waited_for = parents + [test for p in parents for test in tests_of.get(p, [])]
        finished_before = [p for p in waited_for if spans[p][1] <= started]
        node_id = max(finished_before, key=lambda key: spans[key][1], default=None)
    return path[::-1]


if __name__ == "__main__":
    sys.exit(main())
