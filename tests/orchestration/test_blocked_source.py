"""A bad source blocks only what reads it, a second run waits for the first, and a corrected
delivery clears the block, and so does moving the bad line into the quarantine (no SQL by
hand).

One database of its own. Generated demo exports, plus one more Square payment file with a
payment whose status Square does not have (it loads, the loader checks types, but it breaks
the payments suite). The first run is started while the test holds the warehouse's build
lock, so it must wait for it; then it builds the call marts and leaves every model that reads
square.payments unbuilt, and fails naming the check. A corrected delivery of that payment
(the same id, a later file) clears it: the second run builds everything. Then another bad
payment, for which no correction will come, blocks again until `callshrink quarantine --move`
puts its line in the quarantine; finance then sees it among the records left out.
"""

from __future__ import annotations

import json
import os
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest

from callshrink.dbt import tool
from callshrink.generate import generate
from orchestration.defs.dbt import BUILD_LOCK
from tests.conftest import own_database

DATABASE = "callshrink_blocked"
BAD_ID = "PAYbadstatus0000000000001"
OTHER_ID = "PAYbadstatus0000000000002"


@pytest.fixture
def blocked_url(server_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    yield from own_database(server_url, DATABASE, tmp_path, monkeypatch)


def _payment(status: str, line_file: Path, payment_id: str = BAD_ID) -> None:
    line_file.parent.mkdir(parents=True, exist_ok=True)
    payment = {
        "id": payment_id,
        "created_at": "2026-02-24T15:00:00Z",
        "updated_at": "2026-02-24T15:00:00Z",
        "amount_money": {"amount": 4200, "currency": "USD"},
        "total_money": {"amount": 4200, "currency": "USD"},
        "status": status,
        "source_type": "CARD",
        "location_id": "LX",
    }
    line_file.write_text(json.dumps(payment) + "\n")


def _run(env: dict[str, str]) -> subprocess.Popen:
    return subprocess.Popen(
        [tool("callshrink"), "run", "-q"],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )


def _finished(env: dict[str, str]) -> tuple[int, str]:
    """A `callshrink run` to its end: exit code and output."""
    run = _run(env)
    output = run.communicate(timeout=900)[0]
    return run.returncode, output


def _quarantine(env: dict[str, str], *args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [tool("callshrink"), "quarantine", *args], env=env, capture_output=True, text=True
    )


def _exists(url: str, relation: str) -> bool:
    with psycopg.connect(url) as conn:
        return conn.execute("select to_regclass(%s) is not null", (relation,)).fetchone()[0]


def test_a_bad_payment_blocks_only_revenue_and_a_correction_clears_it(
    blocked_url: str, tmp_path: Path
):
    out = tmp_path / "data"
    generate(out, locations=3, days=5, seed=9, calls_per_location_day=40.0)
    payments = out / "landing" / "pos" / "square" / "payments"
    _payment("VOIDED", payments / "late_delivery.jsonl")
    env = {
        **os.environ,
        "CALLSHRINK_LANDING_DIR": str(out / "landing"),
        "CALLSHRINK_REFERENCE_DIR": str(out / "reference"),
    }

    with psycopg.connect(blocked_url, autocommit=True) as holder:
        holder.execute("select pg_advisory_lock(%s)", (BUILD_LOCK,))
        first = _run(env)
        waited = False
        for _ in range(600):  # the run loads, checks, then waits for the lock at dbt
            waiting = holder.execute(
                "select count(*) from pg_locks where locktype = 'advisory' and not granted"
                " and database = (select oid from pg_database where datname = current_database())"
            ).fetchone()[0]
            if waiting:
                waited = True
                break
            assert first.poll() is None, first.communicate()[0]
            time.sleep(0.5)
        holder.execute("select pg_advisory_unlock(%s)", (BUILD_LOCK,))
    output = first.communicate(timeout=900)[0]
    assert waited, output
    assert "another run is building this warehouse" in output

    assert first.returncode != 0, output
    assert "square/payments great_expectations" in output
    assert "status='VOIDED'" in output
    assert "square.payments" in output and "keep what they held" in output
    assert _exists(blocked_url, "marts.calls")  # the call marts built
    with psycopg.connect(blocked_url) as conn:
        assert conn.execute("select count(*) from marts.calls").fetchone()[0] > 100
    for model in ("staging.stg_square__payments", "marts.revenue_attributions"):
        assert not _exists(blocked_url, model), model

    # the payment delivered again, corrected, in a later file: the block clears
    _payment("COMPLETED", payments / "late_delivery_corrected.jsonl")
    code, output = _finished(env)
    assert code == 0, output
    with psycopg.connect(blocked_url) as conn:
        assert conn.execute(
            "select count(*) from marts.revenue_attributions where record_id = %s", (BAD_ID,)
        ).fetchone() == (1,)

    # another bad payment, which nobody will correct: moved into the quarantine by hand
    other = payments / "never_corrected.jsonl"
    _payment("VOIDED", other, payment_id=OTHER_ID)
    code, output = _finished(env)
    assert code != 0 and "status='VOIDED'" in output, output
    line = "pos/square/payments/never_corrected.jsonl:1"
    moved = _quarantine(env, "--move", line)
    assert moved.returncode == 1, moved.stderr
    assert "say why with --reason" in moved.stderr  # a line is never moved without a reason
    moved = _quarantine(
        env, "--move", line, "--reason", "voided at the till, Square support ticket 123"
    )
    assert moved.returncode == 0, moved.stderr
    assert "1 row(s) of raw.square_payments quarantined" in moved.stdout
    code, output = _finished(env)
    assert code == 0, output
    with psycopg.connect(blocked_url) as conn:
        assert conn.execute(
            "select count(*) from marts.revenue_attributions where record_id = %s", (OTHER_ID,)
        ).fetchone() == (0,)
        assert conn.execute(
            "select source_file, line_number, reason from marts.revenue_left_out "
            "where record_id = %s",
            (OTHER_ID,),
        ).fetchall() == [
            (
                "pos/square/payments/never_corrected.jsonl",
                1,
                "moved by hand: voided at the till, Square support ticket 123",
            )
        ]
        assert conn.execute(
            "select rows_loaded, rows_quarantined from raw._load_files where source_file = %s",
            ("pos/square/payments/never_corrected.jsonl",),
        ).fetchone() == (0, 1)
