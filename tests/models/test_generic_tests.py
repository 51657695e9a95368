"""The project's own generic data tests pass on the warehouse's rows and fail on a row made to
break them.

Run on the suite's warehouse after the pipeline (whose build passed every data test): the
state a test needs is made in the warehouse, the test is run alone with dbt, and the warehouse
is put back.
"""

from __future__ import annotations

import psycopg

from callshrink.dbt import stage_reference
from callshrink.settings import PROJECT_DIR
from tests.conftest import PipelineRun, run_dbt

ORPHAN = "no-such-pbx:0000000000.1"


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
    build = """model ~ '[.]"restricted"[.]"caller_numbers"$'"""
    (built_from,) = conn.execute(
        f"select built_from::text from intermediate._call_model_builds where {build}"
    ).fetchone()
    conn.execute(
        "create temp table orphan as select * from restricted.caller_numbers "
        "order by started_at desc limit 1"
    )
    conn.execute("update orphan set call_id = %s", (ORPHAN,))
    conn.execute(
        "update intermediate._call_model_builds set built_from = "
        f"(select started_date_utc from orphan) where {build}"
    )
    try:
        passed = run_dbt(*select)
        conn.execute("insert into restricted.caller_numbers select * from orphan")
        failed = run_dbt(*select)
    finally:
        conn.execute("delete from restricted.caller_numbers where call_id = %s", (ORPHAN,))
        conn.execute(
            f"update intermediate._call_model_builds set built_from = %s::date where {build}",
            (built_from,),
        )

    output = passed.stdout + passed.stderr
    assert passed.returncode == 0, output[-5000:]
    assert "PASS relationships_in_days_caller_numbers_call_id" in output, output[-5000:]
    (compiled,) = (PROJECT_DIR / "target" / "compiled").glob(
        "callshrink/models/restricted/caller_numbers.yml/relationships_in_days_*.sql"
    )
    # the newest day of caller_numbers, and of calls the day before it on
    assert compiled.read_text().count("started_date_utc >= '") == 2, compiled.read_text()

    output = failed.stdout + failed.stderr
    assert failed.returncode == 1, output[-5000:]
    assert "FAIL 1 relationships_in_days_caller_numbers_call_id" in output, output[-5000:]
