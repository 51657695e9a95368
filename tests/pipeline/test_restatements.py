"""Restatements: a closed month's figures never change silently.

Five weeks of exports (29 January to 6 March) load; with the default month_close_days (5),
January and February are closed (the newest revenue day is past 5 March) and snapshotted, March
is open. Besides the generated exports, the first delivery holds a few records written here,
each in a location x month x record type of its own, so that each late change below is one row
of the restatement report:

    late change (second delivery)               key                   source  attrib.  unattr.  recs
 1. new COMPLETED payment, 14 Feb, no customer  loc_01 Feb payment   +123.45        0  +123.45    +1
 2. payment of 50.00 re-delivered (newer        loc_02 Feb payment    +12.50        0   +12.50     0
    updated_at) as 62.50
 3. COMPLETED payment of 75.25 re-delivered     loc_01 Jan payment    -75.25        0   -75.25    -1
    as FAILED
 4. deal of 250.00 attributed to a call moved   loc_02 Jan deal      -250.00  -250.00        0    -1
    out of closed-won
 5. the Square customer of a 42.10 payment      loc_02 Jan payment         0   +42.10   -42.10     0
    arrives late; its phone reaches a call
 6. deal of 310.00 no call placed, close date   unplaced Feb deal    -310.00        0  -310.00    -1
    moved from 20 Feb to 3 Mar (open)
 7. deal of 64.50 no call placed, close date    unplaced Jan deal     +64.50        0   +64.50    +1
    moved from 2 Mar (open) to 30 Jan

A payment dated in March lands too. March is open, so neither it nor the deal moved into March
makes a row; January and February keep every other figure. The figures as closed are the
generator's answer key (answer_key/attributions.csv, computed apart from the models) plus the
records written here; the figures now are those plus the changes above, worked out by hand.

A third delivery brings a CallRail call of 19 February, an hour before a 33.33 payment at loc_02
whose customer has the caller's number: the payment becomes attributable. It is loaded by
`callshrink run --full-refresh` (as after an upgrade), which rebuilds every model from scratch;
that run restates loc_02's February payments a second time (2 above, then attributed +33.33,
unattributed -33.33), and keeps every other row and the snapshot's history.

The module has a database of its own (callshrink_restatements), built once, and points the
environment at it only for its duration.
"""

from __future__ import annotations

import csv
import datetime as dt
import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path

import psycopg
import pytest
from psycopg.rows import dict_row

from callshrink import finance
from callshrink.generate import generate
from callshrink.pipeline import PipelineResult, run_pipeline
from tests.conftest import own_database

DATABASE = "callshrink_restatements"
JANUARY, FEBRUARY, MARCH = "2026-01-01", "2026-02-01", "2026-03-01"

# A caller no generated record uses (the generator's numbers are 617/312 numbers): the answered
# call written here, the HubSpot contact of the deal lost late and the Square customer that
# arrives late all have it.
CALLER = "+17735550142"
# The caller of the call delivered last (the third delivery) and of a February payment's customer.
LATE_CALLER = "+17735550143"


@dataclass(frozen=True)
class Change:
    """One late change to a closed month, as the report must show it (dollars as strings)."""

    location_id: str | None
    month: str
    record_type: str
    source_usd: str
    attributed_usd: str
    unattributed_usd: str
    source_records: int


