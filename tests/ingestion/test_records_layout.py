"""Records-only raw tables (JSON lines): COPY of each line, one query checking the fields, a
view typing them, and the careful path for any file that query or the server refuses."""

from __future__ import annotations

import json
from pathlib import Path

import psycopg
import pytest

from callshrink.ingest import ensure_raw_schema, table_by_key
from callshrink.ingest import loader as loader_module
from tests.ingestion.test_loader import load, quarantine, write

PAYMENT = {
    "id": "P1",
    "created_at": "2026-03-09T15:00:00Z",
    "status": "COMPLETED",
    "location_id": "L1",
    "amount_money": {"amount": 12345, "currency": "USD"},
}
# what the careful path makes of each field (loader._typed): a number or string amount as
# its digits, a blank typed field as null, a number in a text field as its digits, an offset
# written +00:00 or with a space for T kept as written
PAYMENTS = [
    PAYMENT,
    {
        **PAYMENT,
        "id": "P2",
        "created_at": "2026-03-09 10:00:00.5-05:00",
        "updated_at": "",
        "amount_money": {"amount": "1500", "currency": "USD"},
        "tip_money": None,
        "receipt_number": 12,
    },
]
EXPECTED_PAYMENTS = [
    # id, created_at, updated_at, amount, currency, tip amount, receipt_number
    ("P1", "2026-03-09T15:00:00Z", None, "12345", "USD", None, None),
    ("P2", "2026-03-09 10:00:00.5-05:00", None, "1500", "USD", None, "12"),
]
DEAL = {
    "id": "20000000007",
    "properties": {"amount": "798.52", "hs_is_closed_won": "TRUE", "closedate": ""},
    "updatedAt": "2026-02-23T20:01:21.113Z",
    "archived": False,
    "associations": {"contacts": {"results": [{"id": "100016405", "type": "deal_to_contact"}]}},
}


def _jsonl(records: list[dict]) -> str:
    return "".join(json.dumps(record) + "\n" for record in records)


def _payments(conn: psycopg.Connection, file: str) -> list[tuple]:
    return conn.execute(
        "select id, created_at, updated_at, amount_money_amount, amount_money_currency, "
        "tip_money_amount, receipt_number from raw.square_payments where _source_file = %s "
        "order by _line_number",
        (file,),
    ).fetchall()


def _no_careful_path(monkeypatch: pytest.MonkeyPatch) -> None:
    def careful_path_not_expected(*args, **kwargs):
        raise AssertionError("a clean JSON-lines file should load by COPY")

    monkeypatch.setattr(loader_module, "_load_lines", careful_path_not_expected)


def test_clean_json_lines_load_by_copy_and_read_as_the_careful_path_types_them(
    raw_conn, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
):
    with monkeypatch.context() as patched:
        _no_careful_path(patched)
        write(tmp_path, "pos/square/payments/copy.jsonl", _jsonl(PAYMENTS))
        write(tmp_path, "crm/hubspot/deals/copy.jsonl", _jsonl([DEAL]))
        load(raw_conn, tmp_path, "square", "payments")
        load(raw_conn, tmp_path, "hubspot", "deals")
    assert _payments(raw_conn, "pos/square/payments/copy.jsonl") == EXPECTED_PAYMENTS
    assert raw_conn.execute(
        "select amount, hs_is_closed_won, closedate, archived, contact_associations::jsonb, "
        "_line_number from raw.hubspot_deals"
    ).fetchone() == (
        "798.52",
        "true",
        None,
        "false",
        [{"id": "100016405", "type": "deal_to_contact"}],
        1,
    )

    # the same records by the careful path: the same values
    monkeypatch.setattr(loader_module, "copy_file", lambda *args, **kwargs: None)
    write(tmp_path, "pos/square/payments/careful.jsonl", _jsonl(list(reversed(PAYMENTS))))
    load(raw_conn, tmp_path, "square", "payments")
    assert _payments(raw_conn, "pos/square/payments/careful.jsonl") == list(
        reversed(EXPECTED_PAYMENTS)
    )


