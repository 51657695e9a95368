"""The hostile corpus (tests/ingestion/hostile.py) delivered beside a generated data set and run
through `callshrink run` as a user runs it: the run exits 0, the marts build, every file's
lines are loaded or quarantined, and every record the corpus says is good reaches staging."""

from __future__ import annotations

import json
import os
import subprocess
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest

from callshrink.dbt import tool
from callshrink.generate import generate
from callshrink.ingest import RAW_TABLES
from tests.conftest import own_database
from tests.ingestion.hostile import CALLRAIL, CORPUS, PAYMENTS, PBX_SYSTEMS

DATABASE = "callshrink_hostile_run"


@pytest.fixture
def hostile_url(server_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    yield from own_database(server_url, DATABASE, tmp_path, monkeypatch)


def test_a_run_over_hostile_files_exits_0_and_loses_no_good_record(
    hostile_url: str, tmp_path: Path
):
    out = tmp_path / "data"
    generate(out, locations=2, days=3, seed=5)
    landing = out / "landing"
    for case in CORPUS:
        path = landing / case.path
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(case.data)
    # the corpus's PBXs that declare an encoding, beside the generated ones
    pbx_systems = out / "reference" / "pbx_systems.csv"
    generated = pbx_systems.read_text().splitlines()
    known = {line.split(",")[0] for line in generated}
    extra = [line for line in PBX_SYSTEMS.splitlines()[1:] if line.split(",")[0] not in known]
    pbx_systems.write_text("\n".join([*generated, *extra]) + "\n")

    run = subprocess.run(
        [
            tool("callshrink"),
            "run",
            "-q",
            "--landing",
            str(landing),
            "--reference",
            str(out / "reference"),
            "--summary-json",
            str(tmp_path / "summary.json"),
        ],
        env=dict(os.environ),
        capture_output=True,
        text=True,
        timeout=900,
    )
    output = run.stdout + run.stderr
    assert run.returncode == 0, output
    assert (
        "tracking/callrail/pretty_p1.json: the page is cut short at line 55: 6 complete calls "
        "read, 4 could not be (it announces 10)"
    ) in output

    with psycopg.connect(hostile_url) as conn:
        assert conn.execute("select count(*) from marts.calls").fetchone()[0] > 100
        assert conn.execute("select count(*) from marts.revenue_reconciliation").fetchone()[0]
        # a PBX without a declared encoding that wrote Latin-1 is named, not silently read
        (latin1,) = conn.execute(
            "select sum(lines_decoded_latin1) from raw._load_files "
            "where source_file like 'pbx/pbx_east/%'"
        ).fetchone()
        assert latin1 >= sum(case.latin1 for case in CORPUS if "pbx_east" in case.path) > 0
        assert conn.execute(
            "select latin1_lines from marts.data_health "
            "where pbx_id = 'pbx_east' and location_id is null"
        ).fetchone() == (latin1,)
        manifest = {
            path: (read, loaded, quarantined)
            for path, read, loaded, quarantined in conn.execute(
                "select source_file, lines_read, rows_loaded, rows_quarantined from raw._load_files"
            )
        }
        staged_calls = {
            cid
            for (cid,) in conn.execute("select callrail_call_id from staging.stg_callrail__calls")
        }
        staged_payments = {
            pid for (pid,) in conn.execute("select payment_id from staging.stg_square__payments")
        }
    # the summary a monitor reads: each table's rows as the manifest counts them, and its time
    summary = json.loads((tmp_path / "summary.json").read_text())
    assert summary["success"] is True
    with psycopg.connect(hostile_url) as conn:
        by_table = {"/".join(table.asset_key): (0, 0) for table in RAW_TABLES} | {
            "/".join(next(t.asset_key for t in RAW_TABLES if t.identifier == raw_table)): (
                int(loaded),
                int(quarantined),
            )
            for raw_table, loaded, quarantined in conn.execute(
                "select raw_table, sum(rows_loaded), sum(rows_quarantined) from raw._load_files "
                "group by raw_table"
            )
        }
    assert {
        table: (load["rows_loaded"], load["rows_quarantined"])
        for table, load in summary["raw"].items()
    } == by_table
    assert all(
        load["seconds"] > 0 and load["check_seconds"] > 0 for load in summary["raw"].values()
    )
    assert summary["step_seconds"]["callshrink_dbt_assets"] > 0
    assert summary["peak_memory_mb"] > 50
    assert "time: loading " in output and " s, raw step " in output and " s, dbt build " in output
    for case in CORPUS:
        read, loaded, quarantined = manifest[case.path]
        assert read == loaded + quarantined, case.name
        if case.quarantined is None:
            assert loaded == 0, case.name
            continue
        assert (loaded, quarantined) == (len(case.rows), len(case.quarantined)), case.name
        good_ids = {row[1] for row in case.rows}
        if case.table == CALLRAIL:
            assert good_ids <= staged_calls, (case.name, good_ids - staged_calls)
        if case.table == PAYMENTS:
            assert good_ids <= staged_payments, (case.name, good_ids - staged_payments)
    assert (
        f"NOTICE pbx_east: {latin1:,} lines of its files were not UTF-8 and were read as "
        "Latin-1: set its encoding in pbx_systems to say which it writes"
    ) in output
