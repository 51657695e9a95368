"""Restatements: a closed month's figures never change silently.

Five weeks of exports (29 January to 6 March) load; with the default month_close_days (5),
January and February are closed (the newest revenue day is past 5 March) and snapshotted, March
is open. Then a late Square payments file lands: a COMPLETED payment dated inside February,
with no customer (so unattributed), and one dated in March. After the next run, the restatement
report shows February's payments at loc_01 as closed and as now, the difference to the cent and
when it was seen; January, unchanged, and March, still open, show nothing. A full refresh
afterwards keeps the snapshot's history.

The test has a database of its own (callshrink_restatements) and points the environment at it
only for its duration.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path

import psycopg
import pytest
from psycopg.rows import dict_row

from callshrink import finance
from callshrink.generate import generate
from callshrink.pipeline import run_pipeline
from tests.conftest import own_database

DATABASE = "callshrink_restatements"
LATE_FEBRUARY_USD = Decimal("123.45")
LATE_MARCH_USD = Decimal("67.89")


@pytest.fixture
def restatements_url(
    server_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Iterator[str]:
    yield from own_database(server_url, DATABASE, tmp_path, monkeypatch)


def _late_payment(payment_id: str, created_at: str, cents: int, square_location: str) -> str:
    """A Square Payment object as the export writes it: COMPLETED, no customer."""
    return json.dumps(
        {
            "id": payment_id,
            "created_at": created_at,
            "updated_at": created_at,
            "amount_money": {"amount": cents, "currency": "USD"},
            "total_money": {"amount": cents, "currency": "USD"},
            "status": "COMPLETED",
            "source_type": "CASH",
            "location_id": square_location,
            "order_id": f"late-order-{payment_id}",
            "receipt_number": payment_id[:4],
        },
        separators=(",", ":"),
    )


def _monthly(conn: psycopg.Connection, month: str) -> dict[tuple, dict]:
    cursor = conn.cursor(row_factory=dict_row)
    rows = cursor.execute(
        "select * from marts.revenue_reconciliation_monthly where revenue_month = %s", (month,)
    ).fetchall()
    return {(row["location_id"], row["record_type"]): row for row in rows}


def _restatements(conn: psycopg.Connection) -> list[dict]:
    cursor = conn.cursor(row_factory=dict_row)
    return cursor.execute(
        "select * from marts.revenue_restatements order by revenue_month, location_id, record_type"
    ).fetchall()


def test_late_revenue_in_a_closed_month_is_a_restatement(
    restatements_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
):
    out = tmp_path / "demo"
    generate(
        out, locations=2, days=37, seed=3, start=dt.date(2026, 1, 29), calls_per_location_day=12
    )
    monkeypatch.setenv("CALLSHRINK_LANDING_DIR", str(out / "landing"))
    monkeypatch.setenv("CALLSHRINK_REFERENCE_DIR", str(out / "reference"))
    conn = psycopg.connect(restatements_url, autocommit=True)

    result = run_pipeline(quiet=True)
    assert result.success, result.summary()
    closed = [
        str(month)
        for (month,) in conn.execute(
            "select distinct revenue_month from snapshots.revenue_month_snapshots order by 1"
        )
    ]
    assert closed == ["2026-01-01", "2026-02-01"]  # March is open
    # the months the app lists as closed are the same: with month_close_days 5, January closes
    # on 5 February and February (ending on the 28th) on 5 March, both reached by revenue to
    # 6 March; March closes on 5 April
    assert finance.closed_months(conn) == ["2026-01", "2026-02"]
    assert finance.revenue_months(conn) == ["2026-01", "2026-02", "2026-03"]
    assert _restatements(conn) == []
    (snapshot_rows,) = conn.execute(
        "select count(*) from snapshots.revenue_month_snapshots"
    ).fetchone()
    # every location (and deals no call placed) x record type of both closed months
    assert snapshot_rows == 2 * 3 * 3
    january_before = _monthly(conn, "2026-01-01")
    february_before = _monthly(conn, "2026-02-01")

    square_location = next(
        line.split(",")[1]
        for line in (out / "reference" / "location_crosswalk.csv").read_text().splitlines()
        if line.startswith("square_location,") and line.endswith(",loc_01")
    )
    late = out / "landing" / "pos" / "square" / "payments" / "payments_late_2026-03-07.jsonl"
    late.write_text(
        _late_payment("LateFebPayment0001", "2026-02-14T17:00:00.000Z", 12345, square_location)
        + "\n"
        + _late_payment("LateMarPayment0001", "2026-03-02T17:00:00.000Z", 6789, square_location)
        + "\n"
    )
    result = run_pipeline(quiet=True)
    assert result.success, result.summary()
    assert result.raw["square/payments"].rows_loaded == 2
    # late revenue inside February and March closes nothing more: the newest day is the same
    assert finance.closed_months(conn) == ["2026-01", "2026-02"]

    restatements = _restatements(conn)
    assert len(restatements) == 1, restatements  # January unchanged, March still open
    row = restatements[0]
    before = february_before[("loc_01", "payment")]
    now = _monthly(conn, "2026-02-01")[("loc_01", "payment")]
    assert (row["location_id"], str(row["revenue_month"]), row["record_type"]) == (
        "loc_01",
        "2026-02-01",
        "payment",
    )
    assert row["closed_source_usd"] == before["source_usd"]
    assert row["current_source_usd"] == before["source_usd"] + LATE_FEBRUARY_USD
    assert row["current_source_usd"] == now["source_usd"]
    assert row["source_usd_change"] == LATE_FEBRUARY_USD
    assert row["closed_unattributed_usd"] == before["unattributed_usd"]
    assert row["unattributed_usd_change"] == LATE_FEBRUARY_USD
    assert row["closed_attributed_usd"] == row["current_attributed_usd"]
    assert row["attributed_usd_change"] == 0
    assert row["current_source_records"] == row["closed_source_records"] + 1
    assert row["restatements"] == 1
    assert row["restated_at"] > row["closed_at"]
    assert _monthly(conn, "2026-01-01") == january_before

    # a full refresh rebuilds the models, never the snapshot: the history stays
    (history_before,) = conn.execute(
        "select count(*) from snapshots.revenue_month_snapshots"
    ).fetchone()
    assert history_before == snapshot_rows + 1
    result = run_pipeline(quiet=True, full_refresh=True)
    assert result.success, result.summary()
    (history_after,) = conn.execute(
        "select count(*) from snapshots.revenue_month_snapshots"
    ).fetchone()
    assert history_after == history_before
    assert _restatements(conn) == restatements
    conn.close()