@pytest.mark.parametrize(
    ("change", "quarantined"),
    [
        # refused by the check and by the careful path: quarantined, named
        (
            {"amount_money": {"amount": -5, "currency": "USD"}},
            "field 'amount_money_amount': '-5' is below zero",
        ),
        ({"tip_money": {"amount": 1, "currency": "EUR"}}, "field 'tip_money_currency': 'EUR'"),
        ({"created_at": "2026-03-09T15:00:00"}, "field 'created_at': '2026-03-09T15:00:00' has"),
        ({"created_at": "2026-02-30T15:00:00Z"}, "field 'created_at': '2026-02-30T15:00:00Z'"),
        ({"created_at": "2026-03-09T24:00:00Z"}, "field 'created_at': '2026-03-09T24:00:00Z'"),
        ({"status": " "}, "field 'status' is empty"),
        ({"status": "\u00a0\u2003"}, "field 'status' is empty"),  # Unicode spaces only
        (
            {"amount_money": {"amount": 12.0, "currency": "USD"}},
            "field 'amount_money_amount': '12.0' is not a valid",
        ),
        # refused by the check only (an offset without a colon; a Money that is not an
        # object, whose amount the careful path finds missing): loaded by the careful path
        ({"created_at": "2026-03-09T15:00:00+0530"}, None),
        ({"amount_money": "12"}, None),
        ({"tip_money": [1]}, None),
        # accepted by both: a required text with a space before its first character
        ({"status": " COMPLETED"}, None),
    ],
)
def test_a_record_the_check_refuses_sends_the_file_down_the_careful_path(
    raw_conn, tmp_path: Path, change: dict, quarantined: str | None
):
    write(tmp_path, "pos/square/payments/p.jsonl", _jsonl([PAYMENT, {**PAYMENT, **change}]))
    result, _ = load(raw_conn, tmp_path, "square", "payments")
    lines = raw_conn.execute(
        "select array_agg(_line_number order by _line_number) from raw.square_payments"
    ).fetchone()[0]
    reasons = [reason for *_, reason in quarantine(raw_conn)]
    if quarantined is None:
        assert (lines, reasons) == ([1, 2], [])
    else:
        assert lines == [1]
        assert len(reasons) == 1 and reasons[0].startswith(quarantined), reasons
    assert result.total("lines_read") == 2


def test_a_json_field_given_as_text_must_hold_json(raw_conn, tmp_path: Path):
    deal = {**DEAL, "associations": {"contacts": {"results": "100016405, 100016406"}}}
    write(tmp_path, "crm/hubspot/deals/d.jsonl", _jsonl([DEAL, deal]))
    load(raw_conn, tmp_path, "hubspot", "deals")
    assert [r[2:] for r in quarantine(raw_conn)] == [
        (2, "field 'contact_associations': '100016405, 100016406' is not JSON")
    ]


def test_a_raw_table_of_the_older_layout_becomes_the_records_table_and_its_view(raw_conn):
    """A warehouse loaded before this layout kept a text column per field: its rows, line
    numbers and lineage stay, and the view reads them from _record."""
    table = table_by_key("square", "refunds")
    raw_conn.execute("drop view raw.square_refunds")
    raw_conn.execute("drop table raw.square_refunds__records")
    fields = ", ".join(f"{spec.column} text" for spec in table.fields)
    raw_conn.execute(
        f"create table raw.square_refunds ({fields}, _record jsonb not null, "
        "_load_id uuid not null, _source_file text not null, _line_number integer not null, "
        "_file_sha256 text not null, _loaded_at timestamptz not null default now())"
    )
    raw_conn.execute("create index square_refunds__lookup on raw.square_refunds (id)")
    record = {
        "id": "R1",
        "payment_id": "P1",
        "status": "COMPLETED",
        "created_at": "2026-03-09T15:00:00Z",
        "amount_money": {"amount": 500, "currency": "USD"},
    }
    raw_conn.execute(
        "insert into raw.square_refunds (id, payment_id, status, created_at, "
        "amount_money_amount, _record, _load_id, _source_file, _line_number, _file_sha256) "
        "values ('R1', 'P1', 'COMPLETED', '2026-03-09T15:00:00Z', '500', %s, "
        "gen_random_uuid(), 'pos/square/refunds/r.jsonl', 7, 'abc')",
        (json.dumps(record),),
    )
    raw_conn.commit()
    ensure_raw_schema(raw_conn)
    assert raw_conn.execute(
        "select relkind from pg_class where oid = 'raw.square_refunds'::regclass"
    ).fetchone() == ("v",)
    assert raw_conn.execute(
        "select id, payment_id, amount_money_amount, amount_money_currency, status, "
        "created_at, updated_at, _source_file, _line_number from raw.square_refunds"
    ).fetchall() == [
        (
            "R1",
            "P1",
            "500",
            "USD",
            "COMPLETED",
            "2026-03-09T15:00:00Z",
            None,
            "pos/square/refunds/r.jsonl",
            7,
        )
    ]
    ensure_raw_schema(raw_conn)  # again: nothing to migrate
    assert raw_conn.execute("select count(*) from raw.square_refunds").fetchone() == (1,)


