"""The loader on hand-made files in every vendor format, against a real Postgres."""

from __future__ import annotations

import json
import uuid
from datetime import datetime
from pathlib import Path

import psycopg
import pytest

from callshrink.ingest import load_table, table_by_key
from callshrink.ingest import loader as loader_module
from callshrink.ingest import passthrough as passthrough_module
from callshrink.ingest.loader import start_load

CDR_GOOD = (
    '"","+15550102345","+15550109999","from-pstn","""Pat"" <+15550102345>",'
    '"PJSIP/trunk-00000001","","Queue","loc_01_front,t,,,300","2026-03-08 01:59:58",'
    '"2026-03-08 01:59:58","2026-03-08 03:02:10","132","132","ANSWERED","DOCUMENTATION",'
    '"1772953198.1","","","1772953198.1","1"'
)


def write(landing: Path, relative: str, text: str) -> Path:
    path = landing / relative
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    return path


def load(conn: psycopg.Connection, landing: Path, source: str, name: str, log=None):
    load_id = start_load(conn, landing)
    messages: list[str] = []
    result = load_table(
        conn, table_by_key(source, name), landing, load_id, log=log or messages.append
    )
    return result, messages


def quarantine(conn: psycopg.Connection) -> list[tuple]:
    return conn.execute(
        "select raw_table, source_file, line_number, reason from raw._quarantine "
        "order by source_file, line_number"
    ).fetchall()


def test_cdr_bad_lines_are_quarantined_with_file_line_and_field(raw_conn, tmp_path):
    wrong_count = CDR_GOOD.rsplit(",", 2)[0]  # 19 fields
    bad_time = CDR_GOOD.replace('"2026-03-08 03:02:10"', '"2026-03-08 25:61:00"')
    write(tmp_path, "pbx/pbx_east/cdr/Master.csv", "\n".join([CDR_GOOD, wrong_count, bad_time]))

    result, messages = load(raw_conn, tmp_path, "asterisk", "cdr")

    assert result.metadata() == {
        "files_seen": 1,
        "files_skipped_already_loaded": 0,
        "lines_read": 3,
        "rows_loaded": 1,
        "rows_quarantined": 2,
        "lines_decoded_as_latin1": 0,
        "records_unreadable": 0,
    }
    assert quarantine(raw_conn) == [
        ("asterisk_cdr", "pbx/pbx_east/cdr/Master.csv", 2, "expected 21 fields, found 19"),
        (
            "asterisk_cdr",
            "pbx/pbx_east/cdr/Master.csv",
            3,
            "field 'cdr_end': '2026-03-08 25:61:00' is not a valid YYYY-MM-DD HH:MM:SS timestamp",
        ),
    ]
    assert messages[0].startswith("quarantined pbx/pbx_east/cdr/Master.csv:2: expected 21")
    row = raw_conn.execute(
        "select pbx_id, src, clid, start, answer, linkedid, sequence, _line_number, _source_file "
        "from raw.asterisk_cdr"
    ).fetchone()
    assert row == (
        "pbx_east",
        "+15550102345",
        '"Pat" <+15550102345>',
        datetime(2026, 3, 8, 1, 59, 58),
        datetime(2026, 3, 8, 1, 59, 58),
        "1772953198.1",
        1,
        1,
        "pbx/pbx_east/cdr/Master.csv",
    )


CDR_VARIANTS = [
    CDR_GOOD,
    # unquoted numbers, an unanswered leg (empty answer), empty unquoted text fields
    CDR_GOOD.replace('"132","132","ANSWERED"', '0,0,"NO ANSWER"')
    .replace('"2026-03-08 01:59:58","2026-03-08 03:02:10"', '"","2026-03-08 03:02:10"')
    .replace('"DOCUMENTATION","1772953198.1","",""', '"DOCUMENTATION","1772953198.2",,'),
    CDR_GOOD.replace('"2026-03-08 01:59:58"', '"2028-02-29 23:59:59"'),  # a leap day
]


