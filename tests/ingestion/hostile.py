"""A corpus of hostile landing files: what real exports and hand edits do to the formats.

Each ``Hostile`` is one file (its bytes written by the test's fixture) with what loading it
must give: the rows loaded (selected columns, by physical line) and the lines quarantined
with a piece of their reason, which names the field or the byte. Some PBX files are under a
PBX whose reference row declares an encoding (``PBX_SYSTEMS``).
"""

from __future__ import annotations

import json
import random
from dataclasses import dataclass, field

BOM = b"\xef\xbb\xbf"
NUL = b"\x00"
E_ACUTE = b"\xe9"  # é in Latin-1
UNDEFINED_IN_CP1252 = b"\x81"

PBX_SYSTEMS = (
    "pbx_id,timezone,phone_channel_pattern,trunk_channel_pattern,dialled_number_from,encoding\n"
    "pbx_east,America/New_York,,,,\n"
    "pbx_latin,America/Chicago,,,,latin-1\n"
    "pbx_cp1252,America/Chicago,,,,cp1252\n"
    "pbx_utf8,America/Denver,,,,UTF-8\n"
)

CDR = "asterisk_cdr"
QUEUE_LOG = "asterisk_queue_log"
CALLRAIL = "callrail_calls"
CUSTOMERS = "square_customers"
PAYMENTS = "square_payments"
REFUNDS = "square_refunds"

# what is selected of each raw table's rows, after _line_number
COLUMNS = {
    CDR: "uniqueid, clid, accountcode",
    QUEUE_LOG: "pbx_id, epoch, agent, data2",
    CALLRAIL: "id, customer_name, _record->>'customer_name'",
    CUSTOMERS: "id, given_name, _record->>'given_name'",
    PAYMENTS: "id, amount_money_amount, amount_money_currency",
    REFUNDS: "id, amount_money_amount, amount_money_currency",
}


@dataclass(frozen=True)
class Hostile:
    name: str
    table: str  # raw table identifier
    path: str  # below the landing folder
    data: bytes
    rows: list[tuple] = field(default_factory=list)  # (_line_number, *COLUMNS[table])
    quarantined: dict[int, str] | None = field(default_factory=dict)  # line -> in its reason
    # None: nothing loads and every line read is quarantined (garbage)
    latin1: int = 0  # lines decoded as Latin-1
    unreadable: int = 0  # records it holds or announces that could not be read


# --- builders ----------------------------------------------------------------------------------

PAT = '"Pat" <+15550102345>'


def cdr(uniqueid: str, clid: str = PAT, start: str = "2026-03-08 01:59:58", extra=()) -> str:
    fields = [
        "",
        "+15550102345",
        "+15550109999",
        "from-pstn",
        clid,
        "PJSIP/trunk-00000001",
        "",
        "Queue",
        "loc_01_front,t,,,300",
        start,
        start,
        "2026-03-08 02:02:10",
        "132",
        "132",
        "ANSWERED",
        "DOCUMENTATION",
        uniqueid,
        "",
        "",
        uniqueid,
        "1",
        *extra,
    ]
    return ",".join('"' + value.replace('"', '""') + '"' for value in fields)


def event(epoch: int, agent: str = "NONE", data2: str = "+15550102345") -> str:
    return f"{epoch}|1772953198.1|loc_01_front|{agent}|ENTERQUEUE||{data2}|1"


def call(call_id: str, **extra) -> dict:
    return {
        "id": call_id,
        "start_time": "2026-03-09T09:15:02.000-04:00",
        "direction": "inbound",
        "company_id": "COM1",
        "customer_phone_number": "+15550102345",
        **extra,
    }


def payment(payment_id: str, amount=1000, currency="USD", **extra) -> dict:
    return {
        "id": payment_id,
        "created_at": "2026-03-09T15:00:00Z",
        "status": "COMPLETED",
        "location_id": "L1",
        "amount_money": {"amount": amount, "currency": currency},
        **extra,
    }


