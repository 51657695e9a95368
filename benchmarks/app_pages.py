"""Benchmark the Streamlit app's page latency on a warehouse of about a million calls.

Usage:
    python benchmarks/app_pages.py [--calls 1000000] [--locations 8] [--days 365]
    python benchmarks/app_pages.py --data DIR            # keep (or reuse) the generated exports
    python benchmarks/app_pages.py --database-url URL    # measure a warehouse already built
    python benchmarks/app_pages.py --runs 50 --json pages.json --check

The warehouse: by default a database of its own, ``callshrink_app_bench``, on the configured
server (CALLSHRINK_DATABASE_URL) or the private one. It is built once: about ``--calls``
calls over ``--locations`` x ``--days`` (the daily volume per location chosen as in
generate_bench.py), generated into ``--data DIR`` (a temporary folder unless given; reused when
it holds exports of the same arguments) and loaded with ``callshrink run -q``, the whole
pipeline. The arguments and the build's seconds are recorded in the database
(``bench.app_pages_build``) with a hash of the dbt project the build ran (dbt_project.yml,
models/, macros/, snapshots/: ``dbt_project_hash()``), so a later run with the same arguments
and the same dbt project skips the build; ``--rebuild`` forces one. When only the dbt project
changed (a model, an index, a new mart), the warehouse is refreshed instead: ``callshrink run
-q --full-refresh`` of the same exports on the same database (the raw tables are kept, every
file skipped as loaded before; the models, their indexes and target/semantic_manifest.json,
whose SQL the app's MetricFlow queries name the database of, rebuilt from this checkout's
code). The exports are regenerated first if ``--data`` does not hold them (the generator is
deterministic). A change to the loader or the generator still needs ``--rebuild``.
``--database-url`` measures that warehouse as it is. On a 2-core machine the defaults (1.07 M
calls) take about 2 minutes to generate and 13 to build.

The pages are the ``st.Page`` entries of app/streamlit_app.py, read from its source, so a page
added there is measured too. Each page is opened headless with Streamlit's AppTest
(``AppTest.from_file(app).switch_page(page).run()``), reading the warehouse as the app does:
CALLSHRINK_APP_DATABASE_URL, the read-only role (the private server's role on the benchmark's
database, else --app-database-url or CALLSHRINK_APP_DATABASE_URL with its database name).

  first load  one fresh Python process per page (nothing cached: no connection, no query
              result, the app's modules not yet imported): seconds of the first ``run()``;
  warm        one process for all pages, a session (AppTest) per page: one run to fill the
              caches, then ``--runs`` timed runs of the page: p50, p95 (nearest rank), max;
  full range  on the pages with the sidebar's days, the whole date range of the warehouse
              picked in the date input (an executive picking the year): the first run after
              picking it (its queries not cached yet), then ``--runs`` timed runs.

Not timed: the scan of installed packages for Streamlit components a new AppTest makes before
its first run (0.15 to 0.35 s on a 2-core machine; a Streamlit server makes it once, at
start-up): it is made apart
and its seconds printed. The Python interpreter's and Streamlit's own start are not timed
either; the app's imports (pandas, Altair, ...) are, in the first load.

The defaults are the app's own: the last 28 days with calls and every location. Figures are
printed, with a comparison to the targets (page p95 under 300 ms once the cache is warm, first
load of a page under 2 s); the exit status is 0 whatever they are, unless ``--check``. Run it
on a quiet machine: the app and Postgres share its cores.
"""

from __future__ import annotations

import argparse
import ast
import hashlib
import json
import math
import os
import shutil
import subprocess
import sys
import tempfile
import time
from datetime import UTC, date, datetime
from pathlib import Path

import psycopg
from psycopg.conninfo import conninfo_to_dict

PROJECT = Path(__file__).resolve().parent.parent
APP = PROJECT / "app" / "streamlit_app.py"
BENCH_DB = "callshrink_app_bench"
BUILD_TABLE = "bench.app_pages_build"
DBT_PROJECT_PATHS = ("dbt_project.yml", "models", "macros", "snapshots")
WARM_TARGET_S = 0.300
FIRST_LOAD_TARGET_S = 2.0
TARGETS = "page p95 under 300 ms after the cache is warm; first load of a page under 2 s"


