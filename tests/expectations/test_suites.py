"""The raw-table suites on a real Postgres: good rows pass, bad rows are named by file and line."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from callshrink.ingest import RAW_TABLES
from expectations.runner import (
    SUITES,
    FailedExpectation,
    RawValidation,
    _mentioned_columns,
    build_docs_index,
    validate_raw_table,
)

CDR = "pbx/pbx1/cdr/Master.csv"
PAYMENTS = "pos/square/payments/2024-01.jsonl"


def cdr(**overrides: str | None) -> dict[str, str | None]:
    row: dict[str, str | None] = {
        "pbx_id": "pbx1",
        "src": "5550102345",
        "dst": "100",
        "channel": "SIP/trunk-0001",
        "lastapp": "Dial",
        "start": "2024-03-01 09:00:00",
        "answer": "2024-03-01 09:00:05",
        "cdr_end": "2024-03-01 09:01:05",
        "duration": "65",
        "billsec": "60",
        "disposition": "ANSWERED",
        "uniqueid": "1709283600.1",
        "linkedid": "1709283600.1",
        "sequence": "1",
    }
    return row | overrides


def payment(**overrides: str | None) -> dict[str, str | None]:
    row: dict[str, str | None] = {
        "id": "pay_1",
        "created_at": "2024-03-01T09:30:00Z",
        "updated_at": "2024-03-01T09:31:00.123Z",
        "amount_money_amount": "12500",
        "amount_money_currency": "USD",
        "tip_money_amount": "500",
        "tip_money_currency": "USD",
        "total_money_amount": "13000",
        "total_money_currency": "USD",
        "refunded_money_amount": None,
        "refunded_money_currency": None,
        "status": "COMPLETED",
        "location_id": "L1",
        "customer_id": "C1",
    }
    return row | overrides


GOOD_ROWS: dict[str, list[dict[str, Any]]] = {
    "callrail_calls": [
        {
            "id": "CAL1",
            "start_time": "2024-03-01T09:00:00.000-05:00",
            "direction": "inbound",
            "answered": "true",
            "call_type": "answered",
            "duration": "65",
            "customer_phone_number": "+15550102345",
            "company_id": "COM1",
        },
        {
            "id": "CAL2",
            "start_time": "2024-03-01T10:00:00-05:00",
            "direction": "outbound",
            "call_type": "outbound",
            "duration": None,
            "customer_phone_number": None,  # outbound: no caller phone needed
            "company_id": "COM1",
        },
    ],
    "asterisk_cdr": [
        cdr(),
        cdr(answer=None, billsec="0", disposition="NO ANSWER", uniqueid="1709283600.2"),
    ],
    "asterisk_queue_log": [
        {
            "pbx_id": "pbx1",
            "epoch": "1709283600",
            "callid": "1709283600.1",
            "queuename": "sales",
            "agent": "NONE",
            "event": "ENTERQUEUE",
            "data1": "",
            "data2": "5550102345",
            "data3": "1",
        },
        {
            "pbx_id": "pbx1",
            "epoch": "1709283610",
            "callid": "1709283600.1",
            "queuename": "sales",
            "agent": "SIP/100",
            "event": "CONNECT",
            "data1": "10",
            "data2": "1709283600.2",
        },
    ],
    "square_payments": [
        payment(),
        payment(
            id="pay_2", status="CANCELED", refunded_money_amount="0", refunded_money_currency="USD"
        ),
    ],
    "square_refunds": [
        {
            "id": "ref_1",
            "payment_id": "pay_1",
            "amount_money_amount": "500",
            "amount_money_currency": "USD",
            "status": "COMPLETED",
            "location_id": "L1",
            "created_at": "2024-03-02T10:00:00+00:00",
        },
    ],
    "square_customers": [
        {
            "id": "C1",
            "given_name": "Ada",
            "phone_number": "(555) 010-2345 ext. 4",
            "email_address": "ada@example.com",
            "created_at": "2024-01-01T00:00:00Z",
        },
        {"id": "C2", "phone_number": None, "email_address": None, "created_at": None},
    ],
    "hubspot_contacts": [
        {
            "id": "101",
            "phone": "555.010.2345",
            "created_at": "2024-01-01T00:00:00.000Z",
            "updated_at": "2024-02-01T00:00:00.000Z",
            "archived": "false",
        },
    ],
    "hubspot_deals": [
        {
            "id": "901",
            "dealname": "Spring tune-up",
            "amount": "1250.50",
            "closedate": "2024-03-05T00:00:00Z",
            "hs_is_closed_won": "true",
            "updated_at": "2024-03-05T12:00:00.000Z",
        },
        {"id": "902", "amount": None, "updated_at": "2024-03-05T12:00:00.000Z"},
    ],
}


def only(validation: RawValidation, expectation_type: str, column: str) -> FailedExpectation:
    matching = [
        f
        for f in validation.failed
        if f.expectation_type == expectation_type and f.column == column
    ]
    assert len(matching) == 1, validation.describe()
    return matching[0]


def lines(failure: FailedExpectation) -> list[tuple[str | None, int | None]]:
    return sorted((row.source_file, row.line_number) for row in failure.sample_rows)


# --- the suites as code (no database) -----------------------------------------------------


def test_there_is_one_suite_per_raw_table_named_for_it() -> None:
    assert set(SUITES) == {table.identifier for table in RAW_TABLES}
    for identifier, build in SUITES.items():
        assert build().name == f"raw.{identifier}"


@pytest.mark.parametrize("table", RAW_TABLES, ids=lambda t: t.identifier)
def test_suites_only_name_columns_of_their_table(table) -> None:
    columns = set(table.columns)
    for expectation in SUITES[table.identifier]().expectations:
        kwargs = expectation.configuration.kwargs
        named = [kwargs[k] for k in ("column", "column_A", "column_B") if k in kwargs]
        named += (expectation.meta or {}).get("columns", [])
        assert named, f"{expectation.expectation_type} names no column"
        assert set(named) <= columns, f"{table.identifier}: {set(named) - columns}"


@pytest.mark.parametrize("table", RAW_TABLES, ids=lambda t: t.identifier)
def test_every_required_field_is_expected_present(table) -> None:
    not_null = {
        e.configuration.kwargs["column"]
        for e in SUITES[table.identifier]().expectations
        if e.expectation_type == "expect_column_values_to_not_be_null"
        and e.configuration.kwargs.get("row_condition") is None
    }
    assert {f.column for f in table.fields if f.required} <= not_null


# --- on Postgres ----------------------------------------------------------------------------


@pytest.mark.parametrize("identifier", list(SUITES))
def test_good_rows_pass(identifier: str, raw_rows, gx_database_url: str) -> None:
    raw_rows(identifier, GOOD_ROWS[identifier])

    validation = validate_raw_table(gx_database_url, identifier)

    assert validation.failed == [], validation.describe()
    assert validation.success
    assert validation.evaluated == len(SUITES[identifier]().expectations)
    assert validation.describe() == (
        f"raw.{identifier}: all {validation.evaluated} expectations passed"
    )


def test_cdr_failures_name_the_rule_the_value_and_the_line(raw_rows, gx_database_url) -> None:
    raw_rows(
        "asterisk_cdr",
        [
            cdr(),  # line 1: good
            cdr(sequence="2", disposition="MAYBE", billsec="0", answer=None),  # line 2
            cdr(sequence="3", duration="30", billsec="45"),  # line 3: talk longer than the leg
            cdr(sequence="4", cdr_end="2024-03-01 08:59:00"),  # line 4: ends before it starts
            cdr(sequence="5", billsec="-1", disposition="NO ANSWER", answer=None),  # line 5
        ],
        source_file=CDR,
    )

    validation = validate_raw_table(gx_database_url, "asterisk_cdr")

    assert not validation.success
    assert {(f.expectation_type, f.column) for f in validation.failed} == {
        ("expect_column_values_to_be_in_set", "disposition"),
        ("unexpected_rows_expectation", "duration, billsec"),
        ("unexpected_rows_expectation", "start, cdr_end"),
        ("unexpected_rows_expectation", "billsec"),
    }
    disposition = only(validation, "expect_column_values_to_be_in_set", "disposition")
    assert disposition.unexpected_count == 1
    assert disposition.unexpected_percent == pytest.approx(20.0)
    assert disposition.sample_values == ["MAYBE"]
    assert lines(disposition) == [(CDR, 2)]
    assert disposition.sample_rows[0].values == {"disposition": "MAYBE"}

    pair = only(validation, "unexpected_rows_expectation", "duration, billsec")
    assert pair.unexpected_count == 1
    assert lines(pair) == [(CDR, 3)]
    assert pair.sample_rows[0].values == {"duration": 30, "billsec": 45}

    backwards = only(validation, "unexpected_rows_expectation", "start, cdr_end")
    assert (backwards.unexpected_count, lines(backwards)) == (1, [(CDR, 4)])
    billsec = only(validation, "unexpected_rows_expectation", "billsec")
    assert (billsec.unexpected_count, lines(billsec)) == (1, [(CDR, 5)])
    assert billsec.sample_rows[0].values == {"billsec": -1}

    message = validation.describe()
    assert message.startswith("raw.asterisk_cdr: 4 of 13 expectations failed (0 warnings)")
    assert f"disposition='MAYBE' at {CDR}:2" in message
    assert f"duration=30, billsec=45 at {CDR}:3" in message


def test_a_corrected_delivery_supersedes_the_failing_row(raw_rows, gx_database_url) -> None:
    """Raw keeps every delivery; the check judges the last one of each record, as staging
    reads it: a record delivered again, corrected, no longer fails (and a correction that is
    itself wrong still does)."""
    raw_rows(
        "asterisk_cdr",
        [
            cdr(disposition="MAYBE", billsec="0", answer=None),  # line 1: wrong
            cdr(sequence="2", disposition="MAYBE", billsec="0", answer=None),  # line 2: wrong
            cdr(),  # line 3: line 1's record again, corrected
            cdr(sequence="2", disposition="MAYBE!", billsec="0", answer=None),  # line 4
        ],
        source_file=CDR,
    )

    validation = validate_raw_table(gx_database_url, "asterisk_cdr")

    failure = only(validation, "expect_column_values_to_be_in_set", "disposition")
    assert (failure.unexpected_count, lines(failure)) == (1, [(CDR, 4)])
    assert failure.sample_values == ["MAYBE!"]


def test_cdr_talk_time_on_an_unanswered_leg_fails(raw_rows, gx_database_url) -> None:
    raw_rows("asterisk_cdr", [cdr(), cdr(sequence="2", disposition="BUSY")], source_file=CDR)

    validation = validate_raw_table(gx_database_url, "asterisk_cdr")

    failure = only(validation, "unexpected_rows_expectation", "disposition, billsec")
    assert failure.description == "legs with billsec > 0 are ANSWERED"
    assert (failure.unexpected_count, lines(failure)) == (1, [(CDR, 2)])
    assert len(validation.failed) == 1


def test_payment_status_amounts_and_currency(raw_rows, gx_database_url) -> None:
    raw_rows(
        "square_payments",
        [
            payment(),  # line 1: good
            payment(id="pay_2", status="PAID"),  # line 2
            payment(id="pay_3", amount_money_amount="-500"),  # line 3
            payment(id="pay_4", amount_money_amount="12.50"),  # line 4: dollars, not cents
            payment(id="pay_5", total_money_currency="EUR"),  # line 5
            payment(id="pay_6", refunded_money_amount="20000", refunded_money_currency="USD"),
        ],
        source_file=PAYMENTS,
    )

    validation = validate_raw_table(gx_database_url, "square_payments")

    assert not validation.success
    status = only(validation, "expect_column_values_to_be_in_set", "status")
    assert (status.unexpected_count, status.sample_values, lines(status)) == (
        1,
        ["PAID"],
        [(PAYMENTS, 2)],
    )
    amount = only(validation, "expect_column_values_to_match_regex", "amount_money_amount")
    assert amount.unexpected_count == 2
    assert sorted(amount.sample_values) == ["-500", "12.50"]
    assert lines(amount) == [(PAYMENTS, 3), (PAYMENTS, 4)]
    currency = only(validation, "expect_column_values_to_be_in_set", "total_money_currency")
    assert (currency.sample_values, lines(currency)) == (["EUR"], [(PAYMENTS, 5)])
    refunded = only(
        validation, "unexpected_rows_expectation", "refunded_money_amount, total_money_amount"
    )
    assert (refunded.unexpected_count, lines(refunded)) == (1, [(PAYMENTS, 6)])
    assert len(validation.failed) == 4


def test_missing_required_field_is_named_with_its_line(raw_rows, gx_database_url) -> None:
    good = GOOD_ROWS["square_refunds"][0]
    raw_rows("square_refunds", [good, good | {"id": "ref_2", "payment_id": None}])

    validation = validate_raw_table(gx_database_url, "square_refunds")

    failure = only(validation, "expect_column_values_to_not_be_null", "payment_id")
    assert failure.unexpected_count == 1
    assert lines(failure) == [("pos/square/refunds/test.dat", 2)]
    assert failure.sentence().startswith(
        "payment_id: expected payment_id is present; 1 row did not (50%)"
    )


def test_unknown_queue_events_warn_but_do_not_fail(raw_rows, gx_database_url) -> None:
    rows = GOOD_ROWS["asterisk_queue_log"]
    raw_rows("asterisk_queue_log", [*rows, rows[0] | {"event": "SHINYNEWEVENT"}])

    validation = validate_raw_table(gx_database_url, "asterisk_queue_log")

    assert validation.success
    event = only(validation, "expect_column_values_to_be_in_set", "event")
    assert event.severity == "warning"
    assert not event.blocking
    assert validation.blocking == []
    assert (event.unexpected_count, event.sample_values) == (1, ["SHINYNEWEVENT"])
    assert lines(event) == [("pbx/pbx1/queue_log/test.dat", 3)]
    assert "(1 warning)" in validation.describe()


def test_a_rare_unknown_queue_event_is_within_mostly(raw_rows, gx_database_url) -> None:
    known = GOOD_ROWS["asterisk_queue_log"][0]
    # 199 events of 199 calls (identical lines would be one event: only the last is current)
    calls = [known | {"callid": f"1709283600.{n}"} for n in range(1, 200)]
    raw_rows("asterisk_queue_log", [*calls, known | {"event": "SHINYNEWEVENT"}])

    validation = validate_raw_table(gx_database_url, "asterisk_queue_log")

    assert validation.success
    assert validation.failed == []


def test_inbound_calls_need_a_phone_and_a_known_direction(raw_rows, gx_database_url) -> None:
    inbound, outbound = GOOD_ROWS["callrail_calls"]
    raw_rows(
        "callrail_calls",
        [
            inbound,
            inbound | {"id": "CAL3", "customer_phone_number": None},  # line 2
            outbound,  # no phone, but outbound
            inbound | {"id": "CAL4", "direction": "sideways"},  # line 4
            inbound | {"id": "CAL5", "customer_phone_number": " "},  # line 5: CSV blank
        ],
    )

    validation = validate_raw_table(gx_database_url, "callrail_calls")

    assert not validation.success
    missing = only(validation, "expect_column_values_to_not_be_null", "customer_phone_number")
    # 1 of the 3 inbound calls: the outbound and the "sideways" rows are not counted
    assert missing.unexpected_count == 1
    assert missing.unexpected_percent == pytest.approx(100 / 3)
    assert lines(missing) == [("tracking/callrail/test.dat", 2)]
    blank = only(validation, "expect_column_values_to_match_regex", "customer_phone_number")
    assert (blank.unexpected_count, blank.sample_values) == (1, [" "])
    assert lines(blank) == [("tracking/callrail/test.dat", 5)]
    direction = only(validation, "expect_column_values_to_be_in_set", "direction")
    assert (direction.sample_values, lines(direction)) == (
        ["sideways"],
        [("tracking/callrail/test.dat", 4)],
    )
    assert len(validation.failed) == 3


def test_deal_amounts_must_be_plain_non_negative_decimals(raw_rows, gx_database_url) -> None:
    good = GOOD_ROWS["hubspot_deals"][0]
    raw_rows(
        "hubspot_deals",
        [good, good | {"id": "903", "amount": "-5"}, good | {"id": "904", "amount": "1e3"}],
    )

    validation = validate_raw_table(gx_database_url, "hubspot_deals")

    amount = only(validation, "expect_column_values_to_match_regex", "amount")
    assert amount.unexpected_count == 2
    assert sorted(amount.sample_values) == ["-5", "1e3"]
    assert [f.column for f in validation.failed] == ["amount"]


def test_metadata_is_json_and_the_result_is_stored(
    raw_rows, gx_database_url, tmp_path: Path
) -> None:
    raw_rows("asterisk_cdr", [cdr(), cdr(disposition="MAYBE", billsec="0")], source_file=CDR)

    validation = validate_raw_table(gx_database_url, "asterisk_cdr", results_dir=tmp_path)

    metadata = json.loads(json.dumps(validation.as_metadata()))
    assert metadata["suite"] == "raw.asterisk_cdr"
    assert (metadata["evaluated_expectations"], metadata["failed_expectations"]) == (13, 1)
    assert metadata["failures"] == [
        {
            "expectation": "expect_column_values_to_be_in_set",
            "column": "disposition",
            "severity": "critical",
            "description": "disposition is one of ANSWERED, NO ANSWER, BUSY, FAILED, CONGESTION",
            "unexpected_count": 1,
            "sample_values": ["MAYBE"],
            "sample_rows": [{"source_file": CDR, "line_number": 2, "disposition": "MAYBE"}],
        }
    ]
    stored = json.loads((tmp_path / "asterisk_cdr.json").read_text())
    assert metadata["result_path"] == str(tmp_path / "asterisk_cdr.json")
    assert stored["success"] is False
    assert stored["statistics"]["unsuccessful_expectations"] == 1
    [detail] = stored["failure_details"]
    assert detail["result"]["partial_unexpected_index_list"] == [
        {"_source_file": CDR, "_line_number": 2, "disposition": "MAYBE"}
    ]
    # Data Docs: the index lists the run, and GX keeps the result itself under validations/
    index = tmp_path / "data_docs" / "index.html"
    assert metadata["data_docs"] == str(index)
    assert "raw.asterisk_cdr" in index.read_text()
    assert len(list((tmp_path / "validations").rglob("*.json"))) == 2  # screen + failures


def test_data_docs_keep_earlier_runs_and_tables(raw_rows, gx_database_url, tmp_path) -> None:
    raw_rows("asterisk_cdr", [cdr()])
    raw_rows("square_refunds", GOOD_ROWS["square_refunds"])

    for identifier in ("asterisk_cdr", "square_refunds", "asterisk_cdr"):
        assert validate_raw_table(gx_database_url, identifier, results_dir=tmp_path).success

    pages = tmp_path / "data_docs"
    assert len(list((pages / "validations").rglob("*.html"))) == 3
    assert {p.name for p in (pages / "expectations" / "raw").glob("*.html")} == {
        "asterisk_cdr.html",
        "square_refunds.html",
    }


def test_a_run_of_several_checks_builds_the_docs_index_once_after_them(
    raw_rows, gx_database_url, tmp_path
) -> None:
    """The index reads every stored result (1.3 s a table with two months stored): each
    check renders its own pages only, and build_docs_index lists them all at the end."""
    raw_rows("asterisk_cdr", [cdr()])
    raw_rows("square_refunds", GOOD_ROWS["square_refunds"])
    index = tmp_path / "data_docs" / "index.html"

    for identifier in ("asterisk_cdr", "square_refunds"):
        validation = validate_raw_table(
            gx_database_url, identifier, results_dir=tmp_path, build_index=False
        )
        assert validation.success and validation.docs_path == str(index)
    pages = tmp_path / "data_docs" / "validations" / "raw"
    assert {page.relative_to(pages).parts[0] for page in pages.rglob("*.html")} == {
        "asterisk_cdr",
        "square_refunds",
    }
    assert not index.exists()

    assert build_docs_index(tmp_path) == str(index)
    listed = index.read_text()
    assert "raw.asterisk_cdr" in listed and "raw.square_refunds" in listed


def test_the_rows_checked_keep_every_column_a_rule_reads_and_no_other() -> None:
    """The table of rows to check holds the columns the suite names: as a rule's column, in
    a row condition and in a rule's SQL, each of which alone makes a rule read it."""
    from expectations import _rules

    suite = _rules.suite(
        "square_refunds",
        [
            _rules.present("id"),
            _rules.present("payment_id", when=("status", "COMPLETED")),
            _rules.rows_where("refunds are not negative", '"amount_money_amount" < 0', []),
        ],
    )
    read = _mentioned_columns(suite)

    assert [c for c in ("id", "payment_id", "status", "amount_money_amount") if not read(c)] == []
    # a name inside another is not the column: amount_money_amount does not read amount_money
    assert [c for c in ("created_at", "amount_money", "reason") if read(c)] == []


