"""Incremental builds of the call models equal a full refresh.

Files arrive day by day (the landing folder grows by UTC date, as the vendors deliver); each
arrival runs the whole pipeline, so the call models build incrementally, with follow-up values
(recovery, repeat contacts) that change as later days arrive. The PBX exports (CDR, queue_log)
lag one day behind CallRail, so a day is first built from CallRail alone and its PBX legs
arrive late, on the next run. (The generator writes a call's legs in the file of the UTC day it
started, even when it ends after midnight, so the files alone never deliver a leg late.) At the
end `dbt build --full-refresh` rebuilds every model from scratch: every row must be the same.

The test has a database of its own (callshrink_incremental on the suite's server) and points
the environment at it only for its duration.
"""

from __future__ import annotations

import re
import shutil
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest
from psycopg.rows import dict_row

from callshrink.dbt import dbt, stage_reference
from callshrink.generate import generate
from callshrink.pipeline import run_pipeline
from tests.conftest import own_database

DATABASE = "callshrink_incremental"

# Every incremental call model (dbt_project.yml: intermediate/calls, marts/calls, restricted).
CALL_MODELS = (
    "intermediate.int_pbx_legs_typed",
    "intermediate.int_pbx_calls_grouped",
    "intermediate.int_calls_stitched",
    "intermediate.int_calls_classified",
    "intermediate.int_calls_followed_up",
    "intermediate.int_pbx_names_counted",
    "marts.calls",
    "marts.call_legs",
    "marts.missed_calls",
    "restricted.caller_numbers",
)
DATED = re.compile(r"\d{4}-\d{2}-\d{2}")


