"""A failing Great Expectations check stops what is downstream of its table and names the rows."""

from __future__ import annotations

import psycopg
import pytest

from callshrink.pipeline import run_pipeline
from tests.conftest import own_database
from tests.ingestion.test_loader import CDR_GOOD


@pytest.fixture
def blocking_url(server_url, tmp_path, monkeypatch):
    yield from own_database(server_url, "callshrink_test_blocking", tmp_path, monkeypatch)


def test_a_failed_check_blocks_what_is_downstream_and_says_which_rows(
    blocking_url, tmp_path, monkeypatch
):
    url = blocking_url
    landing = tmp_path / "landing"
    cdr = landing / "pbx" / "pbx_east" / "cdr" / "Master.csv"
    cdr.parent.mkdir(parents=True)
    # loads (disposition is text) but breaks the suite's rule on dispositions
    cdr.write_text(CDR_GOOD + "\n" + CDR_GOOD.replace('"ANSWERED"', '"MAYBE"') + "\n")
    monkeypatch.setenv("CALLSHRINK_LANDING_DIR", str(landing))

    result = run_pipeline(quiet=True)

    assert not result.success
    assert result.raw["asterisk/cdr"].rows_loaded == 2
    (failed,) = result.failed_checks
    assert failed.startswith("asterisk/cdr great_expectations:")
    assert "disposition='MAYBE' at pbx/pbx_east/cdr/Master.csv:2" in failed
    with psycopg.connect(url) as conn:
        # nothing downstream of the CDR was built; what does not read it was
        assert conn.execute("select to_regclass('marts.calls')").fetchone() == (None,)
        assert conn.execute("select to_regclass('intermediate.int_calls_stitched')").fetchone() == (
            None,
        )
        assert conn.execute(
            "select to_regclass('intermediate.int_revenue_records') is not null"
        ).fetchone() == (True,)
    assert any("asterisk.cdr" in step for step in result.failed_steps), result.summary()