# --- the pages ---------------------------------------------------------------------------------


def app_pages(app: Path = APP) -> list[dict]:
    """The pages app/streamlit_app.py declares (``st.Page("views/x.py", title=...)``), in order."""
    pages = []
    for node in ast.walk(ast.parse(app.read_text(), str(app))):
        if not isinstance(node, ast.Call):
            continue
        func = node.func
        name = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", None)
        if name != "Page":
            continue
        keywords = {k.arg: k.value for k in node.keywords if k.arg}
        target = node.args[0] if node.args else keywords.get("page")
        if not (isinstance(target, ast.Constant) and isinstance(target.value, str)):
            continue  # a page given as a function: AppTest switches pages by file
        title = keywords.get("title")
        shown = title.value if isinstance(title, ast.Constant) else Path(target.value).stem
        pages.append(
            {
                "path": target.value,
                "title": shown,
                "line": node.lineno,
            }
        )
    return sorted(pages, key=lambda page: page["line"])


# --- measuring, in a worker process ------------------------------------------------------------


def _apptest(timeout: float):
    from streamlit.testing.v1 import AppTest

    return AppTest.from_file(str(APP), default_timeout=timeout)


def _problem(app) -> str | None:
    if app.exception:
        return "; ".join(str(e.message)[:300] for e in app.exception)
    return None


def _timed_run(app) -> float:
    started = time.perf_counter()
    app.run()
    return time.perf_counter() - started


def prime_components(app) -> float | None:
    """Give the AppTest the installed components, scanned once, untimed; the seconds it took.

    A new AppTest scans every installed distribution for Streamlit components before its first
    run (0.2 to 1 s here); a Streamlit server does it once, when it starts, so it is no part of
    a page's load. None (the scan then counts in the run) if this Streamlit does it otherwise.
    """
    try:
        from streamlit.components.v2.component_manager import BidiComponentManager
    except ImportError:
        return None
    if getattr(app, "_bidi_component_manager", False) is not None:
        return None
    started = time.perf_counter()
    manager = BidiComponentManager()
    manager.discover_and_register_components(start_file_watching=False)
    app._bidi_component_manager = manager
    return time.perf_counter() - started


def worker_cold(page: str, timeout: float) -> dict:
    """The first load of one page in this (fresh) process."""
    app = _apptest(timeout).switch_page(page)
    scan = prime_components(app)
    seconds = _timed_run(app)
    return {"page": page, "first_load_s": seconds, "component_scan_s": scan, "error": _problem(app)}


def worker_warm(pages: list[str], runs: int, timeout: float, log) -> list[dict]:
    """Per page, in a session of its own: one run to fill the caches, ``runs`` timed runs of
    the page (as a user coming back to it), then the whole date range picked and ``runs``
    timed runs after the first."""
    results = []
    for page in pages:
        result: dict = {"page": page, "error": None}
        app = _apptest(timeout).switch_page(page)
        prime_components(app)
        result["fill_s"] = _timed_run(app)
        if _problem(app):
            result["error"] = _problem(app)
            results.append(result)
            log(f"#   {page}: failed: {result['error']}")
            continue
        warm = []
        for _ in range(runs):
            warm.append(_timed_run(app.switch_page(page)))
            result["error"] = result["error"] or _problem(app)
        result["warm_s"] = warm

        if app.sidebar.date_input:
            days = app.sidebar.date_input[0]
            default = tuple(days.value)
            whole = (days.min, days.max)
            result["default_days"] = [d.isoformat() for d in default]
            result["full_range_days"] = [d.isoformat() for d in whole]
            days.set_value(whole)
            result["full_range_first_s"] = _timed_run(app)
            result["error"] = result["error"] or _problem(app)
            reruns = [_timed_run(app.switch_page(page)) for _ in range(runs)]
            result["full_range_warm_s"] = reruns
            result["error"] = result["error"] or _problem(app)
        results.append(result)
        log(
            f"#   {page}: fill {result['fill_s']:.2f} s, warm p50 "
            f"{percentile(warm, 50) * 1000:.0f} ms"
            + (
                f", whole range first {result['full_range_first_s']:.2f} s"
                if "full_range_first_s" in result
                else ""
            )
        )
    return results


