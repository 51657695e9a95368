"""`callshrink export finance` as finance runs it, on the session's warehouse: the CSV holds
the answer key's figures to the cent, as exact decimals, its totals tie, and bad input fails
clearly."""

from __future__ import annotations

import csv
import datetime as dt
import os
import re
import subprocess
from collections import defaultdict
from decimal import Decimal
from pathlib import Path

import psycopg
import pytest

from callshrink.dbt import tool
from callshrink.finance import FinanceError, closed_months, parse_month, revenue_months
from tests.answer_key import Key
from tests.conftest import PipelineRun

CENTS = re.compile(r"-?\d+\.\d{2}")
MONEY = ("source_usd", "attributed_usd", "unattributed_usd")


def export(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [tool("callshrink"), "export", "finance", *args],
        env=os.environ.copy(),
        capture_output=True,
        text=True,
        timeout=120,
    )


def _read(path: Path) -> list[dict[str, str]]:
    with path.open(newline="") as handle:
        return list(csv.DictReader(handle))


@pytest.fixture(scope="module")
def month(pipeline_run: PipelineRun, warehouse_url: str) -> str:
    """The session's first month with revenue (its data set spans two)."""
    with psycopg.connect(warehouse_url) as conn:
        (first,) = conn.execute(
            "select to_char(min(revenue_date), 'YYYY-MM') from marts.revenue_attributions"
        ).fetchone()
    return first


def test_daily_export_holds_the_answer_keys_month_and_its_totals_tie(
    pipeline_run: PipelineRun, month, tmp_path
):
    out = tmp_path / "finance.csv"
    result = export("--month", month, "--out", str(out))
    assert result.returncode == 0, result.stderr
    rows = _read(out)
    days = [row for row in rows if row["row_type"] == "day"]
    totals = {row["record_type"]: row for row in rows if row["row_type"] == "total"}
    left_out = [row for row in rows if row["row_type"] == "left_out"]
    assert f"{len(rows)} rows" in result.stdout
    assert set(totals) == {"payment", "refund", "deal"}
    assert len(rows) == len(days) + 3 + len(left_out)

    # each location, local day and record type of the key's records, to the cent
    key = Key(pipeline_run.out)
    expected = key.daily_revenue(month)
    exported = {
        (row["location_id"], row["revenue_date"], row["record_type"]): (
            int(row["source_records"]),
            int(row["attributed_records"]),
            *(Decimal(row[column]) for column in MONEY),
        )
        for row in days
    }
    assert exported == expected
    assert any(location == "" for location, _, _ in exported)  # deals no call placed
    assert [row["record_type"] for row in left_out] == sorted(key.rejected_revenue_lines(month))

    # every amount is written as exact dollars and cents, never a float's rendering
    assert all(
        CENTS.fullmatch(row[column]) for row in [*days, *totals.values()] for column in MONEY
    )
    for record_type, total in totals.items():
        of_type = [figures for cell, figures in expected.items() if cell[2] == record_type]
        for i, column in enumerate(MONEY, start=2):
            assert Decimal(total[column]) == sum(figures[i] for figures in of_type), column
        assert Decimal(total["source_usd"]) == Decimal(total["attributed_usd"]) + Decimal(
            total["unattributed_usd"]
        )
        assert int(total["source_records"]) == sum(figures[0] for figures in of_type)
    assert Decimal(totals["payment"]["source_usd"]) > 0


def test_records_export_lists_every_record_with_its_attribution_and_source(month, conn, tmp_path):
    daily, records = tmp_path / "daily.csv", tmp_path / "records.csv"
    assert export("--month", month, "--out", str(daily)).returncode == 0
    result = export("--month", month, "--out", str(records), "--level", "records")
    assert result.returncode == 0, result.stderr
    rows = _read(records)
    (count,) = conn.execute(
        "select count(*) from marts.revenue_attributions "
        "where to_char(revenue_date, 'YYYY-MM') = %s",
        (month,),
    ).fetchone()
    assert len(rows) == count > 0
    assert len({(row["record_type"], row["record_id"]) for row in rows}) == count
    for row in rows:
        assert CENTS.fullmatch(row["amount_usd"]), row
        assert row["source_file"] and int(row["source_line_number"]) >= 1, row
        attributed = row["is_attributed"] == "true"
        assert attributed == bool(row["call_id"]) == (row["attribution_rule"] != "unattributed")
        if attributed:
            assert row["call_location_id"], row
    # the records add up to the daily export's totals, per record type and attribution
    sums: dict[tuple[str, bool], Decimal] = defaultdict(Decimal)
    for row in rows:
        sums[(row["record_type"], row["is_attributed"] == "true")] += Decimal(row["amount_usd"])
    for total in (row for row in _read(daily) if row["row_type"] == "total"):
        record_type = total["record_type"]
        assert sums[(record_type, True)] == Decimal(total["attributed_usd"]), record_type
        assert sums[(record_type, False)] == Decimal(total["unattributed_usd"]), record_type