def test_clean_cdr_files_load_by_copy_exactly_as_the_careful_path_loads_them(
    raw_conn, tmp_path, monkeypatch
):
    write(tmp_path, "pbx/pbx_east/cdr/copy.csv", "\n".join(CDR_VARIANTS) + "\n")
    real_copy_rows = loader_module._copy_rows

    def careful_path_not_expected(*args, **kwargs):
        raise AssertionError("a clean CDR file should load by COPY")

    monkeypatch.setattr(loader_module, "_copy_rows", careful_path_not_expected)
    load(raw_conn, tmp_path, "asterisk", "cdr")
    monkeypatch.setattr(loader_module, "_copy_rows", real_copy_rows)
    # a blank line sends a file down the careful path (it skips blank lines)
    write(tmp_path, "pbx/pbx_east/cdr/careful.csv", "\n\n".join(CDR_VARIANTS) + "\n")
    result, _ = load(raw_conn, tmp_path, "asterisk", "cdr")
    assert result.total("rows_loaded") == 3

    def rows(file: str) -> list[tuple]:
        data = ", ".join(f.column for f in table_by_key("asterisk", "cdr").fields)
        return raw_conn.execute(
            f"select pbx_id, {data} from raw.asterisk_cdr where _source_file = %s "
            "order by uniqueid, start",
            (f"pbx/pbx_east/cdr/{file}",),
        ).fetchall()

    assert rows("copy.csv") == rows("careful.csv")
    started = datetime(2026, 3, 8, 1, 59, 58)
    # (start, answer, billsec, userfield) after pbx_id: the file's typed and empty fields
    assert [(r[10], r[11], r[14], r[18]) for r in rows("copy.csv")] == [
        (started, started, 132, ""),
        (datetime(2028, 2, 29, 23, 59, 59), datetime(2028, 2, 29, 23, 59, 59), 132, ""),
        (started, None, 0, ""),
    ]
    assert raw_conn.execute(
        "select array_agg(_line_number order by _line_number) from raw.asterisk_cdr "
        "where _source_file = 'pbx/pbx_east/cdr/copy.csv'"
    ).fetchone() == ([1, 2, 3],)


def test_redelivered_file_under_another_name_loads_nothing(raw_conn, tmp_path):
    write(tmp_path, "pbx/pbx_east/cdr/Master.csv", CDR_GOOD + "\n")
    first, _ = load(raw_conn, tmp_path, "asterisk", "cdr")
    write(tmp_path, "pbx/pbx_east/cdr/Master-copy.csv", CDR_GOOD + "\n")
    second, _ = load(raw_conn, tmp_path, "asterisk", "cdr")

    assert first.total("rows_loaded") == 1
    assert second.total("rows_loaded") == 0
    assert [f.skipped_as for f in second.files] == [
        "pbx/pbx_east/cdr/Master.csv",
        "pbx/pbx_east/cdr/Master.csv",
    ]
    assert raw_conn.execute("select count(*) from raw.asterisk_cdr").fetchone()[0] == 1


def test_manifest_accounts_for_every_line(raw_conn, tmp_path):
    write(tmp_path, "pbx/pbx_east/cdr/a.csv", "\n".join([CDR_GOOD, "garbage", ""]) + "\n")
    load(raw_conn, tmp_path, "asterisk", "cdr")
    assert raw_conn.execute(
        "select source_file, lines_read, rows_loaded, rows_quarantined from raw._load_files"
    ).fetchall() == [("pbx/pbx_east/cdr/a.csv", 2, 1, 1)]


def test_callrail_page_keeps_line_numbers_and_unknown_fields(raw_conn, tmp_path):
    calls = [
        {
            "id": "CAL1",
            "start_time": "2026-03-09T09:15:02.000-04:00",
            "direction": "inbound",
            "answered": True,
            "company_id": "COM1",
            "tags": ["new"],
            "speaker_percent": 12,
        },
        {"id": "CAL2", "start_time": "not a time", "direction": "inbound", "company_id": "COM1"},
    ]
    page = {"calls": calls, "page": 1, "per_page": 100, "total_pages": 1, "total_records": 2}
    write(tmp_path, "tracking/callrail/page-1.json", json.dumps(page, indent=2))

    result, _ = load(raw_conn, tmp_path, "callrail", "calls")

    assert result.total("rows_loaded") == 1
    ((line, reason),) = [(r[2], r[3]) for r in quarantine(raw_conn)]
    assert reason == "field 'start_time': 'not a time' is not a valid ISO 8601 timestamp"
    text = (tmp_path / "tracking/callrail/page-1.json").read_text().splitlines()
    assert text[line - 1].strip() == "{"  # the line where the second call object starts
    assert '"id": "CAL2"' in text[line]
    loaded = raw_conn.execute(
        "select id, answered, tags, _record->>'speaker_percent', _line_number "
        "from raw.callrail_calls"
    ).fetchone()
    assert loaded == ("CAL1", "true", '["new"]', "12", 3)