def run_worker(args: argparse.Namespace) -> int:
    """``--worker cold|warm``: measure, print one JSON line on stdout (progress on stderr)."""
    import logging

    from streamlit.testing.v1 import AppTest  # noqa: F401  (imported before any timing)

    # AppTest warns "missing ScriptRunContext" on every new session; it says to ignore it
    logging.getLogger("streamlit.runtime.scriptrunner_utils.script_run_context").addFilter(
        lambda record: "missing ScriptRunContext" not in record.getMessage()
    )

    def log(message: str) -> None:
        print(message, file=sys.stderr, flush=True)

    if args.worker == "cold":
        out = worker_cold(args.page[0], args.timeout)
    else:
        out = worker_warm(args.page, args.runs, args.timeout, log)
    print(json.dumps(out))
    return 0


def in_worker(args: list[str], env: dict[str, str], timeout: float) -> object:
    command = [sys.executable, str(Path(__file__).resolve()), *args]
    done = subprocess.run(
        command, env=env, cwd=PROJECT, stdout=subprocess.PIPE, text=True, timeout=timeout
    )
    if done.returncode != 0:
        raise RuntimeError(f"worker {' '.join(args)} exited {done.returncode}")
    return json.loads(done.stdout.strip().splitlines()[-1])


# --- figures -----------------------------------------------------------------------------------


def percentile(values: list[float], p: float) -> float:
    """Nearest-rank percentile: the smallest value with at least p % of the values at or below."""
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[max(0, math.ceil(p / 100 * len(ordered)) - 1)]


def ms(seconds: float | None) -> str:
    if seconds is None or (isinstance(seconds, float) and math.isnan(seconds)):
        return "-"
    return f"{seconds * 1000:,.0f}"


# --- the warehouse -----------------------------------------------------------------------------


def build_args(args: argparse.Namespace) -> dict:
    return {
        "calls": args.calls,
        "locations": args.locations,
        "days": args.days,
        "seed": args.seed,
        "start": args.start,
    }


def dbt_project_hash(project: Path = PROJECT) -> str:
    """SHA-256 of the dbt project's files (DBT_PROJECT_PATHS): names and contents, sorted."""
    digest = hashlib.sha256()
    for top in DBT_PROJECT_PATHS:
        root = project / top
        files = [root] if root.is_file() else sorted(p for p in root.rglob("*") if p.is_file())
        for path in files:
            digest.update(path.relative_to(project).as_posix().encode() + b"\0")
            digest.update(path.read_bytes() + b"\0")
    return digest.hexdigest()


def _record_table(conn: psycopg.Connection) -> None:
    conn.execute("create schema if not exists bench")
    conn.execute(
        f"create table if not exists {BUILD_TABLE} (arguments jsonb, generate_seconds "
        "float8, build_seconds float8, built_at timestamptz default now())"
    )
    # a build recorded before the hash was: null, so it differs from any project's
    conn.execute(f"alter table {BUILD_TABLE} add column if not exists dbt_project_hash text")
    conn.execute(f"alter table {BUILD_TABLE} add column if not exists kind text")


def record_build(url: str, wanted: dict, generate_s: float, build_s: float, kind: str) -> None:
    with psycopg.connect(url, autocommit=True) as conn:
        _record_table(conn)
        conn.execute(
            f"insert into {BUILD_TABLE} (arguments, generate_seconds, build_seconds, "
            "dbt_project_hash, kind) values (%s, %s, %s, %s, %s)",
            (json.dumps(wanted), generate_s, build_s, dbt_project_hash(), kind),
        )


