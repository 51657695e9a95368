"""The project's own generic data tests fail on the rows they are written to catch.

Run on the suite's warehouse after the pipeline (whose build passed every data test): a row
the test must reject is added, the test is run alone with dbt, and the row is taken out again.
"""

from __future__ import annotations

import psycopg

from callshrink.dbt import stage_reference
from callshrink.settings import PROJECT_DIR
from tests.conftest import PipelineRun
from tests.models.test_dbt_unit_tests import _dbt


def test_relationships_indexed_fails_on_a_call_id_that_is_not_a_call(
    pipeline_run: PipelineRun, conn: psycopg.Connection
) -> None:
    """restricted.caller_numbers' call_id must be a call of marts.calls. A copy of its newest
    row with a call_id no call has is the one failure; without it the test passes. The
    suite's warehouse had one full build, whose tests read every row; the model's build is
    recorded here as an incremental one that wrote the newest day, so the test reads that
    day alone (its `where`, __days_built__), as in a day's run."""
    stage_reference()
    select = ["test", "--select", "caller_numbers,test_name:relationships_indexed"]
    build = """model ~ '[.]"restricted"[.]"caller_numbers"$'"""
    (built_from,) = conn.execute(
        f"select built_from::text from intermediate._call_model_builds where {build}"
    ).fetchone()
    conn.execute(
        "create temp table orphan as select * from restricted.caller_numbers "
        "order by started_at desc limit 1"
    )
    conn.execute("update orphan set call_id = 'no-such-pbx:0000000000.1'")
    conn.execute("insert into restricted.caller_numbers select * from orphan")
    conn.execute(
        "update intermediate._call_model_builds set built_from = "
        f"(select started_date_utc from orphan) where {build}"
    )
    try:
        failed = _dbt(*select)
    finally:
        conn.execute(
            "delete from restricted.caller_numbers where call_id = 'no-such-pbx:0000000000.1'"
        )
        conn.execute(
            f"update intermediate._call_model_builds set built_from = %s::date where {build}",
            (built_from,),
        )
    output = failed.stdout + failed.stderr
    assert failed.returncode == 1, output[-5000:]
    assert "FAIL 1 relationships_indexed_caller_numbers_call_id" in output, output[-5000:]
    (compiled,) = (PROJECT_DIR / "target" / "compiled").glob(
        "callshrink/models/restricted/caller_numbers.yml/relationships_indexed_*.sql"
    )
    assert "started_date_utc >= '" in compiled.read_text()  # the day, not the whole table

    passed = _dbt(*select)
    output = passed.stdout + passed.stderr
    assert passed.returncode == 0, output[-5000:]
    assert "PASS relationships_indexed_caller_numbers_call_id" in output, output[-5000:]