def test_an_unknown_table_is_refused(gx_database_url) -> None:
    with pytest.raises(KeyError, match="no expectation suite for raw table 'nope'"):
        validate_raw_table(gx_database_url, "nope")


def test_a_rule_that_cannot_run_blocks(raw_rows, gx_database_url, monkeypatch) -> None:
    from expectations import _rules

    def broken_suite():
        return _rules.suite(
            "square_customers",
            [_rules.present("id"), _rules.present("no_such_column", severity="warning")],
        )

    monkeypatch.setitem(SUITES, "square_customers", broken_suite)
    raw_rows("square_customers", GOOD_ROWS["square_customers"])

    validation = validate_raw_table(gx_database_url, "square_customers")

    assert not validation.success
    [failure] = validation.failed
    assert failure.column == "no_such_column"
    assert failure.blocking
    assert failure.error is not None and "no_such_column" in failure.error
    assert "[error] no_such_column" in validation.describe()


def test_the_checks_read_counts_and_samples_not_the_rows(raw_rows, gx_database_url) -> None:
    """GX runs a query asset's query whole to learn its columns, fetching every row into
    memory; the runner gives it a view, so no statement returns the table's rows."""
    import psycopg
    import sqlalchemy as sa

    legs = [cdr(uniqueid=f"1709283600.{n}", linkedid=f"1709283600.{n}") for n in range(60)]
    legs[7] = cdr(uniqueid="1709283600.7", linkedid="1709283600.7", billsec="-1")
    raw_rows("asterisk_cdr", legs)
    returned: list[int] = []

    def count_rows(conn, cursor, statement, parameters, context, executemany) -> None:
        if cursor.description is not None:
            returned.append(cursor.rowcount)

    sa.event.listen(sa.engine.Engine, "after_cursor_execute", count_rows)
    try:
        validation = validate_raw_table(gx_database_url, "asterisk_cdr")
    finally:
        sa.event.remove(sa.engine.Engine, "after_cursor_execute", count_rows)

    [failure] = validation.failed
    assert failure.description == "billsec is not negative"
    assert [row.line_number for row in failure.sample_rows] == [8]
    assert returned and max(returned) < len(legs), returned  # catalog rows: one per column
    with psycopg.connect(gx_database_url) as conn:
        left = conn.execute(
            "select relname from pg_class where relname like '\\_checking\\_%'"
        ).fetchall()
    assert left == []