def recorded_build(url: str) -> dict | None:
    """The build the database records last (arguments, seconds, dbt project hash), None if none
    or no database."""
    try:
        with psycopg.connect(url, autocommit=True, connect_timeout=10) as conn:
            exists = conn.execute("select to_regclass(%s)", (BUILD_TABLE,)).fetchone()[0]
            if exists is None:
                return None
            _record_table(conn)
            row = conn.execute(
                f"select arguments, generate_seconds, build_seconds, built_at, "
                f"dbt_project_hash, kind from {BUILD_TABLE} order by built_at desc limit 1"
            ).fetchone()
    except psycopg.OperationalError:
        return None
    if row is None:
        return None
    arguments, generate_s, build_s, built_at, project_hash, kind = row
    return {
        "arguments": arguments,
        "generate_s": generate_s,
        "build_s": build_s,
        "built_at": built_at.isoformat(),
        "dbt_project_hash": project_hash,
        "kind": kind or "build",
    }


def generated_here(data: Path, wanted: dict) -> bool:
    summary = data / "bench_generate.json"
    if not summary.exists() or not (data / "landing").is_dir():
        return False
    return json.loads(summary.read_text()).get("arguments") == wanted


def generate_data(data: Path, wanted: dict) -> float:
    sys.path.insert(0, str(Path(__file__).resolve().parent))
    from generate_bench import CALLS_PER_UNIT

    from callshrink.generate import generate

    volume = wanted["calls"] / (wanted["locations"] * wanted["days"] * CALLS_PER_UNIT)
    print(
        f"# generating about {wanted['calls']:,} calls: {wanted['locations']} locations x "
        f"{wanted['days']} days at {volume:,.1f} calls/location/day into {data}",
        flush=True,
    )
    started = time.perf_counter()
    summary = generate(
        data,
        locations=wanted["locations"],
        days=wanted["days"],
        seed=wanted["seed"],
        start=date.fromisoformat(wanted["start"]) if wanted["start"] else None,
        calls_per_location_day=volume,
        progress=sys.stderr.isatty(),
    )
    seconds = time.perf_counter() - started
    summary = {"arguments": wanted, "seconds": seconds, "summary": summary}
    (data / "bench_generate.json").write_text(json.dumps(summary, default=str, indent=1))
    print(f"# generated {summary['summary']['calls']:,} calls in {seconds:,.1f} s", flush=True)
    return seconds


def build(
    server: str, url: str, data: Path, wanted: dict, env: dict[str, str], refresh: bool = False
) -> dict:
    """Generate (unless DATA holds the same exports), then a fresh database and callshrink run;
    with ``refresh``, the same database kept and ``callshrink run --full-refresh`` (the dbt
    project changed, the data did not)."""
    from build_bench import fresh_database

    from callshrink import db
    from callshrink.dbt import tool

    if generated_here(data, wanted):
        generate_s = json.loads((data / "bench_generate.json").read_text())["seconds"]
        print(f"# reusing the exports in {data} (same arguments)", flush=True)
    else:
        generate_s = generate_data(data, wanted)
    if not refresh:
        fresh_database(server, conninfo_to_dict(url)["dbname"])
    db.ensure_app_role(url)
    command = [
        tool("callshrink"),
        "run",
        "-q",
        "--landing",
        str(data / "landing"),
        "--reference",
        str(data / "reference"),
    ]
    if refresh:
        command.append("--full-refresh")
    doing = "refreshing" if refresh else "building"
    print(f"# {doing}: {' '.join(command)} (into {conninfo_to_dict(url)['dbname']})", flush=True)
    started = time.perf_counter()
    done = subprocess.run(command, env=env, cwd=PROJECT)
    build_s = time.perf_counter() - started
    print(f"# {doing} took {build_s:,.1f} s (exit {done.returncode})", flush=True)
    if done.returncode != 0:
        raise SystemExit(f"callshrink run failed (exit {done.returncode}); nothing recorded")
    record_build(url, wanted, generate_s, build_s, "refresh" if refresh else "build")
    return recorded_build(url) or {}


