"""The raw tables load at once, each checked as it is loaded; a table that fails to load, or
whose check cannot run, does not stop the others, and the step then fails naming it."""

from __future__ import annotations

import os
import threading
from collections.abc import Callable
from pathlib import Path
from types import SimpleNamespace

import dagster as dg
import psycopg
import pytest

from callshrink import cli, pipeline
from callshrink.ingest import table_by_key
from orchestration.defs import ingestion
from orchestration.defs.resources import LandingResource, WarehouseResource
from tests.conftest import recreate_database
from tests.ingestion.hostile import event

QUEUE_LOG = dg.AssetKey(["asterisk", "queue_log"])
CDR = dg.AssetKey(["asterisk", "cdr"])


@pytest.fixture
def landing(server_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A landing folder with three queue_log events and no CDR, and a database of its own."""
    folder = tmp_path / "landing"
    queue_log = folder / "pbx" / "pbx_a" / "queue_log" / "queue_log"
    queue_log.parent.mkdir(parents=True)
    queue_log.write_text("\n".join(event(1772953200 + i) for i in range(3)) + "\n")
    url = recreate_database(server_url, "callshrink_raw_tables")
    monkeypatch.setenv("CALLSHRINK_DATABASE_URL", url)
    monkeypatch.setenv("CALLSHRINK_LANDING_DIR", str(folder))
    monkeypatch.setenv("CALLSHRINK_HOME", str(tmp_path / "home"))
    monkeypatch.delenv(ingestion.LOAD_THREADS_VAR, raising=False)
    return folder


def loading_with(monkeypatch: pytest.MonkeyPatch, before: Callable[[str], None]) -> None:
    """The step's loader, with `before(table)` run on the loading thread first."""
    real = ingestion.load_table

    def load_table(conn, table, *args, **kwargs):
        before(table.identifier)
        return real(conn, table, *args, **kwargs)

    monkeypatch.setattr(ingestion, "load_table", load_table)


def materialize(*keys: dg.AssetKey) -> dg.ExecuteInProcessResult:
    resources = {"warehouse": WarehouseResource(), "landing": LandingResource()}
    return dg.materialize(
        [ingestion.raw_tables], selection=list(keys), resources=resources, raise_on_error=False
    )


def test_two_tables_load_at_once_by_default_and_one_at_a_time_when_asked(
    landing: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # each load waits until another has started: loads one after the other never meet
    meetings = [threading.Barrier(2, timeout=20)]
    loading_with(monkeypatch, lambda table: meetings[-1].wait())

    assert materialize(QUEUE_LOG, CDR).success

    monkeypatch.setenv(ingestion.LOAD_THREADS_VAR, "1")
    meetings.append(threading.Barrier(2, timeout=2))  # the first load waits for nobody
    alone = materialize(QUEUE_LOG, CDR)
    assert not alone.success
    assert "BrokenBarrierError" in str(alone.get_step_failure_events()[0].step_failure_data)


def test_a_table_that_fails_to_load_leaves_the_others_loaded_and_checked(
    landing: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def before(table: str) -> None:
        if table == "asterisk_cdr":
            raise RuntimeError("the disk went away")

    loading_with(monkeypatch, before)

    result = materialize(QUEUE_LOG, CDR)

    assert not result.success
    [failure] = result.get_step_failure_events()
    described = failure.step_failure_data.user_failure_data.description
    assert "raw.asterisk_cdr: loading failed: RuntimeError('the disk went away')" in described
    materialized = [e.asset_key for e in result.get_asset_materialization_events()]
    assert materialized == [QUEUE_LOG]
    checks = result.get_asset_check_evaluations()
    assert [(c.asset_key, c.passed) for c in checks] == [(QUEUE_LOG, True)]
    url = WarehouseResource().url()
    with psycopg.connect(url) as conn:
        table = table_by_key("asterisk", "queue_log")
        rows = conn.execute(f"select count(*) from raw.{table.identifier}").fetchone()
    assert rows == (3,)


def test_a_check_that_cannot_run_leaves_the_other_tables_checked(
    landing: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    real = ingestion.validate

    def validate(table, url):
        if table.identifier == "asterisk_cdr":
            raise RuntimeError("no suite today")
        return real(table, url)

    monkeypatch.setattr(ingestion, "validate", validate)

    result = materialize(QUEUE_LOG, CDR)

    assert not result.success
    [failure] = result.get_step_failure_events()
    described = failure.step_failure_data.user_failure_data.description
    assert "raw.asterisk_cdr: checking failed: RuntimeError('no suite today')" in described
    checks = result.get_asset_check_evaluations()
    assert [(c.asset_key, c.passed) for c in checks] == [(QUEUE_LOG, True)]


def test_a_load_thread_count_that_is_not_a_whole_number_fails_naming_the_variable(
    landing: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(ingestion.LOAD_THREADS_VAR, "two")

    result = materialize(QUEUE_LOG)

    assert not result.success
    [failure] = result.get_step_failure_events()
    assert (
        "CALLSHRINK_LOAD_THREADS='two'" in failure.step_failure_data.user_failure_data.description
    )


def test_the_command_line_sets_how_many_tables_load_at_once(
    landing: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture
) -> None:
    seen: list[str | None] = []

    def run_pipeline(**_options) -> SimpleNamespace:
        seen.append(os.environ.get(ingestion.LOAD_THREADS_VAR))
        return SimpleNamespace(success=True)

    monkeypatch.setattr(pipeline, "run_pipeline", run_pipeline)
    (tmp_path / "reference").mkdir()
    run = ["run", "-q", "--landing", str(landing), "--reference", str(tmp_path / "reference")]

    assert cli.main(run) == 0
    assert cli.main([*run, "--load-threads", "1"]) == 0
    assert seen == [None, "1"]
    with pytest.raises(SystemExit):
        cli.main([*run, "--load-threads", "0"])
    assert "--load-threads: a whole number of at least 1, got '0'" in capsys.readouterr().err
