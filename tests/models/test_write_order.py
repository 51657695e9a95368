"""A full build of the call models writes their rows by day (macros/write_order.sql), so the
day's reads of a later run, by index, touch the pages of those days and not the whole table."""

from __future__ import annotations

import json

import psycopg

from tests.conftest import PipelineRun, run_dbt


def test_a_full_build_writes_the_call_models_rows_day_by_day(
    pipeline_run: PipelineRun, conn: psycopg.Connection
) -> None:
    """The suite's warehouse had one full build: in each incremental model whose config sets
    write_order, the rows lie in the table by day. Not every one: Postgres may put a row into
    room left on an earlier page, so at most one row in a hundred follows a row of a later
    day (in the order of the joins and windows, nearly half did)."""
    listed = run_dbt(
        "ls", "--resource-type", "model", "--select", "config.write_order:started_date_utc",
        "--output", "json", "--output-keys", "schema name config", "--quiet",
    )  # fmt: skip
    assert listed.returncode == 0, listed.stdout + listed.stderr
    models = [json.loads(line) for line in listed.stdout.splitlines() if line.startswith("{")]
    tables = {
        f"{model['schema']}.{model['name']}"
        for model in models
        if model["config"]["materialized"] == "incremental"
    }
    assert {"marts.calls", "intermediate.int_calls_followed_up", "marts.call_legs"} <= tables
    for table in sorted(tables):
        (rows, out_of_order) = conn.execute(
            "select count(*), count(*) filter (where started_date_utc < before) from ("
            "select started_date_utc, lag(started_date_utc) over (order by ctid) as before "
            f"from {table}) as written"
        ).fetchone()
        assert rows > 0 and out_of_order <= rows / 100, (table, rows, out_of_order)
