"""A full build of the call models and of CallRail's staging writes their rows in time order
(macros/write_order.sql), so the day's reads of a later run, by index, touch the pages of
those days and not the whole table."""

from __future__ import annotations

import psycopg

from tests.conftest import PipelineRun, dbt_ls


def test_a_full_build_writes_the_rows_a_day_reads_together(
    pipeline_run: PipelineRun, conn: psycopg.Connection
) -> None:
    """The suite's warehouse had one full build: in each incremental model whose config sets
    write_order, the rows lie in the table in that order. Not every one: Postgres may put a
    row into room left on an earlier page, so at most one row in a hundred follows a row
    later than it (in the order of the joins and windows, nearly half did)."""
    models = dbt_ls(
        "--resource-type", "model", "--select", "config.materialized:incremental",
        "--output-keys", "schema name config",
    )  # fmt: skip
    ordered = {
        f"{model['schema']}.{model['name']}": model["config"]["write_order"][0]
        for model in models
        if model["config"].get("write_order")
    }
    assert {
        "marts.calls": "started_date_utc",
        "intermediate.int_calls_followed_up": "started_date_utc",
        "staging.stg_callrail__calls": "started_at",
    }.items() <= ordered.items()
    for table, column in sorted(ordered.items()):
        (rows, out_of_order) = conn.execute(
            f"select count(*), count(*) filter (where {column} < before) from ("
            f"select {column}, lag({column}) over (order by ctid) as before from {table}"
            ") as written"
        ).fetchone()
        assert rows > 0 and out_of_order <= rows / 100, (table, rows, out_of_order)
