"""The whole pipeline on generated demo data: Dagster -> raw -> GX -> dbt -> marts."""

from __future__ import annotations

import csv
import hashlib
import os
import re
import subprocess
from decimal import Decimal

import psycopg

from callshrink import settings
from callshrink.dbt import tool
from callshrink.ingest import RAW_TABLES
from callshrink.pipeline import run_pipeline
from tests.conftest import PipelineRun, snapshot_counts


def test_the_run_is_recorded_as_a_finished_load(
    pipeline_run: PipelineRun, conn: psycopg.Connection
):
    started, finished, landing = conn.execute(
        "select started_at, finished_at, landing_dir from raw._loads where load_id = %s",
        (pipeline_run.result.run_id,),
    ).fetchone()
    assert started <= finished
    assert landing == str(pipeline_run.landing)


def test_every_raw_table_is_loaded(pipeline_run: PipelineRun, conn: psycopg.Connection):
    counts = snapshot_counts(conn)
    for table in (
        "callrail_calls",
        "asterisk_cdr",
        "asterisk_queue_log",
        "square_payments",
        "square_refunds",
        "square_customers",
        "hubspot_contacts",
        "hubspot_deals",
    ):
        assert counts[f"raw.{table}"] > 0, table


def test_a_malformed_line_is_named_and_the_rest_of_its_file_loads(
    pipeline_run: PipelineRun, conn: psycopg.Connection
):
    defect = pipeline_run.defect("cdr_wrong_column_count")  # 20 columns instead of 21
    problem = f"{defect['file']}:{defect['line']}: expected 21 fields, found 20"
    assert problem in pipeline_run.result.raw["asterisk/cdr"].quarantined_lines
    assert f"quarantined {problem}" in pipeline_run.result.summary()
    lines_in_file = sum(
        1 for line in (pipeline_run.landing / defect["file"]).read_text().splitlines() if line
    )
    bad_lines_in_file = sum(1 for d in pipeline_run.defects if d["file"] == defect["file"])
    loaded, quarantined = conn.execute(
        "select rows_loaded, rows_quarantined from raw._load_files where source_file = %s",
        (defect["file"],),
    ).fetchone()
    assert (loaded, quarantined) == (lines_in_file - bad_lines_in_file, bad_lines_in_file)


REASONS = {  # defect kind -> (raw table, what the quarantine reason says)
    "cdr_wrong_column_count": ("asterisk_cdr", "expected 21 fields, found 20"),
    "cdr_bad_timestamp": ("asterisk_cdr", "is not a valid YYYY-MM-DD HH:MM:SS timestamp"),
    "callrail_invalid_json": ("callrail_calls", "invalid JSON"),
    "callrail_csv_wrong_column_count": ("callrail_calls", "fields as in the header, found 3"),
    "square_invalid_json": ("square_payments", "invalid JSON"),
    "square_wrong_type": ("square_payments", "field 'amount_money_amount'"),
}


def test_every_declared_defect_is_quarantined_where_it_is_and_nothing_else(
    pipeline_run: PipelineRun, conn: psycopg.Connection
):
    rejected = [d for d in pipeline_run.defects if d["expected"].startswith("reject")]
    assert {d["kind"] for d in rejected} == set(REASONS)
    quarantined = {
        (table, file, line): reason
        for table, file, line, reason in conn.execute(
            "select raw_table, source_file, line_number, reason from raw._quarantine"
        ).fetchall()
    }
    assert set(quarantined) == {(REASONS[d["kind"]][0], d["file"], d["line"]) for d in rejected}
    for defect in rejected:
        table, says = REASONS[defect["kind"]]
        assert says in quarantined[(table, defect["file"], defect["line"])], defect


def test_unknown_queue_events_are_kept(pipeline_run: PipelineRun, conn: psycopg.Connection):
    defect = pipeline_run.defect("queue_log_unknown_event")
    assert conn.execute(
        "select event from raw.asterisk_queue_log where _source_file = %s and _line_number = %s",
        (defect["file"], defect["line"]),
    ).fetchone() == ("SPACEWARP",)


def test_a_redelivered_copy_loads_nothing(pipeline_run: PipelineRun, conn: psycopg.Connection):
    copy = pipeline_run.defect("duplicate_file")["file"]
    assert conn.execute(
        "select (select count(*) from raw.square_payments where _source_file = %(f)s), "
        "(select count(*) from raw._load_files where source_file = %(f)s)",
        {"f": copy},
    ).fetchone() == (0, 0)


def test_a_corrected_redelivery_wins_downstream(
    pipeline_run: PipelineRun, conn: psycopg.Connection
):
    corrected = pipeline_run.defect("corrected_redelivery")
    payment_id, cents = re.search(
        r"payment (\S+) corrected to amount (\d+)", corrected["expected"]
    ).groups()
    assert conn.execute(
        "select amount_usd, _source_file from staging.stg_square__payments where payment_id = %s",
        (payment_id,),
    ).fetchall() == [(Decimal(cents) / 100, corrected["file"])]