# the second run's changes
ADDED_PAYMENT = Change("loc_01", FEBRUARY, "payment", "123.45", "0", "123.45", 1)
CHANGED_AMOUNT = Change("loc_02", FEBRUARY, "payment", "12.50", "0", "12.50", 0)
PAYMENT_FAILED = Change("loc_01", JANUARY, "payment", "-75.25", "0", "-75.25", -1)
DEAL_LOST = Change("loc_02", JANUARY, "deal", "-250.00", "-250.00", "0", -1)
NOW_ATTRIBUTED = Change("loc_02", JANUARY, "payment", "0", "42.10", "-42.10", 0)
DEAL_MOVED_OUT = Change(None, FEBRUARY, "deal", "-310.00", "0", "-310.00", -1)
DEAL_MOVED_IN = Change(None, JANUARY, "deal", "64.50", "0", "64.50", 1)
CHANGES = (
    ADDED_PAYMENT,
    CHANGED_AMOUNT,
    PAYMENT_FAILED,
    DEAL_LOST,
    NOW_ATTRIBUTED,
    DEAL_MOVED_OUT,
    DEAL_MOVED_IN,
)
# the full refresh's: the second change of loc_02's February payments since they closed
CHANGED_AMOUNT_THEN_CALLED = Change("loc_02", FEBRUARY, "payment", "12.50", "33.33", "-20.83", 0)


# --- the records written here, in the vendors' formats (docs/sources.md) ---


def _json_lines(*objects: dict) -> str:
    return "".join(json.dumps(obj, separators=(",", ":")) + "\n" for obj in objects)


def _payment(
    payment_id: str,
    created_at: str,
    cents: int,
    square_location: str,
    *,
    status: str = "COMPLETED",
    updated_at: str | None = None,
    customer_id: str | None = None,
) -> dict:
    """A Square Payment object as the export writes it (no customer unless given)."""
    payment = {
        "id": payment_id,
        "created_at": created_at,
        "updated_at": updated_at or created_at,
        "amount_money": {"amount": cents, "currency": "USD"},
        "total_money": {"amount": cents, "currency": "USD"},
        "status": status,
        "source_type": "CASH",
        "location_id": square_location,
        "order_id": f"late-order-{payment_id}",
        "receipt_number": payment_id[:4],
    }
    if customer_id:
        payment["customer_id"] = customer_id
    return payment


def _deal(
    deal_id: str,
    amount: str,
    closedate: str,
    updated_at: str,
    *,
    won: bool = True,
    contact_id: str | None = None,
) -> dict:
    """A HubSpot CRM v3 deal; without a contact no call can place it."""
    deal = {
        "id": deal_id,
        "properties": {
            "dealname": f"Restatement {deal_id}",
            "dealstage": "closedwon" if won else "closedlost",
            "pipeline": "default",
            "amount": amount,
            "closedate": closedate,
            "createdate": "2026-01-20T10:00:00Z",
            "hs_is_closed_won": "true" if won else "false",
        },
        "createdAt": "2026-01-20T10:00:00Z",
        "updatedAt": updated_at,
        "archived": False,
    }
    if contact_id:
        deal["associations"] = {
            "contacts": {"results": [{"id": contact_id, "type": "deal_to_contact"}]}
        }
    return deal


def _crosswalk(reference: Path, system: str, location_id: str) -> str:
    return next(
        line.split(",")[1]
        for line in (reference / "location_crosswalk.csv").read_text().splitlines()
        if line.startswith(f"{system},") and line.endswith(f",{location_id}")
    )


def _answered_call(call_id: str, start_time: str, caller: str, reference: Path) -> dict:
    """An answered inbound CallRail call at loc_02, seen by CallRail only: no PBX call has its
    caller, so CallRail's answered flag decides its outcome."""
    return {
        "id": call_id,
        "start_time": start_time,
        "direction": "inbound",
        "answered": True,
        "voicemail": False,
        "call_type": "answered",
        "duration": 240,
        "customer_phone_number": caller,
        "tracking_phone_number": _crosswalk(reference, "callrail_tracking_number", "loc_02"),
        "company_id": _crosswalk(reference, "callrail_company", "loc_02"),
        "source": "Direct",
        "tags": [],
    }


