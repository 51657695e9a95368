"""`callshrink quarantine --move`: which rows a FILE:LINE names, and what the move keeps."""

from __future__ import annotations

import pytest

from callshrink.ingest.quarantine import MoveError, _target, move_to_quarantine
from tests.ingestion.test_deliveries import T0, callrail_line, load, write

PAGE = "tracking/callrail/calls.jsonl"


def test_a_target_is_a_landing_path_however_it_is_written(tmp_path, monkeypatch):
    monkeypatch.setenv("CALLSHRINK_LANDING_DIR", str(tmp_path))
    assert _target(f"{PAGE}:3") == (PAGE, 3)
    assert _target(f"./{PAGE}") == (PAGE, None)
    assert _target(f"{tmp_path / PAGE}:12") == (PAGE, 12)
    assert _target("odd:name.jsonl") == ("odd:name.jsonl", None)


def test_a_move_takes_the_line_of_the_delivery_loaded_last(raw_conn, tmp_path, monkeypatch):
    monkeypatch.setenv("CALLSHRINK_LANDING_DIR", str(tmp_path))
    # the same file name delivered twice: the second delivery's line 1 is another record
    write(tmp_path, PAGE, callrail_line("First"), T0)
    load(raw_conn, tmp_path, "callrail", "calls")
    write(tmp_path, PAGE, callrail_line("Second").replace("CAL1", "CAL2"), T0 + 60)
    load(raw_conn, tmp_path, "callrail", "calls")

    done = move_to_quarantine(raw_conn, [f"{PAGE}:1"], "moved by hand: test")

    assert done == [f"{PAGE}:1: 1 row(s) of raw.callrail_calls quarantined"]
    assert raw_conn.execute("select id from raw.callrail_calls").fetchall() == [("CAL1",)]
    (kept,) = raw_conn.execute(
        "select raw_text::jsonb ->> 'customer_name' from raw._quarantine "
        "where reason = 'moved by hand: test'"
    ).fetchone()
    assert kept == "Second"  # the record as delivered, kept whole
    # and its natural key, so incremental staging rebuilds that record
    assert raw_conn.execute(
        "select record_key from raw._quarantine where reason = 'moved by hand: test'"
    ).fetchone() == ({"id": "CAL2"},)
    manifest = raw_conn.execute(
        "select lines_read, rows_loaded, rows_quarantined from raw._load_files "
        "where source_file = %s order by loaded_at",
        (PAGE,),
    ).fetchall()
    assert manifest == [(1, 1, 0), (1, 0, 1)]
    with pytest.raises(MoveError, match=f"line 1 of {PAGE}: no row of raw.callrail_calls"):
        move_to_quarantine(raw_conn, [f"{PAGE}:1"], "again")