def warehouse_size(url: str) -> dict:
    with psycopg.connect(url, autocommit=True) as conn:
        by_direction = dict(
            conn.execute("select direction, count(*) from marts.calls group by 1").fetchall()
        )
        first, last = conn.execute(
            "select min(started_date), max(started_date) from marts.calls "
            "where direction = 'inbound'"
        ).fetchone()
        locations = conn.execute("select count(*) from marts.locations").fetchone()[0]
    return {
        "calls": sum(by_direction.values()),
        "by_direction": by_direction,
        "first_day": first.isoformat() if first else None,
        "last_day": last.isoformat() if last else None,
        "locations": locations,
    }


def app_url_for(database: str, given: str | None, app_server: str | None, owner: str) -> str:
    """The read-only role's URL on the benchmark's database (as tests/conftest.py does)."""
    from callshrink import settings

    if given:
        return given
    if app_server:
        return settings.with_database(app_server, database)
    print(
        "# warning: CALLSHRINK_APP_DATABASE_URL is not set: the app reads as the owner",
        flush=True,
    )
    return owner


# --- report ------------------------------------------------------------------------------------


def page_figures(page: dict, cold: dict, warm: dict) -> dict:
    figures = {
        "path": page["path"],
        "title": page["title"],
        "first_load_s": cold.get("first_load_s"),
        "component_scan_s": cold.get("component_scan_s"),
        "fill_s": warm.get("fill_s"),
        "warm_runs": len(warm.get("warm_s", [])),
        "warm_p50_s": percentile(warm.get("warm_s", []), 50),
        "warm_p95_s": percentile(warm.get("warm_s", []), 95),
        "warm_max_s": max(warm.get("warm_s", []), default=float("nan")),
        "warm_s": warm.get("warm_s", []),
        "error": cold.get("error") or warm.get("error"),
    }
    if "full_range_first_s" in warm:
        reruns = warm["full_range_warm_s"]
        figures |= {
            "default_days": warm["default_days"],
            "full_range_days": warm["full_range_days"],
            "full_range_first_s": warm["full_range_first_s"],
            "full_range_p50_s": percentile(reruns, 50),
            "full_range_p95_s": percentile(reruns, 95),
            "full_range_max_s": max(reruns),
            "full_range_warm_s": reruns,
        }
    return figures


def misses(figures: dict) -> list[str]:
    """What this page's figures miss of the targets."""
    out = []
    first = figures.get("first_load_s")
    if figures["error"]:
        out.append("the page failed")
    if first is not None and first >= FIRST_LOAD_TARGET_S:
        out.append(f"first load {first:.2f} s >= 2 s")
    p95 = figures.get("warm_p95_s")
    if p95 is not None and not math.isnan(p95) and p95 >= WARM_TARGET_S:
        out.append(f"warm p95 {p95 * 1000:.0f} ms >= 300 ms")
    if "full_range_first_s" in figures:
        if figures["full_range_first_s"] >= FIRST_LOAD_TARGET_S:
            out.append(f"whole range, first {figures['full_range_first_s']:.2f} s >= 2 s")
        if figures["full_range_p95_s"] >= WARM_TARGET_S:
            p95 = figures["full_range_p95_s"]
            out.append(f"whole range, warm p95 {p95 * 1000:.0f} ms >= 300 ms")
    return out


def print_report(pages: list[dict], runs: int) -> None:
    print(f"\n== page latency, ms (warm: {runs} runs each; p95 nearest rank)")
    header = (
        f"{'page':<22}{'first load':>11}{'warm p50':>10}{'p95':>7}{'max':>7}"
        f"{'whole range: first':>20}{'p50':>7}{'p95':>7}"
    )
    print(header)
    print("-" * len(header))
    for f in pages:
        print(
            f"{f['title'][:21]:<22}{ms(f['first_load_s']):>11}{ms(f['warm_p50_s']):>10}"
            f"{ms(f['warm_p95_s']):>7}{ms(f['warm_max_s']):>7}"
            f"{ms(f.get('full_range_first_s')):>20}{ms(f.get('full_range_p50_s')):>7}"
            f"{ms(f.get('full_range_p95_s')):>7}"
            + (f"   ERROR: {f['error'][:120]}" if f["error"] else "")
        )
    scans = [f["component_scan_s"] for f in pages if f.get("component_scan_s") is not None]
    print(
        "  (first load: a fresh process per page"
        + (
            f", AppTest's component scan apart: {min(scans):.2f}-{max(scans):.2f} s"
            if scans
            else ""
        )
        + f"; pages: {', '.join(f['path'] for f in pages)})"
    )
    with_range = [f for f in pages if "full_range_days" in f]
    if with_range:
        default, whole = with_range[0]["default_days"], with_range[0]["full_range_days"]
        print(f"  (default days {default[0]}..{default[1]}; whole range {whole[0]}..{whole[1]})")

    print(f"\n== targets: {TARGETS}")
    for f in pages:
        missed = misses(f)
        print(f"  {f['title']:<22}{'MISSED: ' + '; '.join(missed) if missed else 'met'}")
    total = sum(1 for f in pages if misses(f))
    print(f"  {len(pages) - total} of {len(pages)} pages meet the targets")