def refund(refund_id: str, amount=500, currency="USD") -> dict:
    return {
        "id": refund_id,
        "payment_id": "P1",
        "status": "COMPLETED",
        "created_at": "2026-03-10T15:00:00Z",
        "amount_money": {"amount": amount, "currency": currency},
    }


def jsonl(*records: dict | str) -> bytes:
    """JSON lines; a str is written as it is (a line that is not a dumped record)."""
    lines = [r if isinstance(r, str) else json.dumps(r, ensure_ascii=False) for r in records]
    return ("\n".join(lines) + "\n").encode()


def raw_in_json(record: dict, placeholder: str, raw: str) -> str:
    """The record's JSON line with ``raw`` written unescaped where ``placeholder`` is."""
    return json.dumps(record, ensure_ascii=False).replace(placeholder, raw)


def lines(*texts: str, end: str = "\n", encoding: str = "utf-8") -> bytes:
    return (end.join(texts) + end).encode(encoding)


def offset_of(data: bytes, line: int, byte: bytes) -> int:
    """Where ``byte`` first is in the 1-based physical line (the reason must name it)."""
    return data.split(b"\n")[line - 1].find(byte)


def call_line(page: str, call_id: str) -> int:
    """The line of an indented page where the call ``call_id`` starts (its "{")."""
    return page[: page.index(f'"id": "{call_id}"')].count("\n")


def garbage(seed: int) -> bytes:
    return random.Random(seed).randbytes(3000)


# --- the corpus --------------------------------------------------------------------------------

SEPARATORS = ["\u2028", "\u2029", "\u0085", "\x1c", "\x1d", "\x1e", "\x0b", "\x0c"]