CALL = {
    "id": "CAL1",
    "start_time": "2026-03-09T09:15:02.000-04:00",
    "direction": "inbound",
    "answered": True,
    "company_id": "COM1",
    "tags": ["new"],
    "duration": 31,
}


def _page(calls: list[dict], total_records: int) -> str:
    page = {"page": 1, "per_page": 250, "total_pages": 1, "total_records": total_records}
    return json.dumps({**page, "calls": calls}) + "\n"


def test_a_callrail_page_on_one_line_loads_on_the_server_each_call_at_line_1(
    raw_conn, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
):
    calls = [CALL, {**CALL, "id": "CAL2", "answered": "no", "tags": [], "duration": "7"}]
    with monkeypatch.context() as patched:
        _no_careful_path(patched)
        write(tmp_path, "tracking/callrail/page.json", _page(calls, 2))
        result, _ = load(raw_conn, tmp_path, "callrail", "calls")
    assert (result.total("lines_read"), result.total("rows_loaded")) == (2, 2)
    assert raw_conn.execute(
        "select id, answered, tags, duration, _line_number from raw.callrail_calls order by id"
    ).fetchall() == [("CAL1", "true", '["new"]', "31", 1), ("CAL2", "false", "[]", "7", 1)]


def test_a_page_holding_fewer_calls_than_it_announces_takes_the_careful_path(
    raw_conn, tmp_path: Path
):
    write(tmp_path, "tracking/callrail/page.json", _page([CALL], 2))
    result, messages = load(raw_conn, tmp_path, "callrail", "calls")
    assert (result.total("rows_loaded"), result.total("records_unreadable")) == (1, 1)
    assert any("holds 1 calls of the 2 it announces" in m for m in messages), messages


def test_a_blank_json_field_reads_as_null(raw_conn, tmp_path: Path):
    """The careful path reads a blank typed field as missing; staging casts tags to jsonb,
    so the view must not give it an empty text (CSV writes an empty cell, some JSON "")."""
    write(tmp_path, "tracking/callrail/calls.jsonl", _jsonl([{**CALL, "id": "CAL3", "tags": ""}]))
    write(
        tmp_path,
        "tracking/callrail/calls.csv",
        "id,start_time,direction,company_id,tags\nCAL4,2026-03-09T10:00:00Z,inbound,COM1,\n",
    )
    load(raw_conn, tmp_path, "callrail", "calls")
    assert raw_conn.execute("select id, tags from raw.callrail_calls order by id").fetchall() == [
        ("CAL3", None),
        ("CAL4", None),
    ]


def test_the_first_load_analyzes_the_lineage_and_the_lookup_key_not_the_records(
    raw_conn, tmp_path: Path
):
    """The loader analyzes a table its load grew by a tenth or more; the statistics the
    models' plans use are those of the lineage columns and of the lookup index's expression,
    and the whole JSON documents are left out (their sampling was most of the time)."""
    write(tmp_path, "pos/square/payments/p.jsonl", _jsonl(PAYMENTS))
    load(raw_conn, tmp_path, "square", "payments")
    analyzed = raw_conn.execute(
        "select tablename, attname from pg_stats where schemaname = 'raw' "
        "and tablename like 'square_payments__records%%' order by 1, 2"
    ).fetchall()
    assert ("square_payments__records", "_loaded_at") in analyzed
    assert ("square_payments__records__lookup", "expr") in analyzed
    assert ("square_payments__records", "_record") not in analyzed
