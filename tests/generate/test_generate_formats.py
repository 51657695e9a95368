"""The landing files are in the vendor formats of docs/sources.md."""

from __future__ import annotations

import csv
import json
import re
from pathlib import Path

from tests.generate.gen_readers import (
    CDR_COLUMNS,
    QUEUE_EVENTS,
    callrail_records,
    cdr_rows,
    channel_role,
    e164,
)

LAYOUT = (
    "tracking/callrail",
    "pbx/pbx_east/cdr",
    "pbx/pbx_east/queue_log",
    "pbx/pbx_west/cdr",
    "pbx/pbx_west/queue_log",
    "pos/square/payments",
    "pos/square/refunds",
    "pos/square/customers",
    "crm/hubspot/contacts",
    "crm/hubspot/deals",
)
STAMP = re.compile(r"^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}$")


def _declared(out: Path) -> set[tuple[str, int | None]]:
    path = out / "answer_key" / "defects.json"
    if not path.exists():
        return set()
    return {(d["file"], d["line"]) for d in json.loads(path.read_text())["defects"]}


def test_landing_layout_has_several_files_per_folder(small_out: Path) -> None:
    for folder in LAYOUT:
        files = sorted((small_out / "landing" / folder).iterdir())
        assert len(files) >= 3, folder


def test_every_cdr_line_has_21_fields_and_valid_times(small_out: Path) -> None:
    for path in sorted((small_out / "landing" / "pbx").glob("*/cdr/*")):
        with path.open(newline="", encoding="utf-8") as fh:
            for n, row in enumerate(csv.reader(fh), start=1):
                assert len(row) == 21, (path.name, n)
                rec = dict(zip(CDR_COLUMNS, row, strict=True))
                assert STAMP.match(rec["start"]) and STAMP.match(rec["end"]), (path.name, n)
                assert rec["answer"] == "" or STAMP.match(rec["answer"])
                assert rec["disposition"] in {
                    "ANSWERED",
                    "NO ANSWER",
                    "BUSY",
                    "FAILED",
                    "CONGESTION",
                }
                assert int(rec["duration"]) >= int(rec["billsec"]) >= 0
                assert re.match(r"^\d{10}\.\d+$", rec["uniqueid"])


def test_cdr_fields_are_all_double_quoted(small_out: Path) -> None:
    path = sorted((small_out / "landing" / "pbx").glob("*/cdr/*"))[0]
    for line in path.read_text().splitlines()[:200]:
        assert line.startswith('"') and line.endswith('"')


def test_cdr_legs_share_the_trunk_linkedid(small_out: Path) -> None:
    """Every record's linkedid is the uniqueid of a call's first channel; the caller's trunk
    channel's own record (no dstchannel) is answered by the PBX at once, in both flavours."""
    for pbx_id, rows in cdr_rows(small_out / "landing").items():
        uids = {r["uniqueid"] for r in rows}
        own = 0
        for r in rows:
            assert r["linkedid"] in uids
            if channel_role(r["channel"]) == "trunk" and r["dstchannel"] == "":
                assert r["uniqueid"] == r["linkedid"]
                assert r["disposition"] == "ANSWERED" and r["answer"] == r["start"]
                own += 1
        assert own > 100, pbx_id


def test_queue_log_events_are_known(small_out: Path) -> None:
    for path in sorted((small_out / "landing" / "pbx").glob("*/queue_log/*")):
        for n, line in enumerate(path.read_text().splitlines(), start=1):
            fields = line.split("|")
            assert len(fields) >= 5 and fields[0].isdigit(), (path.name, n)
            assert fields[4] in QUEUE_EVENTS, (path.name, n, fields[4])


def test_every_json_line_parses(small_out: Path) -> None:
    landing = small_out / "landing"
    for path in sorted(landing.rglob("*.jsonl")):
        for line in path.read_text().splitlines():
            json.loads(line)
    for path in sorted(landing.rglob("*.json")):
        page = json.loads(path.read_text())
        assert {"calls", "page", "total_pages"} <= set(page)


def test_callrail_fields(small_out: Path) -> None:
    records = callrail_records(small_out / "landing")
    assert records
    for r in records:
        assert r["id"].startswith("CAL") and len(r["id"]) == 35
        caller = r["customer_phone_number"]
        # E.164, or a withheld caller id as the carrier sent it (inbound only)
        withheld = caller is None or len(re.sub(r"\D", "", caller)) < 10
        assert re.match(r"^\+1\d{10}$", caller or "") or (withheld and r["direction"] == "inbound")
        assert re.match(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}[+-]\d\d:\d\d$", r["start_time"])
        assert r["direction"] in {"inbound", "outbound"}
        assert isinstance(r["tags"], list)
    ids = [r["id"] for r in records]
    assert len(ids) == len(set(ids))


def test_square_payment_money_is_integer_cents(small_out: Path) -> None:
    for path in sorted((small_out / "landing" / "pos" / "square" / "payments").iterdir()):
        for line in path.read_text().splitlines():
            p = json.loads(line)
            assert isinstance(p["amount_money"]["amount"], int)
            assert p["amount_money"]["currency"] == "USD"
            tip = p.get("tip_money", {"amount": 0})["amount"]
            assert p["total_money"]["amount"] == p["amount_money"]["amount"] + tip
            assert p["status"] in {"COMPLETED", "CANCELED", "FAILED", "APPROVED"}
            assert p["created_at"].endswith("Z")


def test_square_customers_phone_formats_vary(small_out: Path) -> None:
    phones = []
    for path in sorted((small_out / "landing" / "pos" / "square" / "customers").iterdir()):
        phones += [json.loads(x).get("phone_number") for x in path.read_text().splitlines()]
    typed = [p for p in phones if p]
    assert any("ext" in p for p in typed)
    assert any(p.startswith("+44") for p in typed) or len(typed) < 50
    assert len({re.sub(r"\d", "9", p) for p in typed}) >= 6
    assert sum(e164(p) is not None for p in typed) > 0.8 * len(typed)


def test_hubspot_objects(small_out: Path) -> None:
    folder = small_out / "landing" / "crm" / "hubspot"
    contacts = {}
    for path in sorted((folder / "contacts").iterdir()):
        for line in path.read_text().splitlines():
            c = json.loads(line)
            assert all(v is None or isinstance(v, str) for v in c["properties"].values())
            contacts[c["id"]] = c
    for path in sorted((folder / "deals").iterdir()):
        for line in path.read_text().splitlines():
            d = json.loads(line)
            props = d["properties"]
            assert isinstance(props["amount"], str)
            assert props["hs_is_closed_won"] in {"true", "false"}
            assert props["dealstage"] in {"closedwon", "closedlost"}
            assert (props["dealstage"] == "closedwon") == (props["hs_is_closed_won"] == "true")
            for assoc in d["associations"]["contacts"]["results"]:
                assert assoc["type"] == "deal_to_contact"
                assert assoc["id"] in contacts