def test_callrail_pages_written_on_one_line_each(raw_conn, tmp_path):
    pages = [
        {
            "page": n,
            "total_pages": 2,
            "calls": [
                {
                    "id": f"CAL{n}{i}",
                    "start_time": "2026-03-09T09:00:00Z",
                    "direction": "inbound",
                    "company_id": "COM1",
                    "value": 10.25,
                }
                for i in range(3)
            ],
        }
        for n in (1, 2)
    ]
    write(tmp_path, "tracking/callrail/p1.json", json.dumps(pages[0]))
    write(tmp_path, "tracking/callrail/all.json", "\n".join(json.dumps(p) for p in pages))

    result, _ = load(raw_conn, tmp_path, "callrail", "calls")

    assert (result.total("rows_loaded"), result.total("rows_quarantined")) == (9, 0)
    assert raw_conn.execute(
        "select _source_file, _line_number, count(*), min(_record->>'value') "
        "from raw.callrail_calls group by 1, 2 order by 1, 2"
    ).fetchall() == [
        ("tracking/callrail/all.json", 1, 3, "10.25"),
        ("tracking/callrail/all.json", 2, 3, "10.25"),
        ("tracking/callrail/p1.json", 1, 3, "10.25"),
    ]
    assert raw_conn.execute(
        "select jsonb_typeof(_record->'value') from raw.callrail_calls limit 1"
    ).fetchone() == ("number",)


def test_callrail_csv_and_json_lines(raw_conn, tmp_path):
    header = "id,start_time,direction,answered,company_id,tags,duration"
    rows = [
        'CAL10,2026-03-09T10:00:00-05:00,inbound,false,COM1,"spam,robocall",3',
        "CAL11,2026-03-09T10:05:00-05:00,inbound,TRUE,COM1,,4.5",
    ]
    write(tmp_path, "tracking/callrail/calls.csv", "\n".join([header, *rows]) + "\n")
    write(
        tmp_path,
        "tracking/callrail/calls.jsonl",
        '{"id": "CAL12", "start_time": "2026-03-09T11:00:00Z", "direction": "inbound", '
        '"company_id": "COM1", "value": 12.50}\n{"id": "CAL13", "start_time": \n',
    )

    result, _ = load(raw_conn, tmp_path, "callrail", "calls")

    assert result.total("rows_loaded") == 2
    assert [(r[1], r[2], r[3]) for r in quarantine(raw_conn)] == [
        ("tracking/callrail/calls.csv", 3, "field 'duration': '4.5' is not a valid integer"),
        ("tracking/callrail/calls.jsonl", 2, "invalid JSON: Expecting value at column 31"),
    ]
    assert raw_conn.execute(
        "select id, tags, value from raw.callrail_calls order by id"
    ).fetchall() == [("CAL10", '["spam", "robocall"]', None), ("CAL12", None, "12.50")]