@pytest.fixture
def incremental_url(
    server_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Iterator[str]:
    yield from own_database(server_url, DATABASE, tmp_path, monkeypatch)


def _snapshot(conn: psycopg.Connection) -> dict[str, tuple[int, str]]:
    """Row count and a digest of the sorted rows of every call model."""
    return {
        model: conn.execute(
            f"select count(*), md5(coalesce(string_agg(t::text, '|' order by t::text), '')) "
            f"from {model} t"
        ).fetchone()
        for model in CALL_MODELS
    }


def _oids(conn: psycopg.Connection) -> dict[str, int]:
    return {
        model: conn.execute("select %s::regclass::oid", (model,)).fetchone()[0]
        for model in CALL_MODELS
    }


def _differences(conn: psycopg.Connection, model: str) -> str:
    """Which rows differ between the incremental build and the full refresh, and in which
    columns (rows matched by the model's first column, its key)."""
    kept = f"incremental_snapshot.{model.replace('.', '__')}"
    sides = {}
    for label, query in (
        ("incremental", f"select * from {kept} except all select * from {model}"),
        ("full refresh", f"select * from {model} except all select * from {kept}"),
    ):
        cursor = conn.cursor(row_factory=dict_row)
        sides[label] = {str(next(iter(row.values()))): row for row in cursor.execute(query)}
    incremental, full = sides["incremental"], sides["full refresh"]
    lines = [
        f"{model}: {len(incremental)} rows only in the incremental build, "
        f"{len(full)} only in the full refresh"
    ]
    both = sorted(incremental.keys() & full.keys())
    columns = Counter(
        column
        for key in both
        for column in incremental[key]
        if incremental[key][column] != full[key][column]
    )
    lines.append(f"  columns that differ (rows): {dict(columns)}")
    for key in both[:5]:
        changed = {
            column: (incremental[key][column], full[key][column])
            for column in incremental[key]
            if incremental[key][column] != full[key][column]
        }
        lines.append(f"  {key}: (incremental, full refresh) {changed}")
    for label, rows in sides.items():
        missing = sorted(rows.keys() - both)
        if missing:
            lines.append(f"  only the {label} has {len(missing)} keys, e.g. {missing[:5]}")
    return "\n".join(lines)


def test_incremental_builds_equal_a_full_refresh(
    incremental_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
):
    out = tmp_path / "demo"
    # 13 days: more than the 9 days marts.calls recomputes on each run (7 days of follow-up
    # look-ahead + 2 days of lookback), so the last runs keep the first days as they are
    generate(out, locations=3, days=13, seed=5, calls_per_location_day=40)
    delivered = out / "landing"
    landing = tmp_path / "landing"
    landing.mkdir()
    monkeypatch.setenv("CALLSHRINK_LANDING_DIR", str(landing))
    monkeypatch.setenv("CALLSHRINK_REFERENCE_DIR", str(out / "reference"))
    files = {
        path: DATED.search(path.name).group() for path in delivered.rglob("*") if path.is_file()
    }
    dates = sorted(set(files.values()))
    assert len(dates) == 14  # one file per UTC day, the last with the last local day's spill-over

    def deliver(through: str, pbx_through: str) -> None:
        for path, day in files.items():
            target = landing / path.relative_to(delivered)
            lagging = path.relative_to(delivered).parts[0] == "pbx"
            if day <= (pbx_through if lagging else through) and not target.exists():
                target.parent.mkdir(parents=True, exist_ok=True)
                shutil.copy2(path, target)

    conn = psycopg.connect(incremental_url, autocommit=True)

    def pbx_calls_on(day: str) -> tuple[int, int]:
        """Calls of a UTC day in marts.calls: all, and those with a PBX record."""
        return conn.execute(
            "select count(*), count(*) filter (where has_pbx_record) from marts.calls "
            "where started_date_utc = %s",
            (day,),
        ).fetchone()

    days_built = []
    oids = []
    first_run_last_day = None
    for through, pbx_through in (
        (dates[9], dates[8]),
        (dates[10], dates[9]),
        (dates[11], dates[10]),
        (dates[-1], dates[-1]),
    ):
        deliver(through, pbx_through)
        result = run_pipeline(quiet=True)
        assert result.success, result.summary()
        days_built.append(
            conn.execute("select count(distinct started_date_utc) from marts.calls").fetchone()[0]
        )
        oids.append(_oids(conn))
        if first_run_last_day is None:
            first_run_last_day = pbx_calls_on(dates[9])

    # late data happened: the first run built dates[9] from CallRail alone, later runs merged
    # its PBX legs into that day
    calls, with_pbx = first_run_last_day
    assert calls > 0 and with_pbx == 0, first_run_last_day
    assert pbx_calls_on(dates[9])[1] > 0

    # the runs after the first were incremental: the tables stayed (a rebuild replaces them),
    # and rows of days before each model's window kept the transaction that wrote them
    assert days_built[0] < days_built[-1] and days_built == sorted(days_built), days_built
    assert all(run == oids[0] for run in oids), oids
    for model in CALL_MODELS:
        writers = conn.execute(f"select count(distinct xmin::text) from {model}").fetchone()[0]
        assert writers > 1, f"{model}: every row rewritten by the last run"

    incremental = _snapshot(conn)
    conn.execute("create schema incremental_snapshot")
    for model in CALL_MODELS:
        conn.execute(
            f"create table incremental_snapshot.{model.replace('.', '__')} as select * from {model}"
        )

    stage_reference()  # the seed path of this data set's reference folder, as the pipeline does
    dbt(["build", "--full-refresh", "--quiet", "--target-path", str(tmp_path / "target")])
    rebuilt = _oids(conn)
    assert all(rebuilt[model] != oids[-1][model] for model in CALL_MODELS)  # from scratch

    full = _snapshot(conn)
    differing = [model for model in CALL_MODELS if incremental[model] != full[model]]
    assert not differing, "\n".join(
        [
            f"{model}: incremental {incremental[model]}, full refresh {full[model]}"
            for model in differing
        ]
        + [_differences(conn, model) for model in differing]
    )
    assert full["marts.calls"][0] > 0
    conn.close()