def test_outcomes_per_location_match_the_answer_key(
    pipeline_run: PipelineRun, conn: psycopg.Connection
):
    with (pipeline_run.out / "answer_key" / "outcomes_by_location.csv").open() as handle:
        expected = {
            (r["location_id"], r["outcome"]): int(r["calls"]) for r in csv.DictReader(handle)
        }
    ours = {
        (location_id, outcome): calls
        for location_id, outcome, calls in conn.execute(
            "select location_id, outcome, count(*) from marts.calls "
            "where direction = 'inbound' group by 1, 2"
        ).fetchall()
    }
    print("\noutcome per location: answer key, marts.calls")
    far = []
    for key in sorted(expected.keys() | ours.keys(), key=str):
        # within 1 % of the outcome's own count, rounded down: exact below 100 calls, so a
        # small outcome cannot be misread wholly (1 % of a location's 1,500 inbound calls
        # would let 15 of its 22 missed calls go elsewhere)
        tolerance = int(0.01 * expected.get(key, 0))
        print(f"  {key[0]!s:<8}{key[1]:<14}{expected.get(key, 0):>6}{ours.get(key, 0):>6}")
        if abs(ours.get(key, 0) - expected.get(key, 0)) > tolerance:
            far.append((key, expected.get(key, 0), ours.get(key, 0)))
    assert not far, far


def test_every_demo_location_has_a_nonzero_answer_rate(
    pipeline_run: PipelineRun, conn: psycopg.Connection
):
    rates = dict(
        conn.execute(
            "select location_id, avg(is_answered::int) filter (where is_answer_rate_eligible) "
            "from marts.calls where direction = 'inbound' group by location_id"
        ).fetchall()
    )
    locations = [row[0] for row in conn.execute("select location_id from marts.locations")]
    assert len(locations) == 4
    for location_id in locations:
        assert 0 < rates[location_id] < 1, location_id


def test_every_inbound_call_has_one_outcome_and_a_location(
    pipeline_run: PipelineRun, conn: psycopg.Connection
):
    unplaced, without_outcome = conn.execute(
        "select count(*) filter (where location_id is null), "
        "count(*) filter (where outcome is null) from marts.calls where direction = 'inbound'"
    ).fetchone()
    assert (unplaced, without_outcome) == (0, 0)


def test_running_again_over_the_same_files_changes_nothing(
    pipeline_run: PipelineRun, conn: psycopg.Connection, monkeypatch
):
    before = snapshot_counts(conn)
    monkeypatch.setenv("CALLSHRINK_KEEP_DBT_RUNS", "1")
    second = run_pipeline(quiet=True)
    assert second.success, second.summary()
    assert snapshot_counts(conn) == before
    # the first run's dbt folder went; the second's, named by its run id, stayed
    target = settings.PROJECT_DIR / "target"
    kept = [path.name for path in target.glob("callshrink_dbt_assets-*")]
    assert len(kept) == 1, kept
    assert kept[0].startswith(f"callshrink_dbt_assets-{second.run_id[:7]}-"), kept
    # every landing file was loaded by the first run, or has the content of one that was
    recorded = dict(conn.execute("select source_file, file_sha256 from raw._load_files"))
    for path in sorted(p for p in pipeline_run.landing.rglob("*") if p.is_file()):
        relative = str(path.relative_to(pipeline_run.landing))
        digest = hashlib.sha256(path.read_bytes()).hexdigest()
        assert recorded.get(relative, digest) == digest
        assert relative in recorded or digest in recorded.values()
    assert {key: (load.rows_loaded, load.rows_quarantined) for key, load in second.raw.items()} == {
        key: (0, 0) for key in pipeline_run.result.raw
    }


def test_no_private_server_starts_when_a_database_url_is_set(pipeline_run: PipelineRun, test_home):
    assert not (test_home / "pgdata").exists()


def test_the_quarantine_command_lists_file_line_and_reason(pipeline_run: PipelineRun):
    env = {**os.environ}
    listed = subprocess.run(
        [tool("callshrink"), "quarantine", "--table", "square_payments"],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    ).stdout
    defect = pipeline_run.defect("square_wrong_type")
    assert (
        f"square_payments  {defect['file']}:{defect['line']}: field 'amount_money_amount'" in listed
    )
    assert "asterisk_cdr" not in listed


def test_validation_results_and_data_docs_are_written(pipeline_run: PipelineRun, test_home):
    folder = test_home / "great_expectations"
    stored = sorted(path.stem for path in folder.glob("*.json"))
    assert stored == sorted(table.identifier for table in RAW_TABLES)
    assert "raw.asterisk_cdr" in (folder / "data_docs" / "index.html").read_text()