def test_queue_log_trailing_fields_and_unknown_events_are_kept(raw_conn, tmp_path):
    write(
        tmp_path,
        "pbx/pbx_west/queue_log/queue_log",
        "\n".join(
            [
                "1772953200|1772953198.1|loc_01_front|NONE|ENTERQUEUE||+15550102345|1",
                "1772953230|1772953198.1|loc_01_front|PJSIP/1001|CONNECT|30|1772953228.4|2",
                "1772953300|NONE|NONE|NONE|QUEUESTART",
                "1772953400|1772953198.1|loc_01_front|NONE|SOMETHINGNEW|a|b",
                "1772953500|only|three",
            ]
        ),
    )
    result, _ = load(raw_conn, tmp_path, "asterisk", "queue_log")
    assert result.total("rows_loaded") == 4
    assert [r[3] for r in quarantine(raw_conn)] == [
        "expected 5 to 10 '|'-separated fields, found 3"
    ]
    assert raw_conn.execute(
        "select event, data1, data3, data5 from raw.asterisk_queue_log order by epoch"
    ).fetchall() == [
        ("ENTERQUEUE", "", "1", None),
        ("CONNECT", "30", "2", None),
        ("QUEUESTART", None, None, None),
        ("SOMETHINGNEW", "a", None, None),
    ]


@pytest.mark.parametrize(
    ("line", "reason"),
    [
        ("1772953500|c|q|a|e|1|2|3|4|5|6", "expected 5 to 10 '|'-separated fields, found 11"),
        ("177295350x|c|q|a|EVENT", "field 'epoch': '177295350x' is not a valid epoch seconds"),
        ("1772953500| |q|a|EVENT", "field 'callid' is empty"),
        ("1772953500|c|q|a|", "field 'event' is empty"),
        (" 1772953500 |c|q|a|EVENT", None),  # an epoch with spaces around it: stripped
    ],
)
def test_a_queue_log_line_that_breaks_a_rule_is_quarantined_with_its_reason(
    raw_conn, tmp_path, line: str, reason: str | None
):
    good = "1772953200|1772953198.1|loc_01_front|NONE|ENTERQUEUE||+15550102345|1"
    write(tmp_path, "pbx/pbx_west/queue_log/q", "\n".join([good, line]))
    result, _ = load(raw_conn, tmp_path, "asterisk", "queue_log")
    epochs = raw_conn.execute(
        "select array_agg(epoch order by _line_number) from raw.asterisk_queue_log"
    ).fetchone()[0]
    reasons = [r[3] for r in quarantine(raw_conn)]
    assert result.total("lines_read") == 2
    if reason is None:
        assert (epochs, reasons) == (["1772953200", "1772953500"], [])
    else:
        assert (epochs, reasons) == (["1772953200"], [reason])


def test_square_money_stays_exact_and_wrong_types_are_quarantined(raw_conn, tmp_path):
    good = {
        "id": "P1",
        "created_at": "2026-03-09T15:00:00Z",
        "status": "COMPLETED",
        "location_id": "L1",
        "amount_money": {"amount": 12345, "currency": "USD"},
        "tip_money": {"amount": 200, "currency": "USD"},
    }
    bad = {**good, "id": "P2", "amount_money": {"amount": "12.5x", "currency": "USD"}}
    write(tmp_path, "pos/square/payments/p.jsonl", f"{json.dumps(good)}\n{json.dumps(bad)}\n")
    load(raw_conn, tmp_path, "square", "payments")
    assert raw_conn.execute(
        "select id, amount_money_amount, tip_money_amount from raw.square_payments"
    ).fetchall() == [("P1", "12345", "200")]
    assert [r[2:] for r in quarantine(raw_conn)] == [
        (2, "field 'amount_money_amount': '12.5x' is not a valid integer")
    ]


def _assert_nothing_loaded(conn: psycopg.Connection) -> None:
    counts = conn.execute(
        "select (select count(*) from raw.asterisk_cdr), "
        "(select count(*) from raw.asterisk_queue_log), "
        "(select count(*) from raw._load_files), (select count(*) from raw._quarantine)"
    ).fetchone()
    assert counts == (0, 0, 0, 0)


