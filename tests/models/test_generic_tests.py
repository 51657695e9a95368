"""The project's own generic data tests pass on the warehouse's rows and fail on a row made to
break them.

Run on the suite's warehouse after the pipeline (whose build passed every data test): the
state a test needs is made in the warehouse, the test is run alone with dbt, and the warehouse
is put back.
"""

from __future__ import annotations

import json
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager

import psycopg

from callshrink.dbt import stage_reference
from callshrink.settings import PROJECT_DIR
from tests.conftest import PipelineRun, run_dbt

ORPHAN = "no-such-pbx:0000000000.1"


@contextmanager
def _build_recorded(conn: psycopg.Connection, model: str, assignments: str) -> Iterator[None]:
    """The last build of `model` ('<schema>.<name>') recorded in _call_model_builds as
    `assignments` (SQL: `built_from = ...`) while the block runs, then as it was."""
    schema, name = model.split(".")
    build = f"""model ~ '[.]"{schema}"[.]"{name}"$'"""
    table = "intermediate._call_model_builds"
    # as text: a full build's built_from is -infinity, which no Python date holds
    before = conn.execute(
        f"select built_from::text, built_at from {table} where {build}"
    ).fetchone()
    conn.execute(f"update {table} set {assignments} where {build}")
    try:
        yield
    finally:
        conn.execute(
            f"update {table} set built_from = %s::date, built_at = %s where {build}", before
        )


def _insert_copy(
    conn: psycopg.Connection,
    table: str,
    changes: dict[str, str],
    condition: str = "true",
    params: tuple = (),
) -> None:
    """Insert into `table` a copy of one of its rows that meet `condition` (SQL on
    `original`, with `params`), with the columns of `changes` set to their values (text, cast
    by Postgres)."""
    conn.execute(
        f"insert into {table} select (copy.t).* from (select jsonb_populate_record("
        f"null::{table}, to_jsonb(original) || %s::jsonb) as t from {table} as original "
        f"where {condition} limit 1) as copy",
        (json.dumps(changes), *params),
    )


def _assert_ran(run: subprocess.CompletedProcess, line: str, returncode: int = 0) -> None:
    """dbt exited with `returncode` and printed `line` (a test's PASS or FAIL line)."""
    output = run.stdout + run.stderr
    assert run.returncode == returncode, output[-5000:]
    assert line in output, output[-5000:]


def test_relationships_in_days_reads_the_days_built_and_fails_on_a_missing_call(
    pipeline_run: PipelineRun, conn: psycopg.Connection
) -> None:
    """restricted.caller_numbers' call_id must be a call of marts.calls. The suite's warehouse
    had one full build, whose tests read every row; the model's build is recorded here as an
    incremental one that wrote the newest day, so the test reads that day alone (its `where`,
    __days_built__) and the calls from the day before it, as in a day's run. It passes; a
    copy of the newest row with a call_id no call has is then its one failure."""
    stage_reference()
    select = ["test", "--select", "caller_numbers,test_name:relationships_in_days"]
    conn.execute(
        "create temp table orphan as select * from restricted.caller_numbers "
        "order by started_at desc limit 1"
    )
    conn.execute("update orphan set call_id = %s", (ORPHAN,))
    newest_day = "built_from = (select started_date_utc from orphan)"
    with _build_recorded(conn, "restricted.caller_numbers", newest_day):
        try:
            passed = run_dbt(*select)
            conn.execute("insert into restricted.caller_numbers select * from orphan")
            failed = run_dbt(*select)
        finally:
            conn.execute("delete from restricted.caller_numbers where call_id = %s", (ORPHAN,))

    _assert_ran(passed, "PASS relationships_in_days_caller_numbers_call_id")
    (compiled,) = (PROJECT_DIR / "target" / "compiled").glob(
        "callshrink/models/restricted/caller_numbers.yml/relationships_in_days_*.sql"
    )
    # the newest day of caller_numbers, and of calls the day before it on
    assert compiled.read_text().count("started_date_utc >= '") == 2, compiled.read_text()

    _assert_ran(failed, "FAIL 1 relationships_in_days_caller_numbers_call_id", returncode=1)