# --- main --------------------------------------------------------------------------------------


def parse(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description=__doc__.splitlines()[0],
        epilog="See the module's docstring (the top of this file) for what each figure means.",
    )
    parser.add_argument("--calls", type=int, default=1_000_000, help="target calls (1 M)")
    parser.add_argument("--locations", type=int, default=8, help="default 8")
    parser.add_argument("--days", type=int, default=365, help="local days, default 365")
    parser.add_argument("--seed", type=int, default=7, help="generator seed (7)")
    parser.add_argument("--start", default=None, metavar="YYYY-MM-DD", help="first local day")
    parser.add_argument(
        "--data", type=Path, help="generate the exports here (kept, and reused when the same)"
    )
    parser.add_argument(
        "--database",
        default=BENCH_DB,
        metavar="NAME",
        help=f"the benchmark's database on the server (default {BENCH_DB})",
    )
    parser.add_argument(
        "--rebuild", action="store_true", help="build the warehouse even if it is built"
    )
    parser.add_argument(
        "--database-url",
        metavar="URL",
        help="measure this warehouse as it is (owner's URL, to count its calls); no build",
    )
    parser.add_argument(
        "--app-database-url",
        metavar="URL",
        help="the app's read-only URL for it (default: the private server's role, else "
        "CALLSHRINK_APP_DATABASE_URL with the warehouse's database name)",
    )
    parser.add_argument("--runs", type=int, default=20, help="timed warm runs per page (20)")
    parser.add_argument(
        "--only", metavar="PATHS", help="comma-separated page paths (views/x.py) to measure"
    )
    parser.add_argument("--skip-cold", action="store_true", help="no first loads")
    parser.add_argument(
        "--timeout", type=float, default=600, help="seconds a page run may take (600)"
    )
    parser.add_argument("--json", type=Path, metavar="FILE", help="also write the figures here")
    parser.add_argument(
        "--check", action="store_true", help="exit 1 when a page misses a target or fails"
    )
    parser.add_argument("--worker", choices=("cold", "warm"), help=argparse.SUPPRESS)
    parser.add_argument("--page", action="append", default=[], help=argparse.SUPPRESS)
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse(argv)
    if args.worker:
        return run_worker(args)

    from callshrink import db, settings

    pages = app_pages()
    if args.only:
        wanted_pages = set(args.only.split(","))
        pages = [p for p in pages if p["path"] in wanted_pages]
    if not pages:
        raise SystemExit(f"no pages to measure in {APP}")
    print(f"# pages in {APP.relative_to(PROJECT)}: {', '.join(p['path'] for p in pages)}")

    # the app role's server URL, read before this process points the variables elsewhere
    app_server = settings.configured_app_database_url()
    if not app_server and not settings.configured_database_url():
        app_server = db.app_database_url()
    build_info: dict = {}
    if args.database_url:
        url = server = args.database_url
        database = conninfo_to_dict(url).get("dbname", "")
    else:
        server = db.database_url()
        database = args.database
        url = settings.with_database(server, database)
    app_url = app_url_for(database, args.app_database_url, app_server, url)
    env = {**os.environ, settings.DATABASE_URL_VAR: url, settings.APP_DATABASE_URL_VAR: app_url}
    os.environ[settings.DATABASE_URL_VAR] = url  # for db.ensure_app_role and the build

    if not args.database_url:
        wanted = build_args(args)
        recorded = recorded_build(url)
        same_data = bool(recorded) and recorded["arguments"] == wanted and not args.rebuild
        same_project = same_data and recorded["dbt_project_hash"] == dbt_project_hash()
        if same_project:
            build_info = recorded
            print(
                f"# {database} is built with these arguments and this dbt project (on "
                f"{recorded['built_at']}, {recorded['kind']} {recorded['build_s']:,.1f} s): "
                "not building",
                flush=True,
            )
        else:
            if same_data:
                print(
                    f"# {database} holds these arguments' data, built by another dbt project "
                    "(models/, macros/, dbt_project.yml changed): refreshing it",
                    flush=True,
                )
            tmp = None if args.data else Path(tempfile.mkdtemp(prefix="callshrink-app-bench-"))
            data = (args.data or tmp).resolve()
            data.mkdir(parents=True, exist_ok=True)
            try:
                build_info = build(server, url, data, wanted, env, refresh=same_data)
            finally:
                if tmp is not None:
                    shutil.rmtree(tmp, ignore_errors=True)
    size = warehouse_size(url)
    print(
        f"# warehouse {database} on {settings.redacted(server)}: {size['calls']:,} calls "
        f"{size['by_direction']}, {size['locations']} locations, "
        f"{size['first_day']}..{size['last_day']}",
        flush=True,
    )

    load_before = os.getloadavg()
    cold: dict[str, dict] = {}
    if not args.skip_cold:
        print("# first loads, a fresh process per page", flush=True)
        for page in pages:
            result = in_worker(
                ["--worker", "cold", "--page", page["path"], "--timeout", str(args.timeout)],
                env,
                timeout=args.timeout * 2,
            )
            cold[page["path"]] = result
            scan = result.get("component_scan_s")
            print(
                f"#   {page['path']}: {result['first_load_s']:.2f} s"
                + (f" (component scan apart: {scan:.2f} s)" if scan is not None else ""),
                flush=True,
            )
    print(f"# warm runs, one process: {args.runs} per page after one to fill", flush=True)
    warm_args = ["--worker", "warm", "--runs", str(args.runs), "--timeout", str(args.timeout)]
    for page in pages:
        warm_args += ["--page", page["path"]]
    warm = {r["page"]: r for r in in_worker(warm_args, env, timeout=args.timeout * 10)}

    figures = [page_figures(p, cold.get(p["path"], {}), warm.get(p["path"], {})) for p in pages]
    load_after = os.getloadavg()
    print("\n== run")
    print(f"command: {' '.join([Path(sys.executable).name, *sys.argv])}")
    print(
        f"machine: {os.cpu_count()} cores; load average (1 min) {load_before[0]:.1f} before "
        f"the measurements, {load_after[0]:.1f} after (other work slows every figure)"
    )
    print(
        f"warehouse: {database}, {size['calls']:,} calls ({size['locations']} locations, "
        f"{size['first_day']}..{size['last_day']})"
    )
    if build_info:
        print(
            f"build: generate {build_info['generate_s']:,.1f} s + callshrink run "
            f"({build_info['kind']}) {build_info['build_s']:,.1f} s (recorded "
            f"{build_info['built_at']}, arguments "
            f"{json.dumps(build_info['arguments'])})"
        )
    print_report(figures, args.runs)

    if args.json:
        report = {
            "measured_at": datetime.now(UTC).isoformat(),
            "command": sys.argv,
            "targets": {"warm_p95_s": WARM_TARGET_S, "first_load_s": FIRST_LOAD_TARGET_S},
            "warehouse": {"database": database, **size},
            "build": build_info,
            "runs": args.runs,
            "load_average": {"before": load_before, "after": load_after},
            "pages": [{**f, "misses": misses(f)} for f in figures],
        }
        args.json.write_text(json.dumps(report, indent=1, default=str))
        print(f"\nfigures written to {args.json}")
    if args.check and any(misses(f) for f in figures):
        return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