def _first_delivery(landing: Path, reference: Path) -> None:
    """The records the late changes will change, delivered with the generated exports."""
    loc_01 = _crosswalk(reference, "square_location", "loc_01")
    loc_02 = _crosswalk(reference, "square_location", "loc_02")
    (landing / "pos" / "square" / "payments" / "payments_restatements.jsonl").write_text(
        _json_lines(
            _payment("RestateAmount0001", "2026-02-18T16:00:00.000Z", 5000, loc_02),
            _payment("RestateStatus0001", "2026-01-30T16:00:00.000Z", 7525, loc_01),
            # 15:00 in Chicago on Friday 30 January, an hour after the call below; its
            # customer is not delivered yet, so it has no phone and is unattributed
            _payment(
                "RestateAttrib0001",
                "2026-01-30T21:00:00.000Z",
                4210,
                loc_02,
                customer_id="RESTATECUSTOMER01",
            ),
            # 11:00 in Chicago on Thursday 19 February; its customer's number makes no call
            # until the third delivery
            _payment(
                "RestateCalled0001",
                "2026-02-19T17:00:00.000Z",
                3333,
                loc_02,
                customer_id="RESTATECUSTOMER02",
            ),
        )
    )
    (landing / "pos" / "square" / "customers" / "customers_restatements.jsonl").write_text(
        _json_lines(
            {
                "id": "RESTATECUSTOMER02",
                "created_at": "2026-02-19T17:00:00.000Z",
                "updated_at": "2026-02-19T17:00:00.000Z",
                "given_name": "Lena",
                "family_name": "Tardy",
                "phone_number": "773-555-0143",
            }
        )
    )
    # an answered inbound call at loc_02 (Friday 30 January, 14:00 in Chicago, open hours)
    (landing / "tracking" / "callrail" / "calls_restatements.jsonl").write_text(
        _json_lines(
            _answered_call("CALrestatement0001", "2026-01-30T14:00:00.000-06:00", CALLER, reference)
        )
    )
    (landing / "crm" / "hubspot" / "contacts" / "contacts_restatements.jsonl").write_text(
        _json_lines(
            {
                "id": "900000001",
                "properties": {"firstname": "Rita", "lastname": "Statement", "phone": CALLER},
                "createdAt": "2026-01-20T10:00:00Z",
                "updatedAt": "2026-01-20T10:00:00Z",
                "archived": False,
            }
        )
    )
    (landing / "crm" / "hubspot" / "deals" / "deals_restatements.jsonl").write_text(
        _json_lines(
            # 10:00 in Chicago on 31 January, the day after the call: placed at loc_02
            _deal(
                "900000001",
                "250.00",
                "2026-01-31T16:00:00Z",
                "2026-01-31T16:00:05Z",
                contact_id="900000001",
            ),
            _deal("900000002", "310.00", "2026-02-20T17:00:00Z", "2026-02-20T17:00:05Z"),
            _deal("900000003", "64.50", "2026-03-02T17:00:00Z", "2026-03-02T17:00:05Z"),
        )
    )


def _late_delivery(landing: Path, reference: Path) -> None:
    """The second delivery: every change of the table in the module's docstring."""
    loc_01 = _crosswalk(reference, "square_location", "loc_01")
    loc_02 = _crosswalk(reference, "square_location", "loc_02")
    newer = "2026-03-07T09:00:00.000Z"
    (landing / "pos" / "square" / "payments" / "payments_late_2026-03-07.jsonl").write_text(
        _json_lines(
            _payment("LateFebPayment0001", "2026-02-14T17:00:00.000Z", 12345, loc_01),
            _payment("LateMarPayment0001", "2026-03-02T17:00:00.000Z", 6789, loc_01),
            _payment(
                "RestateAmount0001", "2026-02-18T16:00:00.000Z", 6250, loc_02, updated_at=newer
            ),
            _payment(
                "RestateStatus0001",
                "2026-01-30T16:00:00.000Z",
                7525,
                loc_01,
                status="FAILED",
                updated_at=newer,
            ),
        )
    )
    (landing / "pos" / "square" / "customers" / "customers_late_2026-03-07.jsonl").write_text(
        _json_lines(
            {
                "id": "RESTATECUSTOMER01",
                "created_at": "2026-01-30T21:00:00.000Z",
                "updated_at": newer,
                "given_name": "Rita",
                "family_name": "Statement",
                "phone_number": "(773) 555-0142",
            }
        )
    )
    (landing / "crm" / "hubspot" / "deals" / "deals_late_2026-03-07.jsonl").write_text(
        _json_lines(
            _deal(
                "900000001",
                "250.00",
                "2026-01-31T16:00:00Z",
                "2026-03-07T09:00:00Z",
                won=False,
                contact_id="900000001",
            ),
            _deal("900000002", "310.00", "2026-03-03T17:00:00Z", "2026-03-07T09:00:00Z"),
            _deal("900000003", "64.50", "2026-01-30T17:00:00Z", "2026-03-07T09:00:00Z"),
        )
    )