def test_the_months_quarantined_payments_are_counted_and_listed(
    pipeline_run: PipelineRun, month, tmp_path
):
    """The session's data has two payment lines the loader keeps out of the month (one cut
    short, one with an amount that is no integer): the tie-out says so beside its totals, and
    the left_out level names each with its file, line and reason."""
    invalid = pipeline_run.defect("square_invalid_json")
    wrong = pipeline_run.defect("square_wrong_type")
    daily = tmp_path / "daily.csv"
    assert export("--month", month, "--out", str(daily)).returncode == 0
    left_out_totals = [row for row in _read(daily) if row["row_type"] == "left_out"]
    assert left_out_totals == [
        {
            "row_type": "left_out",
            "location_id": "",
            "revenue_date": "",
            "record_type": "payment",
            "source_records": "2",
            "attributed_records": "",
            "source_usd": "",  # neither line shows an amount that can be read
            "attributed_usd": "",
            "unattributed_usd": "",
        }
    ]
    listed = tmp_path / "left_out.csv"
    result = export("--month", month, "--out", str(listed), "--level", "left_out")
    assert result.returncode == 0, result.stderr
    rows = _read(listed)
    assert [(r["record_id"], r["source_file"], int(r["line_number"])) for r in rows] == [
        ("DEFECTpayment000000001", invalid["file"], invalid["line"]),
        ("DEFECTpayment000000002", wrong["file"], wrong["line"]),
    ]
    assert all(r["record_type"] == "payment" and r["record_month"] == f"{month}-01" for r in rows)
    reason = rows[1]["reason"]
    assert "'amount_money_amount'" in reason and "is not a valid integer" in reason, reason


def test_closed_months_are_those_whose_close_day_the_data_has_reached(
    pipeline_run: PipelineRun, conn
):
    """A month closes once the newest revenue day is month_close_days (5) past its last day:
    February 2026 (28 days) on 5 March, March on 5 April. The session's newest revenue day is
    5 March, February's close day itself: February is closed, March is not."""
    (newest,) = conn.execute("select max(revenue_date) from marts.revenue_attributions").fetchone()
    assert newest == dt.date(2026, 3, 5)  # the data the expectation below rests on
    assert revenue_months(conn) == ["2026-02", "2026-03"]
    assert closed_months(conn) == ["2026-02"]


@pytest.mark.parametrize(
    ("month_text", "message"),
    [
        ("2026-13", "'2026-13' is not YYYY-MM"),
        ("March 2026", "'March 2026' is not YYYY-MM"),
        ("2019-01", "no revenue in 2019-01 in the warehouse (it holds "),
    ],
)
def test_a_bad_or_empty_month_fails_clearly_and_writes_nothing(
    pipeline_run: PipelineRun, tmp_path, month_text, message
):
    out = tmp_path / "finance.csv"
    result = export("--month", month_text, "--out", str(out))
    assert result.returncode != 0
    assert message in result.stderr
    assert not out.exists()


def test_months_parse_and_end_where_the_calendar_says():
    assert str(parse_month("2026-02")) == "2026-02"
    assert parse_month("2026-02").next_month.isoformat() == "2026-03-01"
    assert parse_month(" 2026-12 ").next_month.isoformat() == "2027-01-01"
    for text in ("2026-2", "2026-00", "26-02", "2026-02-01", ""):
        with pytest.raises(FinanceError, match="is not YYYY-MM"):
            parse_month(text)