def test_a_model_that_rewrites_older_calls_is_tested_on_the_rows_its_last_build_wrote(
    pipeline_run: PipelineRun, conn: psycopg.Connection
) -> None:
    """marts.calls rewrites every call from its cutoff and some older calls, and each row
    carries the time of the build that wrote it (`_built_at`). Its tests read the rows of
    its last build (`__days_built__`, macros/get_where_subquery.sql), not every call of the
    days from its recorded first day: here the build is recorded as one that wrote from the
    newest day on. A copy of a call of the newest day with a direction no call has, which
    this build did not write, passes (a test of the days would fail it); such a copy of the
    oldest call, written by it, fails. (Copies with call ids of their own: the table's
    unique index on call_id refuses a second row of a call.)"""
    stage_reference()
    select = ["test", "--select", "calls,test_name:accepted_values"]
    last_build = "2031-01-01 00:00:00+00"
    not_rebuilt = "2001-01-01 00:00:00+00"
    newest, oldest = conn.execute(
        "select (array_agg(call_id order by started_at desc))[1], "
        "(array_agg(call_id order by started_at))[1] from marts.calls"
    ).fetchone()

    def copy_sideways(call_id: str, built: str) -> None:
        changes = {
            "_built_at": built,
            "call_id": f"copy-of:{call_id}",
            "direction": "sideways",
        }
        _insert_copy(conn, "marts.calls", changes, "call_id = %s", (call_id,))

    recorded = (
        f"built_at = '{last_build}', built_from = (select max(started_date_utc) from marts.calls)"
    )
    with _build_recorded(conn, "marts.calls", recorded):
        try:
            copy_sideways(newest, not_rebuilt)
            passed = run_dbt(*select)
            copy_sideways(oldest, last_build)
            failed = run_dbt(*select)
        finally:
            conn.execute("delete from marts.calls where call_id like 'copy-of:%'")

    _assert_ran(passed, "PASS accepted_values_calls_direction")
    (compiled,) = (PROJECT_DIR / "target" / "compiled").glob(
        "callshrink/models/marts/calls/calls.yml/accepted_values_calls_direction_*.sql"
    )
    assert "_built_at = '2031-01-01" in compiled.read_text(), compiled.read_text()

    _assert_ran(failed, "FAIL 1 accepted_values_calls_direction", returncode=1)


def test_a_whole_table_checks_its_calls_of_the_days_the_calls_last_rebuilt(
    pipeline_run: PipelineRun, conn: psycopg.Connection
) -> None:
    """marts.call_conversions is rebuilt whole, and its call_id must be a call of marts.calls.
    A call a build of marts.calls deleted started in the days that build rewrote, so the
    test reads the conversions from the first of them on (`__calls_rebuilt__:started_at`,
    macros/get_where_subquery.sql), recorded here as after the newest call. A conversion of a
    call no call has, started long before, passes; one started after, fails."""
    stage_reference()
    select = ["test", "--select", "call_conversions,test_name:relationships"]

    def orphan_started(started_at: str) -> None:  # a call id of its own: call_id is unique
        orphan = f"{ORPHAN}{started_at[:4]}"
        _insert_copy(conn, "marts.call_conversions", {"call_id": orphan, "started_at": started_at})

    after_the_newest_call = "built_from = (select max(started_date_utc) from marts.calls)"
    with _build_recorded(conn, "marts.calls", after_the_newest_call):
        try:
            orphan_started("2000-01-01 00:00:00+00")
            passed = run_dbt(*select)
            orphan_started("2100-01-01 00:00:00+00")
            failed = run_dbt(*select)
        finally:
            conn.execute(
                "delete from marts.call_conversions where call_id like %s", (f"{ORPHAN}%",)
            )

    _assert_ran(passed, "PASS relationships_call_conversions_call_id")

    _assert_ran(failed, "FAIL 1 relationships_call_conversions_call_id", returncode=1)


def test_a_unique_index_answers_the_unique_test_and_without_one_the_rows_are_counted(
    pipeline_run: PipelineRun, conn: psycopg.Connection
) -> None:
    """marts.calls keeps call_id unique with a unique index (its config), so the `unique`
    test of call_id (macros/test_unique.sql) finds the index and reads no row of the table:
    in the plan of the compiled test, every scan of calls is never executed. In its place,
    an index that proves nothing (a plain one, a unique one of two columns, a unique one of
    some rows) leaves the test to count the rows, and a second row of a call is its one
    failure each time."""
    stage_reference()
    select = ["test", "--select", "calls,test_name:unique"]
    _assert_ran(run_dbt(*select), "PASS unique_calls_call_id")
    (compiled,) = (PROJECT_DIR / "target" / "compiled").glob(
        "callshrink/models/marts/calls/calls.yml/unique_calls_call_id.sql"
    )
    plan = [line for (line,) in conn.execute("explain analyze " + compiled.read_text())]
    scans = [line for line in plan if " on calls " in line]
    assert scans and all("(never executed)" in line for line in scans), "\n".join(plan)

    (name, definition) = conn.execute(
        "select indexname, indexdef from pg_indexes where schemaname = 'marts' "
        "and tablename = 'calls' and indexdef like 'CREATE UNIQUE INDEX % (call_id)'"
    ).fetchone()
    marker = "unique-test-copy"
    conn.execute(f'drop index marts."{name}"')
    try:
        # a second row of a call, with its _built_at: among the rows the tests read
        _insert_copy(
            conn,
            "marts.calls",
            {"region": marker, "pbx_call_id": None, "callrail_call_id": None},
            "call_id = (select max(call_id) from marts.calls)",
        )
        for proves_nothing in ["(call_id)", "(call_id, region)", "(call_id) where false"]:
            unique = "" if proves_nothing == "(call_id)" else "unique"
            conn.execute(f"create {unique} index proves_nothing on marts.calls {proves_nothing}")
            try:
                failed = run_dbt(*select)
            finally:
                conn.execute("drop index marts.proves_nothing")
            _assert_ran(failed, "FAIL 1 unique_calls_call_id", returncode=1)
    finally:
        conn.execute("delete from marts.calls where region = %s", (marker,))
        conn.execute(definition)
