"""Benchmark the dbt build of the call model: a full build, then an incremental day.

Usage:
    python benchmarks/build_bench.py [--calls 1000000] [--locations 40] [--days 28]
    python benchmarks/build_bench.py --data DIR --skip-generate      # reuse generated data
    python benchmarks/build_bench.py --data DIR --skip-generate --skip-load   # rebuild only

Steps, each timed on its own, on a fresh database ``callshrink_build_bench`` of the configured
server or the private one (``--skip-load`` keeps the database as the last run left it):

  1. generate about N calls (``--calls``: ``calls_per_location_day`` chosen as in
     generate_bench.py, 40 locations x 28 days by default), or reuse ``--data DIR``;
  2. split the landing folder by the UTC date in each file name: every file but those of the
     last ``--hold-back`` dates is hard-linked into DIR/bench_landing/initial, the rest into
     DIR/bench_landing/last_day;
  3. load ``initial`` with the loader the ingestion assets call (``load_table`` per raw table,
     what ``callshrink run`` does before its Great Expectations checks and dbt build);
  4. ``dbt run --full-refresh`` and then ``dbt build --full-refresh`` of the call models, the
     seeds and staging views they read, and (build only) their tests: the selection
     ``+path:models/marts/calls``;
  5. load ``last_day``, then an incremental ``dbt run`` of the same selection (the new day),
     then an incremental ``dbt build`` (models and tests), which recomputes the same window
     again: the call models' builds are set back to what they were before the day, so the
     cutoff is again the earliest changed input less ``incremental_lookback_hours``, and less
     ``followup_days()`` more for the models that look ahead (macros/incremental_window.sql).

Prints the seconds of each step, each model's seconds in each dbt step (run_results.json,
execution_time, also copied to DIR/run_results/), the tests' seconds, and rows per table.
No figure is asserted. The generator's last UTC date holds only the evening spill-over of the
last local day, so ``--hold-back 2`` (the default) holds back one whole UTC day plus that
spill-over: what lands on a real day is one UTC day of files.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import sys
import tempfile
import time
import uuid
from collections import defaultdict
from pathlib import Path

import psycopg
from psycopg import sql

from callshrink import db, settings
from callshrink.dbt import dbt, stage_reference
from callshrink.generate import generate
from callshrink.ingest import RAW_TABLES, ensure_raw_schema, load_table
from callshrink.ingest.loader import finish_load, start_load
from callshrink.settings import PROJECT_DIR

sys.path.insert(0, str(Path(__file__).resolve().parent))
from generate_bench import CALLS_PER_UNIT

BENCH_DB = "callshrink_build_bench"
SELECTION = "+path:models/marts/calls"
RUN_RESULTS = PROJECT_DIR / "target" / "run_results.json"
DATE_IN_NAME = re.compile(r"(\d{4}-\d{2}-\d{2})")
COUNTED_SCHEMAS = ("raw", "intermediate", "marts")


# --- data -------------------------------------------------------------------------------------


def file_date(path: Path) -> str | None:
    found = DATE_IN_NAME.search(path.name)
    return found.group(1) if found else None


def split_landing(landing: Path, dest: Path, hold_back: int) -> tuple[list[str], dict[str, int]]:
    """Hard-link (or copy) the landing files into dest/initial and dest/last_day by date."""
    files = [p for p in sorted(landing.rglob("*")) if p.is_file()]
    dates = sorted({d for d in map(file_date, files) if d})
    held = dates[-hold_back:] if hold_back else []
    if dest.exists():
        shutil.rmtree(dest)
    counts: dict[str, int] = defaultdict(int)
    for path in files:
        part = "last_day" if file_date(path) in held else "initial"
        target = dest / part / path.relative_to(landing)
        target.parent.mkdir(parents=True, exist_ok=True)
        try:
            os.link(path, target)
        except OSError:
            shutil.copy2(path, target)
        counts[part] += 1
    (dest / "last_day").mkdir(parents=True, exist_ok=True)
    return held, dict(counts)


# --- database ---------------------------------------------------------------------------------


def drop_database(server_url: str, database: str) -> None:
    """Drop `database` from the server, with its sessions, if it is there."""
    with psycopg.connect(server_url, autocommit=True) as conn:
        conn.execute(
            sql.SQL("drop database if exists {} with (force)").format(sql.Identifier(database))
        )


def fresh_database(server_url: str, database: str) -> str:
    """The URL of `database` on the server, dropped (with its sessions) and created empty."""
    drop_database(server_url, database)
    with psycopg.connect(server_url, autocommit=True) as conn:
        db.create_database(conn, database)
    return settings.with_database(server_url, database)


def bench_database(server_url: str, fresh: bool) -> str:
    if fresh:
        return fresh_database(server_url, BENCH_DB)
    return settings.with_database(server_url, BENCH_DB)


def checkpoint(url: str) -> None:
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("checkpoint")


def load(url: str, landing: Path) -> tuple[float, dict[str, tuple[int, float]]]:
    """Load every raw table from landing as the ingestion assets do; seconds and rows each."""
    checkpoint(url)
    per_table: dict[str, tuple[int, float]] = {}
    started = time.perf_counter()
    with psycopg.connect(url) as conn:
        ensure_raw_schema(conn)
        load_id = start_load(conn, landing, uuid.uuid4())
        for table in RAW_TABLES:
            t0 = time.perf_counter()
            result = load_table(conn, table, landing, load_id, log=lambda _m: None)
            per_table[table.identifier] = (
                result.total("rows_loaded"),
                time.perf_counter() - t0,
            )
        finish_load(conn, load_id)
    return time.perf_counter() - started, per_table


def call_model_builds(url: str, builds: list[tuple] | None = None) -> list[tuple]:
    """The call models' last builds (intermediate._call_model_builds); given `builds`, first
    put those back, so the next build recomputes the changes the builds since have read."""
    with psycopg.connect(url, autocommit=True) as conn:
        for model, built_from, built_at in builds or []:
            conn.execute(
                "update intermediate._call_model_builds set built_from = %s, built_at = %s"
                " where model = %s",
                (built_from, built_at, model),
            )
        return conn.execute(
            "select model, built_from, built_at from intermediate._call_model_builds"
        ).fetchall()


def row_counts(url: str) -> dict[str, int]:
    with psycopg.connect(url, autocommit=True) as conn:
        relations = conn.execute(
            "select table_schema || '.' || table_name from information_schema.tables "
            "where table_schema = any(%s) and table_type = 'BASE TABLE' "
            "and table_name not like '\\_%%' order by 1",
            (list(COUNTED_SCHEMAS),),
        ).fetchall()
        return {
            name: conn.execute(f"select count(*) from {name}").fetchone()[0]
            for (name,) in relations
        }


def days_after(url: str, date: str) -> dict[str, int]:
    """Rows of marts.calls by UTC day from ``date`` on (what the held-back files brought)."""
    with psycopg.connect(url, autocommit=True) as conn:
        rows = conn.execute(
            "select started_date_utc::text, count(*) from marts.calls "
            "where started_date_utc >= %s group by 1 order by 1",
            (date,),
        ).fetchall()
    return dict(rows)


# --- dbt --------------------------------------------------------------------------------------


class DbtStep:
    def __init__(self, label: str, seconds: float, results: dict, ok: bool) -> None:
        self.label = label
        self.seconds = seconds
        self.ok = ok
        self.dbt_seconds = results.get("elapsed_time", float("nan"))
        self.nodes = {r["unique_id"]: r for r in results.get("results", [])}

    def node_seconds(self, kind: str) -> float:
        return sum(r["execution_time"] for uid, r in self.nodes.items() if uid.startswith(kind))

    def failures(self) -> list[str]:
        return [
            f"{uid}: {r['status']}"
            for uid, r in self.nodes.items()
            if r["status"] not in ("success", "pass")
        ]


def run_dbt(label: str, args: list[str], url: str, keep: Path) -> DbtStep:
    checkpoint(url)
    RUN_RESULTS.unlink(missing_ok=True)
    started = time.perf_counter()
    # cautious: only the tests whose every parent is selected (a relationships test from a
    # money mart to calls would otherwise run against a model this selection never builds)
    completed = dbt([*args, "--select", SELECTION, "--indirect-selection", "cautious"], check=False)
    seconds = time.perf_counter() - started
    results = json.loads(RUN_RESULTS.read_text()) if RUN_RESULTS.exists() else {}
    keep.mkdir(parents=True, exist_ok=True)
    name = re.sub(r"[^a-z0-9]+", "_", label.lower()).strip("_")
    (keep / f"{name}.json").write_text(json.dumps(results, indent=1))
    step = DbtStep(label, seconds, results, completed.returncode == 0)
    state = "ok" if step.ok else f"FAILED (exit {completed.returncode})"
    print(f"# {label}: {seconds:,.1f} s, {state}", flush=True)
    for failure in step.failures():
        print(f"#   {failure}", flush=True)
    return step


# --- report -----------------------------------------------------------------------------------


def short(uid: str) -> str:
    return uid.split(".", 2)[-1].replace("callshrink.", "")


def print_report(
    loads: list[tuple[str, float, dict[str, tuple[int, float]]]],
    steps: list[DbtStep],
    counts: list[tuple[str, dict[str, int]]],
    top_tests: int,
) -> None:
    print("\n== steps (wall seconds; dbt = run_results elapsed_time, parse excluded)")
    print(f"{'step':<46}{'wall s':>9}{'dbt s':>9}{'models s':>10}{'tests s':>9}")
    for label, seconds, per_table in loads:
        rows = sum(r for r, _ in per_table.values())
        print(f"{label:<46}{seconds:>9.1f}{'':>9}{'':>10}{'':>9}   {rows:,} raw rows")
    for step in steps:
        models = step.node_seconds("model.")
        tests = step.node_seconds("test.")
        flag = "" if step.ok else "   FAILED"
        print(
            f"{step.label:<46}{step.seconds:>9.1f}{step.dbt_seconds:>9.1f}"
            f"{models:>10.1f}{tests:>9.1f}{flag}"
        )
    print("  (models s / tests s: sums of node execution_time; with 4 threads they overlap)")

    for label, _, per_table in loads:
        print(f"\n== {label}: per raw table")
        for table, (rows, seconds) in per_table.items():
            if rows or seconds > 0.05:
                rate = rows / seconds if seconds else 0
                print(f"  {table:<26}{rows:>12,} rows{seconds:>9.1f} s{rate:>12,.0f} rows/s")

    models = sorted(
        {uid for s in steps for uid in s.nodes if uid.startswith(("model.", "seed."))},
        key=lambda uid: -max(s.nodes[uid]["execution_time"] for s in steps if uid in s.nodes),
    )
    print("\n== seconds per model (execution_time) and rows written (adapter rows_affected)")
    header = "".join(f"{f'({i + 1})':>9}" for i in range(len(steps)))
    # rows written: by the first full step and the first incremental one (the new day)
    written_by = [s for s in steps if "full" in s.label][:1]
    written_by += [s for s in steps if "incremental" in s.label][:1]
    columns = " / ".join(f"rows ({steps.index(s) + 1})" for s in written_by)
    print(f"{'model':<42}{header}   {columns}")
    for uid in models:
        cells, rows = "", []
        for step in steps:
            node = step.nodes.get(uid)
            cells += f"{node['execution_time']:>9.1f}" if node else f"{'-':>9}"
            written = ((node or {}).get("adapter_response") or {}).get("rows_affected")
            if step in written_by:
                rows.append(f"{written:,}" if isinstance(written, int) and written >= 0 else "-")
        print(f"{short(uid):<42}{cells}   {' / '.join(rows)}")
    for i, step in enumerate(steps):
        print(f"  ({i + 1}) {step.label}")

    for step in steps:
        tests = sorted(
            (
                (r["execution_time"], uid)
                for uid, r in step.nodes.items()
                if uid.startswith("test.")
            ),
            reverse=True,
        )
        if not tests:
            continue
        print(f"\n== {step.label}: {len(tests)} tests, {sum(t for t, _ in tests):.1f} s; slowest")
        for seconds, uid in tests[:top_tests]:
            print(f"  {seconds:>7.1f} s  {short(uid)}")

    print("\n== rows per table")
    names = sorted({n for _, c in counts for n in c})
    print(f"{'table':<42}" + "".join(f"{label:>18}" for label, _ in counts))
    for name in names:
        print(f"{name:<42}" + "".join(f"{c.get(name, 0):>18,}" for _, c in counts))


# --- main -------------------------------------------------------------------------------------


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--calls", type=int, default=1_000_000, help="target calls (1 M)")
    parser.add_argument("--locations", type=int, default=40, help="default 40")
    parser.add_argument("--days", type=int, default=28, help="default 28")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--data", type=Path, help="generated data here (kept); default a tmp dir")
    parser.add_argument(
        "--hold-back",
        type=int,
        default=2,
        metavar="DATES",
        help="last UTC dates of files loaded for the incremental step (2)",
    )
    parser.add_argument("--skip-generate", action="store_true", help="reuse --data DIR")
    parser.add_argument(
        "--skip-load",
        action="store_true",
        help="keep the database as it is (no fresh one, no initial load)",
    )
    parser.add_argument("--skip-full", action="store_true", help="no full-refresh steps")
    parser.add_argument("--skip-incremental", action="store_true", help="no incremental steps")
    parser.add_argument(
        "--skip-incremental-build",
        action="store_true",
        help="incremental: dbt run only, not also dbt build (models and tests) after it",
    )
    parser.add_argument(
        "--full-build-only",
        action="store_true",
        help="full refresh: dbt build only, not also dbt run (without tests) after it",
    )
    parser.add_argument("--top-tests", type=int, default=8, help="slowest tests shown (8)")
    args = parser.parse_args(argv)
    if args.skip_generate and not args.data:
        parser.error("--skip-generate needs --data DIR")

    tmp = None if args.data else Path(tempfile.mkdtemp(prefix="callshrink-build-bench-"))
    data = (args.data or tmp).resolve()
    try:
        if not args.skip_generate:
            volume = args.calls / (args.locations * args.days * CALLS_PER_UNIT)
            started = time.perf_counter()
            summary = generate(
                data,
                locations=args.locations,
                days=args.days,
                seed=args.seed,
                calls_per_location_day=volume,
                progress=sys.stderr.isatty(),
            )
            seconds = time.perf_counter() - started
            (data / "bench_generate.json").write_text(json.dumps(summary, default=str))
            print(
                f"# generated {summary['calls']:,} calls ({args.locations} locations x "
                f"{args.days} days, {volume:,.1f} calls/location/day, seed {args.seed}) "
                f"in {seconds:,.1f} s",
                flush=True,
            )
        summary_file = data / "bench_generate.json"
        generated = json.loads(summary_file.read_text()) if summary_file.exists() else {}
        held, files = split_landing(data / "landing", data / "bench_landing", args.hold_back)
        print(f"# files: {files}; held back for the incremental step: {held}", flush=True)

        server = db.database_url()
        url = bench_database(server, fresh=not args.skip_load)
        os.environ[settings.DATABASE_URL_VAR] = url
        os.environ["CALLSHRINK_REFERENCE_DIR"] = str(data / "reference")
        db.activate()
        stage_reference()
        keep = data / "run_results"

        loads, steps, counts = [], [], []
        if not args.skip_load:
            seconds, per_table = load(url, data / "bench_landing" / "initial")
            loads.append(("load all but the held-back dates", seconds, per_table))
            print(f"# loaded the initial files in {seconds:,.1f} s", flush=True)
        if not args.skip_full:
            # build first: a fresh database has no seeds, which `dbt run` does not load
            steps.append(
                run_dbt("dbt build --full-refresh", ["build", "--full-refresh"], url, keep)
            )
            counts.append(("after full", row_counts(url)))
            if not args.full_build_only:
                steps.append(
                    run_dbt("dbt run --full-refresh", ["run", "--full-refresh"], url, keep)
                )
        if not args.skip_incremental:
            seconds, per_table = load(url, data / "bench_landing" / "last_day")
            loads.append((f"load the held-back dates {held[0]}..", seconds, per_table))
            print(f"# loaded the held-back files in {seconds:,.1f} s", flush=True)
            before_the_day = call_model_builds(url)
            steps.append(run_dbt("dbt run (incremental day)", ["run"], url, keep))
            if not args.skip_incremental_build:
                call_model_builds(url, before_the_day)
                label = "dbt build (incremental, same window)"
                steps.append(run_dbt(label, ["build"], url, keep))
            counts.append(("after incremental", row_counts(url)))

        print("\n== run")
        print(f"command: {' '.join(sys.argv)}")
        print(f"data: {data}; database {BENCH_DB} on {settings.redacted(server)}")
        if generated:
            print(
                f"generated: {generated.get('calls', 0):,} calls, {generated.get('locations')} "
                f"locations x {generated.get('days')} days from {generated.get('start')}"
            )
        print(f"dbt selection: {SELECTION} (seeds, staging views, call models; build adds tests)")
        print(f"held back (incremental step): files dated {', '.join(held)}")
        if held and not args.skip_incremental:
            by_day = days_after(url, held[0])
            print(f"  marts.calls rows of those UTC days: {by_day}")
        print_report(loads, steps, counts, args.top_tests)
        return 0 if all(s.ok for s in steps) else 1
    finally:
        if tmp is not None:
            shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    raise SystemExit(main())