def _third_delivery(landing: Path, reference: Path) -> None:
    """A call of Thursday 19 February (10:00 in Chicago), an hour before RestateCalled0001."""
    (landing / "tracking" / "callrail" / "calls_late_2026-03-08.jsonl").write_text(
        _json_lines(
            _answered_call(
                "CALrestatement0002", "2026-02-19T10:00:00.000-06:00", LATE_CALLER, reference
            )
        )
    )


# --- the figures expected, from the answer key and the records above ---


@dataclass
class Figures:
    source_records: int = 0
    attributed_records: int = 0
    source_usd: Decimal = Decimal("0")
    attributed_usd: Decimal = Decimal("0")
    unattributed_usd: Decimal = Decimal("0")

    def add(self, usd: str, *, attributed: bool, records: int = 1) -> None:
        amount = Decimal(usd)
        self.source_records += records
        self.source_usd += amount
        if attributed:
            self.attributed_records += records
            self.attributed_usd += amount
        else:
            self.unattributed_usd += amount


Key = tuple[str | None, str, str]  # location (None: no call placed it), month, record type


def _answer_key(out: Path) -> dict[Key, Figures]:
    """The generated revenue per location x local month x record type, from the answer key."""
    figures: dict[Key, Figures] = {}
    with (out / "answer_key" / "attributions.csv").open(newline="") as handle:
        for row in csv.DictReader(handle):
            location = None if row["location_id"] == "unknown" else row["location_id"]
            key = (location, row["date"][:7] + "-01", row["record_type"])
            figures.setdefault(key, Figures()).add(
                row["amount_usd"], attributed=row["rule"] != "unattributed"
            )
    return figures


def _as_closed(out: Path) -> dict[Key, Figures]:
    """The answer key plus the first delivery written here, by hand."""
    figures = _answer_key(out)

    def add(key: Key, usd: str, attributed: bool) -> None:
        figures.setdefault(key, Figures()).add(usd, attributed=attributed)

    add(("loc_02", FEBRUARY, "payment"), "50.00", False)  # RestateAmount0001
    add(("loc_02", FEBRUARY, "payment"), "33.33", False)  # RestateCalled0001, no call yet
    add(("loc_01", JANUARY, "payment"), "75.25", False)  # RestateStatus0001
    add(("loc_02", JANUARY, "payment"), "42.10", False)  # RestateAttrib0001, no phone yet
    add(("loc_02", JANUARY, "deal"), "250.00", True)  # deal 900000001, to the call
    add((None, FEBRUARY, "deal"), "310.00", False)  # deal 900000002
    add((None, MARCH, "deal"), "64.50", False)  # deal 900000003 (open month)
    return figures


# --- the warehouse, built once ---