def test_a_failure_mid_copy_leaves_nothing_and_the_next_run_loads_it(
    raw_conn, tmp_path, monkeypatch
):
    bad_line = CDR_GOOD.replace('"2026-03-08 01:59:58"', '"not a time"', 1)
    write(tmp_path, "pbx/pbx_east/cdr/Master.csv", "\n".join([CDR_GOOD, bad_line, CDR_GOOD]))
    real_chunks = passthrough_module._chunks

    def chunks_then_failure(path):
        yield next(real_chunks(path))
        raise RuntimeError("disk on fire")

    monkeypatch.setattr(passthrough_module, "CHUNK_BYTES", 100)
    monkeypatch.setattr(passthrough_module, "_chunks", chunks_then_failure)
    with pytest.raises(RuntimeError, match="disk on fire"):
        load(raw_conn, tmp_path, "asterisk", "cdr")
    raw_conn.rollback()
    _assert_nothing_loaded(raw_conn)

    monkeypatch.setattr(passthrough_module, "_chunks", real_chunks)
    result, _ = load(raw_conn, tmp_path, "asterisk", "cdr")
    assert (result.total("rows_loaded"), result.total("rows_quarantined")) == (2, 1)


def test_a_failure_mid_file_on_the_careful_path_leaves_nothing(raw_conn, tmp_path, monkeypatch):
    event = "1772953200|1772953198.1|loc_01_front|NONE|ENTERQUEUE||+15550102345|1"
    write(tmp_path, "pbx/pbx_east/queue_log/queue_log", "\n".join([event] * 3))
    real_row_builder = loader_module.row_builder

    def failing_row_builder(table):
        build = real_row_builder(table)
        calls = {"n": 0}

        def fail_on_third_row(line, pbx_id):
            calls["n"] += 1
            if calls["n"] == 3:
                raise RuntimeError("disk on fire")
            return build(line, pbx_id)

        return fail_on_third_row

    monkeypatch.setattr(loader_module, "row_builder", failing_row_builder)
    with pytest.raises(RuntimeError, match="disk on fire"):
        load(raw_conn, tmp_path, "asterisk", "queue_log")
    raw_conn.rollback()
    _assert_nothing_loaded(raw_conn)

    monkeypatch.setattr(loader_module, "row_builder", real_row_builder)
    result, _ = load(raw_conn, tmp_path, "asterisk", "queue_log")
    assert result.total("rows_loaded") == 3


def test_load_ids_are_recorded(raw_conn, tmp_path):
    write(tmp_path, "pbx/pbx_east/cdr/Master.csv", CDR_GOOD + "\n")
    load_id = uuid.uuid4()
    start_load(raw_conn, tmp_path, load_id)
    start_load(raw_conn, tmp_path, load_id)  # every asset of a run records the same load
    load_table(raw_conn, table_by_key("asterisk", "cdr"), tmp_path, load_id, log=lambda _: None)
    assert raw_conn.execute("select _load_id from raw.asterisk_cdr").fetchone()[0] == load_id
    assert raw_conn.execute("select count(*) from raw._loads").fetchone()[0] == 1


def _cdr_lines(n: int, first: int) -> str:
    """n good CDR lines with uniqueids first.1 .. first+n-1.1 (distinct files hash apart)."""
    return "".join(CDR_GOOD.replace('"1772953198.1"', f'"{first + i}.1"') + "\n" for i in range(n))


def _estimated_rows(conn: psycopg.Connection) -> float:
    """pg_class.reltuples of raw.asterisk_cdr: what ANALYZE last counted, -1 before any."""
    return conn.execute(
        "select reltuples from pg_class where oid = 'raw.asterisk_cdr'::regclass"
    ).fetchone()[0]


def test_a_load_that_changes_a_tenth_of_a_table_analyzes_it(raw_conn, tmp_path):
    """The models that read a raw table right after a load plan with its real size; a load
    under a tenth of the table is left to autovacuum."""
    assert _estimated_rows(raw_conn) == -1
    write(tmp_path, "pbx/pbx_east/cdr/a.csv", _cdr_lines(100, 1772950000))
    load(raw_conn, tmp_path, "asterisk", "cdr")
    assert _estimated_rows(raw_conn) == 100

    write(tmp_path, "pbx/pbx_east/cdr/b.csv", _cdr_lines(9, 1772960000))
    load(raw_conn, tmp_path, "asterisk", "cdr")
    assert _estimated_rows(raw_conn) == 100  # 9 rows: not analysed again

    write(tmp_path, "pbx/pbx_east/cdr/c.csv", _cdr_lines(12, 1772970000))
    load(raw_conn, tmp_path, "asterisk", "cdr")
    assert _estimated_rows(raw_conn) == 121