def _page(calls: list[dict], page: int, per_page: int, total: int, indent=None) -> str:
    doc = {
        "page": page,
        "per_page": per_page,
        "total_pages": -(-total // per_page),
        "total_records": total,
        "calls": calls,
    }
    return json.dumps(doc, indent=indent, ensure_ascii=False)


def _corpus() -> list[Hostile]:
    out: list[Hostile] = []

    # -- a NUL: a JSON \u0000 escape, or a raw 0x00 byte ---------------------------------------
    out.append(
        Hostile(
            "nul_json_escape",
            CUSTOMERS,
            "pos/square/customers/nul.jsonl",
            jsonl(
                {"id": "CU1", "given_name": "Ann"},
                {"id": "CU2", "given_name": "Bo\u0000b"},
                {"id": "CU3", "given_name": "Cy", "note": "not a column\u0000"},
                {"id": "CU4", "given_name": "back\\u0000slash"},  # a backslash, not a NUL
            ),
            rows=[(1, "CU1", "Ann", "Ann"), (4, "CU4", "back\\u0000slash", "back\\u0000slash")],
            quarantined={
                2: "field 'given_name' contains a NUL character",
                3: "field 'note' contains a NUL character",
            },
        )
    )
    data = lines(cdr("1.1"), cdr("1.2", clid='"Pat\x00" <+15550102345>'), cdr("1.3"))
    out.append(
        Hostile(
            "nul_byte_cdr",
            CDR,
            "pbx/pbx_east/cdr/nul.csv",
            data,
            rows=[(1, "1.1", PAT, ""), (3, "1.3", PAT, "")],
            quarantined={2: f"a NUL byte (0x00) at byte offset {offset_of(data, 2, NUL)}"},
        )
    )
    data = lines(event(1772953200), event(1772953201, agent="PJSIP/1\x0001"), event(1772953202))
    out.append(
        Hostile(
            "nul_byte_queue_log",
            QUEUE_LOG,
            "pbx/pbx_east/queue_log/nul",
            data,
            rows=[
                (1, "pbx_east", "1772953200", "NONE", "+15550102345"),
                (3, "pbx_east", "1772953202", "NONE", "+15550102345"),
            ],
            quarantined={2: f"a NUL byte (0x00) at byte offset {offset_of(data, 2, NUL)}"},
        )
    )
    data = jsonl(call("N1"), raw_in_json(call("N2", customer_name="A~B"), "~", "\x00"), call("N3"))
    out.append(
        Hostile(
            "nul_byte_json",
            CALLRAIL,
            "tracking/callrail/nul.jsonl",
            data,
            rows=[(1, "N1", None, None), (3, "N3", None, None)],
            quarantined={2: f"a NUL byte (0x00) at byte offset {offset_of(data, 2, NUL)}"},
        )
    )

    # -- a UTF-8 byte-order mark ----------------------------------------------------------------
    out.append(
        Hostile(
            "bom_callrail_csv",  # as Excel saves it: a BOM and CRLF
            CALLRAIL,
            "tracking/callrail/bom.csv",
            BOM
            + lines(
                "id,start_time,direction,company_id,customer_name",
                "B1,2026-03-09T10:00:00-05:00,inbound,COM1,José Núñez",
                "B2,2026-03-09T10:05:00-05:00,inbound,COM1,",
                end="\r\n",
            ),
            rows=[(2, "B1", "José Núñez", "José Núñez"), (3, "B2", "", "")],
        )
    )
    out.append(
        Hostile(
            "bom_json_lines",
            PAYMENTS,
            "pos/square/payments/bom.jsonl",
            BOM + jsonl(payment("BP1"), payment("BP2", amount=250)),
            rows=[(1, "BP1", "1000", "USD"), (2, "BP2", "250", "USD")],
        )
    )
    bom_page = _page([call("BJ1"), call("BJ2")], 1, 100, 2, indent=2)
    out.append(
        Hostile(
            "bom_json_page",  # pretty-printed: each call starts 7 lines after the last
            CALLRAIL,
            "tracking/callrail/bom_page.json",
            BOM + bom_page.encode(),
            rows=[
                (call_line(bom_page, "BJ1"), "BJ1", None, None),
                (call_line(bom_page, "BJ2"), "BJ2", None, None),
            ],
        )
    )
    out.append(
        Hostile(
            "bom_queue_log",
            QUEUE_LOG,
            "pbx/pbx_east/queue_log/bom",
            BOM + lines(event(1772953300), event(1772953301)),
            rows=[
                (1, "pbx_east", "1772953300", "NONE", "+15550102345"),
                (2, "pbx_east", "1772953301", "NONE", "+15550102345"),
            ],
        )
    )
    out.append(
        Hostile(
            "bom_cdr",  # COPY: the BOM must not end up in accountcode
            CDR,
            "pbx/pbx_east/cdr/bom.csv",
            BOM + lines(cdr("2.1"), cdr("2.2")),
            rows=[(1, "2.1", PAT, ""), (2, "2.2", PAT, "")],
        )
    )
    out.append(
        Hostile(
            "bom_cdr_careful_path",  # a bad line: the careful path drops the BOM too
            CDR,
            "pbx/pbx_east/cdr/bom_careful.csv",
            BOM + lines(cdr("3.1"), cdr("3.2", extra=("x", "y", "z", "w"))),
            rows=[(1, "3.1", PAT, "")],
            quarantined={2: "expected 21 fields, found 25"},
        )
    )

    # -- a CallRail page cut short --------------------------------------------------------------
    calls = [call(f"T{i:03d}", customer_name=f"Caller {i}") for i in range(480)]
    page = _page(calls, 1, 480, 480)
    out.append(
        Hostile(
            "truncated_page",  # the generator's layout: one line, the figures first
            CALLRAIL,
            "tracking/callrail/calls_2026-03-09_p1.json",
            page[: page.rindex('"Caller 479"') + 5].encode(),
            rows=[(1, f"T{i:03d}", f"Caller {i}", f"Caller {i}") for i in range(479)],
            quarantined={1: "the page is cut short or broken here: Unterminated string"},
            unreadable=1,
        )
    )
    calls = [call(f"P{i}", customer_name=f"Caller {i}") for i in range(10)]
    page = _page(calls, 1, 10, 15, indent=2)
    cut = page.index('"P6"') + 40  # inside the seventh call
    out.append(
        Hostile(
            "truncated_pretty_page",  # 10 announced, 6 complete: 4 could not be read
            CALLRAIL,
            "tracking/callrail/pretty_p1.json",
            page[:cut].encode(),
            rows=[
                (call_line(page, f"P{i}"), f"P{i}", f"Caller {i}", f"Caller {i}") for i in range(6)
            ],
            quarantined={call_line(page, "P6"): "the page is cut short or broken here"},
            unreadable=4,
        )
    )
    one_line_pages = _page([call("L1"), call("L2")], 1, 2, 4) + "\n"
    one_line_pages += _page([call("L3"), call("L4")], 2, 2, 4)[:-30] + "\n"
    out.append(
        Hostile(
            "truncated_page_in_json_lines",  # page 2 of a file of one-line pages is cut
            CALLRAIL,
            "tracking/callrail/pages.jsonl",
            one_line_pages.encode(),
            rows=[(1, "L1", None, None), (1, "L2", None, None), (2, "L3", None, None)],
            quarantined={2: "the page is cut short or broken here"},
            unreadable=1,
        )
    )

    # -- line separators str.splitlines knows, inside a value -----------------------------------
    records = [
        raw_in_json(call(f"S{i}", customer_name="Ann~Lee"), "~", sep)
        for i, sep in enumerate(SEPARATORS)
    ]
    out.append(
        Hostile(
            "separators_json_lines",
            CALLRAIL,
            "tracking/callrail/separators.jsonl",
            jsonl(*records, '{"id": "S8", "start_time": ', call("S9")),
            rows=[
                *(
                    (i + 1, f"S{i}", f"Ann{sep}Lee", f"Ann{sep}Lee")
                    for i, sep in enumerate(SEPARATORS)
                ),
                (10, "S9", None, None),
            ],
            quarantined={9: "invalid JSON"},
        )
    )
    clids = [f'"Ann{sep}Lee" <+15550102345>' for sep in SEPARATORS]
    out.append(
        Hostile(
            "separators_cdr",  # COPY
            CDR,
            "pbx/pbx_east/cdr/separators.csv",
            lines(*(cdr(f"4.{i}", clid=clid) for i, clid in enumerate(clids))),
            rows=[(i + 1, f"4.{i}", clid, "") for i, clid in enumerate(clids)],
        )
    )
    out.append(
        Hostile(
            "separators_cdr_careful_path",
            CDR,
            "pbx/pbx_east/cdr/separators_careful.csv",
            lines(*(cdr(f"5.{i}", clid=clid) for i, clid in enumerate(clids)), "bad", cdr("5.9")),
            rows=[
                *((i + 1, f"5.{i}", clid, "") for i, clid in enumerate(clids)),
                (10, "5.9", PAT, ""),
            ],
            quarantined={9: "expected 21 fields, found 1"},
        )
    )
    out.append(
        Hostile(
            "separators_queue_log",
            QUEUE_LOG,
            "pbx/pbx_east/queue_log/separators",
            lines(
                *(event(1772953400 + i, data2=f"Ann{sep}Lee") for i, sep in enumerate(SEPARATORS)),
                "1772953500|only|three",
                event(1772953501),
            ),
            rows=[
                *(
                    (i + 1, "pbx_east", str(1772953400 + i), "NONE", f"Ann{sep}Lee")
                    for i, sep in enumerate(SEPARATORS)
                ),
                (10, "pbx_east", "1772953501", "NONE", "+15550102345"),
            ],
            quarantined={9: "expected 5 to 10 '|'-separated fields, found 3"},
        )
    )
    out.append(
        Hostile(
            "separators_callrail_csv",
            CALLRAIL,
            "tracking/callrail/separators.csv",
            lines(
                "id,start_time,direction,company_id,customer_name",
                *(
                    f"SC{i},2026-03-09T10:00:00Z,inbound,COM1,Ann{sep}Lee"
                    for i, sep in enumerate(SEPARATORS)
                ),
                "SC8,2026-03-09T10:00:00Z,inbound",
                "SC9,2026-03-09T10:00:00Z,inbound,COM1,",
            ),
            rows=[
                *(
                    (i + 2, f"SC{i}", f"Ann{sep}Lee", f"Ann{sep}Lee")
                    for i, sep in enumerate(SEPARATORS)
                ),
                (11, "SC9", "", ""),
            ],
            quarantined={10: "expected 5 fields as in the header, found 3"},
        )
    )

    # -- encodings ------------------------------------------------------------------------------
    jose = '"José" <+15550102345>'
    zoe = '"Zoë" <+15550102345>'
    out.append(
        Hostile(
            "latin1_cdr_pbx_without_encoding",  # UTF-8, and a Latin-1 line read as Latin-1
            CDR,
            "pbx/pbx_east/cdr/latin1.csv",
            cdr("6.1", clid=jose).encode("latin-1") + b"\n" + lines(cdr("6.2", clid=zoe)),
            rows=[(1, "6.1", jose, ""), (2, "6.2", zoe, "")],
            latin1=1,
        )
    )
    out.append(
        Hostile(
            "latin1_queue_log_pbx_without_encoding",
            QUEUE_LOG,
            "pbx/pbx_east/queue_log/latin1",
            lines(event(1772953600, data2="José"), encoding="latin-1")
            + lines(event(1772953601, data2="Zoë")),
            rows=[
                (1, "pbx_east", "1772953600", "NONE", "José"),
                (2, "pbx_east", "1772953601", "NONE", "Zoë"),
            ],
            latin1=1,
        )
    )
    out.append(
        Hostile(
            "latin1_cdr_pbx_declared_latin1",  # decoded as declared: not counted
            CDR,
            "pbx/pbx_latin/cdr/Master.csv",
            lines(cdr("7.1", clid=jose), cdr("7.2", clid='"Ñandú" <+1>'), encoding="latin-1"),
            rows=[(1, "7.1", jose, ""), (2, "7.2", '"Ñandú" <+1>', "")],
        )
    )
    data = lines(cdr("8.1", clid='"Café €5" <+1>'), encoding="cp1252") + lines(
        cdr("8.2", clid='"Bad \x81" <+1>'), encoding="latin-1"
    )
    out.append(
        Hostile(
            "cp1252_cdr_with_an_undefined_byte",
            CDR,
            "pbx/pbx_cp1252/cdr/Master.csv",
            data,
            rows=[(1, "8.1", '"Café €5" <+1>', "")],
            quarantined={
                2: "not valid cp1252: byte 0x81 at byte offset "
                f"{offset_of(data, 2, UNDEFINED_IN_CP1252)}"
            },
        )
    )
    data = lines(cdr("9.1", clid=zoe)) + lines(cdr("9.2", clid=jose), encoding="latin-1")
    out.append(
        Hostile(
            "latin1_cdr_pbx_declared_utf8",  # declared: no fallback
            CDR,
            "pbx/pbx_utf8/cdr/Master.csv",
            data,
            rows=[(1, "9.1", zoe, "")],
            quarantined={
                2: f"not valid UTF-8: byte 0xE9 at byte offset {offset_of(data, 2, E_ACUTE)}"
            },
        )
    )
    data = jsonl(
        {"id": "CL1", "given_name": "Zoë"}
    ) + '{"id": "CL2", "given_name": "José"}\n'.encode("latin-1")
    out.append(
        Hostile(
            "latin1_square_customer",  # JSON is UTF-8: refused with the byte and its offset
            CUSTOMERS,
            "pos/square/customers/latin1.jsonl",
            data + jsonl({"id": "CL3", "given_name": "Ann"}),
            rows=[(1, "CL1", "Zoë", "Zoë"), (3, "CL3", "Ann", "Ann")],
            quarantined={
                2: f"not valid UTF-8: byte 0xE9 at byte offset {offset_of(data, 2, E_ACUTE)}"
            },
        )
    )
    page = _page([call("LP1"), call("LP2", customer_name="Jos~"), call("LP3")], 1, 3, 3, indent=2)
    data = page.encode().replace(b"~", b"\xe9")
    out.append(
        Hostile(
            "latin1_in_a_page",  # one call refused, the others load
            CALLRAIL,
            "tracking/callrail/latin1_page.json",
            data,
            rows=[
                (call_line(page, "LP1"), "LP1", None, None),
                (call_line(page, "LP3"), "LP3", None, None),
            ],
            quarantined={
                call_line(
                    page, "LP2"
                ): f"not valid UTF-8: byte 0xE9 at byte offset {data.find(E_ACUTE)} of the file"
            },
        )
    )

    # -- value rules ----------------------------------------------------------------------------
    out.append(
        Hostile(
            "square_payment_rules",
            PAYMENTS,
            "pos/square/payments/rules.jsonl",
            jsonl(
                payment("R1"),
                payment("R2", amount=-500),
                payment("R3", currency="EUR"),
                payment("R4", tip_money={"amount": -1, "currency": "USD"}),
                payment("R5", total_money={"amount": -5, "currency": "USD"}),
                payment("R6", refunded_money={"amount": 100, "currency": "CAD"}),
                payment("R7", refunded_money={"amount": -100, "currency": "USD"}),
                payment("R8", amount=0, tip_money={"amount": 0, "currency": "USD"}),
            ),
            rows=[(1, "R1", "1000", "USD"), (8, "R8", "0", "USD")],
            quarantined={
                2: "field 'amount_money_amount': '-500' is below zero",
                3: "field 'amount_money_currency': 'EUR' is not USD",
                4: "field 'tip_money_amount': '-1' is below zero",
                5: "field 'total_money_amount': '-5' is below zero",
                6: "field 'refunded_money_currency': 'CAD' is not USD",
                7: "field 'refunded_money_amount': '-100' is below zero",
            },
        )
    )
    out.append(
        Hostile(
            "square_refund_rules",
            REFUNDS,
            "pos/square/refunds/rules.jsonl",
            jsonl(refund("F1"), refund("F2", amount=-500), refund("F3", currency="EUR")),
            rows=[(1, "F1", "500", "USD")],
            quarantined={
                2: "field 'amount_money_amount': '-500' is below zero",
                3: "field 'amount_money_currency': 'EUR' is not USD",
            },
        )
    )

    # -- what else Python reads and Postgres does not -------------------------------------------
    out.append(
        Hostile(
            "json_values_postgres_refuses",
            CALLRAIL,
            "tracking/callrail/unstorable.jsonl",
            jsonl(
                '{"id": "U1", "start_time": "2026-03-09T09:15:02Z", "direction": "inbound", '
                '"company_id": "COM1", "value": NaN}',
                '{"id": "U2", "start_time": "2026-03-09T09:15:02Z", "direction": "inbound", '
                '"company_id": "COM1", "customer_name": "\\ud800"}',
                '{"id": "U3", "start_time": "2026-03-09T09:15:02Z", "direction": "inbound", '
                '"company_id": "COM1", "customer_name": "\\ud83d\\ude00"}',
                '{"id": "U4", "start_time": "2026-03-09T09:15:02Z", "direction": "inbound", '
                '"company_id": "COM1", "value": 1e-99999}',
            ),
            rows=[(3, "U3", "\U0001f600", "\U0001f600")],
            quarantined={
                1: "field 'value': NaN is not a JSON value",
                2: "field 'customer_name' contains an unpaired surrogate \\ud800",
                4: "field 'value': the number 1e-99999 is beyond the range",
            },
        )
    )
    out.append(
        Hostile(
            "cdr_value_the_server_refuses",  # an ISO week date: Python reads it, Postgres not
            CDR,
            "pbx/pbx_east/cdr/week_date.csv",
            lines(cdr("10.1"), cdr("10.2", start="2026-W10-1T10:00:00"), cdr("10.3")),
            rows=[(1, "10.1", PAT, ""), (3, "10.3", PAT, "")],
            quarantined={2: "refused by Postgres: invalid input syntax for type timestamp"},
        )
    )

    # -- extras: empty, garbage, CRLF, columns in another order, too many columns --------------
    for table, path in (
        (CALLRAIL, "tracking/callrail/empty.csv"),
        (CDR, "pbx/pbx_east/cdr/empty.csv"),
        (QUEUE_LOG, "pbx/pbx_east/queue_log/empty"),
        (PAYMENTS, "pos/square/payments/empty.jsonl"),
    ):
        out.append(Hostile(f"empty_{path.replace('/', '_')}", table, path, b""))
    out.append(Hostile("only_a_bom", CALLRAIL, "tracking/callrail/only_bom.json", BOM + b"\r\n"))
    for seed, (table, path) in enumerate(
        (
            (CALLRAIL, "tracking/callrail/garbage.json"),
            (CALLRAIL, "tracking/callrail/garbage.csv"),
            (CDR, "pbx/pbx_east/cdr/garbage.csv"),
            (CDR, "pbx/pbx_latin/cdr/garbage.csv"),
            (QUEUE_LOG, "pbx/pbx_east/queue_log/garbage"),
            (CUSTOMERS, "pos/square/customers/garbage.jsonl"),
        )
    ):
        out.append(
            Hostile(
                f"garbage_{path.replace('/', '_')}", table, path, garbage(seed), quarantined=None
            )
        )
    out.append(
        Hostile(
            "crlf_cdr",
            CDR,
            "pbx/pbx_east/cdr/crlf.csv",
            lines(cdr("11.1"), cdr("11.2"), end="\r\n"),
            rows=[(1, "11.1", PAT, ""), (2, "11.2", PAT, "")],
        )
    )
    out.append(
        Hostile(
            "crlf_cdr_careful_path",
            CDR,
            "pbx/pbx_east/cdr/crlf_careful.csv",
            lines(cdr("12.1"), "bad", cdr("12.2"), end="\r\n"),
            rows=[(1, "12.1", PAT, ""), (3, "12.2", PAT, "")],
            quarantined={2: "expected 21 fields, found 1"},
        )
    )
    out.append(
        Hostile(
            "crlf_queue_log",  # the last field keeps no \r
            QUEUE_LOG,
            "pbx/pbx_east/queue_log/crlf",
            lines("1772953700|1772953198.1|q|NONE|ENTERQUEUE||x", event(1772953701), end="\r\n"),
            rows=[
                (1, "pbx_east", "1772953700", "NONE", "x"),
                (2, "pbx_east", "1772953701", "NONE", "+15550102345"),
            ],
        )
    )
    out.append(
        Hostile(
            "crlf_json_lines",
            CUSTOMERS,
            "pos/square/customers/crlf.jsonl",
            lines(json.dumps({"id": "CR1", "given_name": "Ann"}), "{broken", end="\r\n"),
            rows=[(1, "CR1", "Ann", "Ann")],
            quarantined={2: "invalid JSON"},
        )
    )
    out.append(
        Hostile(
            "callrail_csv_columns_in_another_order",
            CALLRAIL,
            "tracking/callrail/reordered.csv",
            lines(
                "customer_name,speaker_percent,company_id,direction,start_time,id",
                "Ann Lee,12,COM1,inbound,2026-03-09T10:00:00Z,O1",
                '"Lee, Ann",7,COM1,inbound,2026-03-09T10:01:00Z,O2',
            ),
            rows=[(2, "O1", "Ann Lee", "Ann Lee"), (3, "O2", "Lee, Ann", "Lee, Ann")],
        )
    )
    out.append(
        Hostile(
            "cdr_25_columns",
            CDR,
            "pbx/pbx_east/cdr/wide.csv",
            lines(cdr("13.1"), cdr("13.2", extra=("a", "b", "c", "d")), cdr("13.3")),
            rows=[(1, "13.1", PAT, ""), (3, "13.3", PAT, "")],
            quarantined={2: "expected 21 fields, found 25"},
        )
    )
    return out


CORPUS = _corpus()