@dataclass
class Restated:
    """What the module's tests read: the warehouse after each of its three runs."""

    closed: dict[Key, Figures] = field(default_factory=dict)  # expected, as closed
    first_run: PipelineResult | None = None
    monthly_closed: dict[Key, dict] = field(default_factory=dict)
    closed_months_first: list[str] = field(default_factory=list)
    revenue_months_first: list[str] = field(default_factory=list)
    snapshot_months_first: list[str] = field(default_factory=list)
    snapshot_rows_first: int = 0
    report_first: list[dict] = field(default_factory=list)
    late_run: PipelineResult | None = None
    closed_months_late: list[str] = field(default_factory=list)
    report_rows: list[dict] = field(default_factory=list)
    report: dict[Key, dict] = field(default_factory=dict)
    monthly_now: dict[Key, dict] = field(default_factory=dict)
    history_late: int = 0
    refresh_run: PipelineResult | None = None
    history_after_refresh: int = 0
    report_after_refresh: list[dict] = field(default_factory=list)
    monthly_after_refresh: dict[Key, dict] = field(default_factory=dict)


def _key(row: dict) -> Key:
    return (row["location_id"], str(row["revenue_month"]), row["record_type"])


def _monthly(conn: psycopg.Connection) -> dict[Key, dict]:
    cursor = conn.cursor(row_factory=dict_row)
    rows = cursor.execute("select * from marts.revenue_reconciliation_monthly").fetchall()
    return {_key(row): row for row in rows}


def _restatements(conn: psycopg.Connection) -> list[dict]:
    cursor = conn.cursor(row_factory=dict_row)
    return cursor.execute(
        "select * from marts.revenue_restatements order by revenue_month, location_id, record_type"
    ).fetchall()


def _snapshot_rows(conn: psycopg.Connection) -> int:
    (count,) = conn.execute("select count(*) from snapshots.revenue_month_snapshots").fetchone()
    return count


@pytest.fixture(scope="module")
def restated(server_url: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Restated]:
    tmp = tmp_path_factory.mktemp(DATABASE)
    with pytest.MonkeyPatch.context() as patch:
        for url in own_database(server_url, DATABASE, tmp, patch):
            out = tmp / "demo"
            generate(
                out,
                locations=2,
                days=37,
                seed=3,
                start=dt.date(2026, 1, 29),
                calls_per_location_day=12,
            )
            landing, reference = out / "landing", out / "reference"
            patch.setenv("CALLSHRINK_LANDING_DIR", str(landing))
            patch.setenv("CALLSHRINK_REFERENCE_DIR", str(reference))
            _first_delivery(landing, reference)
            state = Restated(closed=_as_closed(out))
            with psycopg.connect(url, autocommit=True) as conn:
                state.first_run = run_pipeline(quiet=True)
                assert state.first_run.success, state.first_run.summary()
                state.monthly_closed = _monthly(conn)
                state.closed_months_first = finance.closed_months(conn)
                state.revenue_months_first = finance.revenue_months(conn)
                state.snapshot_months_first = [
                    str(month)
                    for (month,) in conn.execute(
                        "select distinct revenue_month"
                        " from snapshots.revenue_month_snapshots order by 1"
                    )
                ]
                state.snapshot_rows_first = _snapshot_rows(conn)
                state.report_first = _restatements(conn)

                _late_delivery(landing, reference)
                state.late_run = run_pipeline(quiet=True)
                assert state.late_run.success, state.late_run.summary()
                state.closed_months_late = finance.closed_months(conn)
                state.report_rows = _restatements(conn)
                state.report = {_key(row): row for row in state.report_rows}
                state.monthly_now = _monthly(conn)
                state.history_late = _snapshot_rows(conn)

                # an old call, loaded by a full refresh, which must keep the history
                _third_delivery(landing, reference)
                state.refresh_run = run_pipeline(quiet=True, full_refresh=True)
                assert state.refresh_run.success, state.refresh_run.summary()
                state.history_after_refresh = _snapshot_rows(conn)
                state.report_after_refresh = _restatements(conn)
                state.monthly_after_refresh = _monthly(conn)
            yield state


# --- the tests ---


def test_january_and_february_close_and_march_stays_open(restated: Restated):
    # with month_close_days 5, January closes on 5 February and February (ending on the 28th)
    # on 5 March, both reached by revenue to 6 March; March closes on 5 April
    assert restated.snapshot_months_first == [JANUARY, FEBRUARY]
    assert restated.closed_months_first == ["2026-01", "2026-02"]
    assert restated.revenue_months_first == ["2026-01", "2026-02", "2026-03"]
    # every location (and deals no call placed) x record type of both closed months
    assert restated.snapshot_rows_first == 2 * 3 * 3
    # nothing changed after closing yet
    assert restated.report_first == []
    # late revenue inside February and March closes nothing more: the newest day is the same
    assert restated.closed_months_late == ["2026-01", "2026-02"]


def test_the_months_closed_with_the_answer_keys_figures(restated: Restated):
    """The starting point of every change: each closed month as the warehouse closed it is
    the answer key plus the records written here."""
    for (location, month, record_type), row in restated.monthly_closed.items():
        if month == MARCH:
            continue
        expected = restated.closed.get((location, month, record_type), Figures())
        assert (
            row["source_records"],
            row["attributed_records"],
            row["source_usd"],
            row["attributed_usd"],
            row["unattributed_usd"],
        ) == (
            expected.source_records,
            expected.attributed_records,
            expected.source_usd,
            expected.attributed_usd,
            expected.unattributed_usd,
        ), (location, month, record_type)
    closed_keys = {key for key in restated.closed if key[1] != MARCH}
    assert closed_keys <= set(restated.monthly_closed)


def test_every_record_written_here_loaded(restated: Restated):
    for run in (restated.first_run, restated.late_run, restated.refresh_run):
        assert all(load.rows_quarantined == 0 for load in run.raw.values()), run.summary()
    loads = restated.late_run.raw
    assert loads["square/payments"].rows_loaded == 4
    assert loads["square/customers"].rows_loaded == 1
    assert loads["hubspot/deals"].rows_loaded == 3


def test_each_change_is_one_row_and_nothing_else_is(restated: Restated):
    expected = {(c.location_id, c.month, c.record_type) for c in CHANGES}
    assert set(restated.report) == expected
    assert len(restated.report_rows) == len(CHANGES)
    # every change was seen by the same (second) run, once
    assert {row["restatements"] for row in restated.report_rows} == {1}
    assert len({row["restated_at"] for row in restated.report_rows}) == 1
    assert all(row["restated_at"] > row["closed_at"] for row in restated.report_rows)


def _assert_row(
    restated: Restated,
    change: Change,
    report: list[dict] | None = None,
    monthly: dict[Key, dict] | None = None,
) -> dict:
    """The report's row of the change's key (after the second run, unless given another report
    and the tie-out of the same run): as closed, now, and the differences."""
    report = restated.report_rows if report is None else report
    monthly = restated.monthly_now if monthly is None else monthly
    key = (change.location_id, change.month, change.record_type)
    row = next((row for row in report if _key(row) == key), None)
    assert row is not None, f"no restatement row for {key}: {report}"
    closed = restated.closed.get(key, Figures())
    source_change = Decimal(change.source_usd)
    attributed_change = Decimal(change.attributed_usd)
    unattributed_change = Decimal(change.unattributed_usd)
    assert source_change == attributed_change + unattributed_change  # the change ties out
    assert (row["closed_source_records"], row["current_source_records"]) == (
        closed.source_records,
        closed.source_records + change.source_records,
    )
    assert (row["closed_source_usd"], row["current_source_usd"], row["source_usd_change"]) == (
        closed.source_usd,
        closed.source_usd + source_change,
        source_change,
    )
    assert (
        row["closed_attributed_usd"],
        row["current_attributed_usd"],
        row["attributed_usd_change"],
    ) == (closed.attributed_usd, closed.attributed_usd + attributed_change, attributed_change)
    assert (
        row["closed_unattributed_usd"],
        row["current_unattributed_usd"],
        row["unattributed_usd_change"],
    ) == (
        closed.unattributed_usd,
        closed.unattributed_usd + unattributed_change,
        unattributed_change,
    )
    # the report's figures now are the month's tie-out now
    now = monthly[key]
    assert (now["source_usd"], now["attributed_usd"], now["unattributed_usd"]) == (
        row["current_source_usd"],
        row["current_attributed_usd"],
        row["current_unattributed_usd"],
    )
    return row


def test_a_payment_added_late(restated: Restated):
    _assert_row(restated, ADDED_PAYMENT)


def test_a_payment_redelivered_with_another_amount(restated: Restated):
    _assert_row(restated, CHANGED_AMOUNT)


def test_a_completed_payment_redelivered_as_failed(restated: Restated):
    _assert_row(restated, PAYMENT_FAILED)


def test_a_deal_moved_out_of_closed_won(restated: Restated):
    _assert_row(restated, DEAL_LOST)


def test_a_change_of_attribution_alone(restated: Restated):
    _assert_row(restated, NOW_ATTRIBUTED)
    row = restated.report[("loc_02", JANUARY, "payment")]
    # the month's revenue is the same; only its split moved
    assert row["closed_source_usd"] == row["current_source_usd"]
    assert row["closed_source_records"] == row["current_source_records"]
    now = restated.monthly_now[("loc_02", JANUARY, "payment")]
    closed = restated.closed[("loc_02", JANUARY, "payment")]
    assert now["attributed_records"] == closed.attributed_records + 1


def test_a_deal_moved_from_a_closed_month_into_the_open_one(restated: Restated):
    _assert_row(restated, DEAL_MOVED_OUT)
    # it counts in March now, which is open: no row, but March's deals grew by it (and lost
    # the deal that moved to January)
    assert not [key for key in restated.report if key[1] == MARCH]
    march = restated.closed.get((None, MARCH, "deal"), Figures())
    now = restated.monthly_now[(None, MARCH, "deal")]
    assert (now["source_records"], now["source_usd"]) == (
        march.source_records,
        march.source_usd + Decimal("310.00") - Decimal("64.50"),
    )


def test_a_deal_moved_from_the_open_month_into_a_closed_one(restated: Restated):
    _assert_row(restated, DEAL_MOVED_IN)
    # no deal no call placed had closed in January: the month closed at zero
    row = restated.report[(None, JANUARY, "deal")]
    assert (row["closed_source_records"], row["closed_source_usd"]) == (0, Decimal("0"))


def test_a_full_refresh_keeps_the_history_and_the_report(restated: Restated):
    # one new version per changed key since the first snapshot, and one more for the call
    assert restated.history_late == restated.snapshot_rows_first + len(CHANGES)
    assert restated.history_after_refresh == restated.history_late + 1
    changed = (CHANGED_AMOUNT.location_id, CHANGED_AMOUNT.month, CHANGED_AMOUNT.record_type)
    assert [row for row in restated.report_after_refresh if _key(row) != changed] == [
        row for row in restated.report_rows if _key(row) != changed
    ]


def test_a_late_call_makes_a_closed_payment_attributable(restated: Restated):
    """The call of the third delivery, loaded by the full refresh: loc_02's February payments
    change a second time, their attribution alone (on top of the second run's 12.50)."""
    assert restated.refresh_run.raw["callrail/calls"].rows_loaded == 1
    assert restated.refresh_run.raw["callrail/calls"].rows_quarantined == 0
    row = _assert_row(
        restated,
        CHANGED_AMOUNT_THEN_CALLED,
        restated.report_after_refresh,
        restated.monthly_after_refresh,
    )
    before = restated.report[("loc_02", FEBRUARY, "payment")]
    assert row["restatements"] == 2
    assert row["closed_at"] == before["closed_at"]
    assert row["restated_at"] > before["restated_at"]
    closed = restated.closed[("loc_02", FEBRUARY, "payment")]
    now = restated.monthly_after_refresh[("loc_02", FEBRUARY, "payment")]
    assert now["attributed_records"] == closed.attributed_records + 1
