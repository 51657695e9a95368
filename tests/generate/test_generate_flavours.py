"""The two PBX flavours: pbx_east writes as FreePBX does, pbx_west as a plain hand-written
dialplan; both as Asterisk 12+ writes CDRs (uniqueid = the record's channel's, linkedid = the
call's). Read from the landing files, checked against the answer key."""

from __future__ import annotations

import csv
import json
import re
from collections import Counter, defaultdict
from functools import cache
from pathlib import Path

import pytest

from callshrink.generate import core, generate, pbx
from callshrink.generate.reference import FREEPBX, PBXS, PLAIN, location
from tests.generate.gen_readers import (
    PbxCall,
    Reference,
    callrail_records,
    cdr_rows,
    channel_role,
    pbx_calls,
    queue_events,
    read_csv,
)

GREETING = 3
HEX = "[0-9a-f]{8}"
CHANNELS = {
    "pbx_east": re.compile(
        rf"^(PJSIP/telnyx-(in|out)-{HEX}|PJSIP/\d{{3,4}}-{HEX}|Local/\d{{3,4}}@from-queue-{HEX};[12])$"
    ),
    "pbx_west": re.compile(rf"^(SIP/provider-{HEX}|SIP/\d{{3,4}}-{HEX})$"),
}
INTERNAL_CONTEXT = {"pbx_east": "from-internal", "pbx_west": "from-sip-phones"}
UUID = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")


@cache
def _pbx_calls(out: Path) -> dict[tuple[str, str], PbxCall]:
    return {(c.pbx_id, c.linkedid): c for c in pbx_calls(out)}


@cache
def _key_calls(out: Path) -> list[dict[str, str]]:
    return read_csv(out / "answer_key" / "calls.csv")


def _pbx_of(out: Path) -> dict[str, str]:
    """location_id -> pbx_id, from the crosswalk's pbx_queue rows."""
    ref = Reference.load(out / "reference")
    return {
        loc: ext.split(":")[0] for (sys, ext), loc in ref.crosswalk.items() if sys == "pbx_queue"
    }


def _queue_of(out: Path) -> dict[str, str]:
    """location_id -> its queue's name."""
    ref = Reference.load(out / "reference")
    return {
        loc: ext.split(":")[1] for (sys, ext), loc in ref.crosswalk.items() if sys == "pbx_queue"
    }


def _inbound(out: Path, pbx_id: str) -> list[tuple[dict[str, str], PbxCall]]:
    """(calls.csv row, its PBX call) of every inbound call of ``pbx_id``."""
    pbx_of, calls = _pbx_of(out), _pbx_calls(out)
    return [
        (row, calls[(pbx_id, row["pbx_linkedid"])])
        for row in _key_calls(out)
        if row["direction"] == "inbound" and pbx_of.get(row["location_id"]) == pbx_id
    ]


def _ext_of(channel: str) -> str:
    return re.match(r"^[A-Za-z0-9]+/(\d+)", channel).group(1)


# -- both flavours ---------------------------------------------------------------------------
def test_reference_describes_both_flavours(small_out: Path) -> None:
    ref = small_out / "reference"
    assert PBXS[0].flavour == FREEPBX and PBXS[0].greeting_seconds == GREETING
    assert PBXS[1].flavour == PLAIN and PBXS[1].greeting_seconds == 0
    systems = read_csv(ref / "pbx_systems.csv")
    assert list(systems[0]) == [
        "pbx_id",
        "timezone",
        "phone_channel_pattern",
        "trunk_channel_pattern",
        "dialled_number_from",
        "encoding",
    ]
    assert [
        (r["pbx_id"], r["phone_channel_pattern"], r["trunk_channel_pattern"]) for r in systems
    ] == [
        ("pbx_east", "", ""),
        ("pbx_west", "", ""),
    ]
    assert all(r["dialled_number_from"] == r["encoding"] == "" for r in systems)
    ring = {r["location_id"]: r["forward_ring_seconds"] for r in read_csv(ref / "locations.csv")}
    assert ring == {"loc_01": "", "loc_02": "", "loc_03": "28", "loc_04": ""}
    queues = {
        r["external_id"]
        for r in read_csv(ref / "location_crosswalk.csv")
        if r["system"] == "pbx_queue"
    }
    assert queues == {"pbx_east:4010", "pbx_east:4020", "pbx_west:loc_04_front"}
    assert location(12).queue == "4120"
    esc = {r["pbx_id"]: r["queuename"] for r in read_csv(ref / "escalation_queues.csv")}
    assert esc == {"pbx_east": "4999", "pbx_west": "tier2"}


def test_channel_names_follow_each_flavour(small_out: Path) -> None:
    for pbx_id, rows in cdr_rows(small_out / "landing").items():
        for r in rows:
            for channel in (r["channel"], r["dstchannel"]):
                assert channel == "" or CHANNELS[pbx_id].match(channel), (pbx_id, channel)
            # a Local pair: the queue dials ;1, the ;2 half dials the phone
            assert not r["dstchannel"].endswith(";2") and not r["channel"].endswith(";1")
    east = {r["channel"].split("-")[0] for r in cdr_rows(small_out / "landing")["pbx_east"]}
    assert "PJSIP/telnyx" in east and any(c.startswith("Local/") for c in east)


def test_trunk_channel_records_carry_the_linkedid_as_uniqueid(small_out: Path) -> None:
    for pbx_id, rows in cdr_rows(small_out / "landing").items():
        per_call = Counter()
        for r in rows:
            role = channel_role(r["channel"])
            if role == "trunk":
                assert r["uniqueid"] == r["linkedid"], (pbx_id, r)
                per_call[r["linkedid"]] += 1
            elif role == "local":  # the ;2 half has a uniqueid of its own
                assert r["uniqueid"] != r["linkedid"] and re.match(r"^\d{10}\.\d+$", r["uniqueid"])
            else:  # a phone placing a call: its own uniqueid is the call's linkedid
                assert r["uniqueid"] == r["linkedid"], (pbx_id, r)
        # several records of one trunk channel share the uniqueid, told apart by sequence
        assert max(per_call.values()) >= 3
        sequences = [int(r["sequence"]) for r in rows]
        assert len(set(sequences)) == len(sequences)


def test_cdr_and_queue_log_files_are_in_time_order(small_out: Path) -> None:
    """Rows stream out in end order (internal calls included) and events in time order."""
    for path in sorted((small_out / "landing" / "pbx").glob("*/cdr/*")):
        with path.open(newline="") as fh:
            ends = [row[11] for row in csv.reader(fh)]
        assert ends == sorted(ends), path.name
    for path in sorted((small_out / "landing" / "pbx").glob("*/queue_log/*")):
        epochs = [int(line.split("|")[0]) for line in path.read_text().splitlines()]
        assert epochs == sorted(epochs), path.name


def test_rendering_in_small_chunks_gives_the_same_files(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Calls are rendered and flushed a chunk at a time; internal calls fall between them
    (and after the last call of a day) and must still come out in place."""
    args = {"locations": 4, "days": 3, "seed": 2, "calls_per_location_day": 20.0}
    generate(tmp_path / "a", **args)
    monkeypatch.setattr(core, "CHUNK", 1)
    generate(tmp_path / "b", **args)
    for p in sorted((tmp_path / "a").rglob("*")):
        if p.is_file():
            assert p.read_bytes() == (tmp_path / "b" / p.relative_to(tmp_path / "a")).read_bytes()


def test_attended_transfer_consult_call_has_its_own_linkedid(small_out: Path) -> None:
    calls = _pbx_calls(small_out)
    listed = {
        (r["pbx_id"], r["linkedid"]): r
        for r in read_csv(small_out / "answer_key" / "pbx_internal_calls.csv")
    }
    internal_by_target = defaultdict(list)
    for c in calls.values():
        if c.kind == "internal":
            internal_by_target[(c.pbx_id, c.first["dstchannel"])].append(c)
    seen = Counter()
    for pbx_id in ("pbx_east", "pbx_west"):
        for row, call in _inbound(small_out, pbx_id):
            if row["transfer"] != "agent":
                continue
            xfer = call.event("ATTENDEDTRANSFER")
            connect = call.event("CONNECT")
            assert xfer and xfer[5] == "BRIDGE" and UUID.match(xfer[6]), row["call_key"]
            at = int(xfer[0])
            after = [
                r
                for r in call.records
                if channel_role(r["channel"]) == "trunk"
                and r["dstchannel"]
                and call.epoch(r["start"]) == at
                and r["answer"] == r["start"]
            ]
            assert len(after) == 1 and after[0]["lastapp"] == "Queue"
            (consult,) = internal_by_target[(pbx_id, after[0]["dstchannel"])]
            rec = consult.first
            assert rec["uniqueid"] == rec["linkedid"] != call.linkedid
            assert rec["dcontext"] == INTERNAL_CONTEXT[pbx_id] and rec["lastapp"] == "Dial"
            assert rec["src"] == _ext_of(connect[3]) and rec["dst"] == _ext_of(rec["dstchannel"])
            assert rec["clid"].endswith(f"<{rec['src']}>")
            assert int(connect[0]) <= call.epoch(rec["start"]) < call.epoch(rec["answer"]) <= at
            assert call.epoch(rec["end"]) == at
            # the agent who answered hung up at the transfer
            answered = [
                r
                for r in call.records
                if r["disposition"] == "ANSWERED"
                and r["answer"]
                and call.epoch(r["answer"]) == int(connect[0])
                and r["dstchannel"]
            ]
            assert answered and all(call.epoch(r["end"]) == at for r in answered)
            entry = listed[(pbx_id, consult.linkedid)]
            assert entry["kind"] == "consult" and entry["call_key"] == row["call_key"]
            assert entry["location_id"] == row["location_id"]
            seen[pbx_id] += 1
    assert seen["pbx_east"] > 0 and seen["pbx_west"] > 0


def test_internal_calls_are_listed_and_are_not_calls(small_out: Path) -> None:
    ref = Reference.load(small_out / "reference")
    listed = read_csv(small_out / "answer_key" / "pbx_internal_calls.csv")
    assert list(listed[0]) == ["pbx_id", "linkedid", "kind", "call_key", "location_id"]
    in_files = {
        (c.pbx_id, c.linkedid) for c in _pbx_calls(small_out).values() if c.kind == "internal"
    }
    assert {(r["pbx_id"], r["linkedid"]) for r in listed} == in_files
    linked_in_key = {r["pbx_linkedid"] for r in _key_calls(small_out) if r["pbx_linkedid"]}
    assert not {r["linkedid"] for r in listed} & linked_in_key
    transferred = {r["call_key"] for r in _key_calls(small_out) if r["transfer"] == "agent"}
    kinds = Counter((r["pbx_id"], r["kind"]) for r in listed)
    assert kinds[("pbx_east", "internal")] > 0 and kinds[("pbx_west", "internal")] > 0
    for r in listed:
        call = _pbx_calls(small_out)[(r["pbx_id"], r["linkedid"])]
        rec = call.first
        assert len(call.records) == 1 and rec["dcontext"] == INTERNAL_CONTEXT[r["pbx_id"]]
        assert f"loc_{int(rec['src'][:-2]):02d}" == r["location_id"]
        assert rec["src"][:-2] == rec["dst"][:-2] and rec["src"] != rec["dst"]
        if r["kind"] == "consult":
            assert r["call_key"] in transferred
            continue
        assert r["call_key"] == "" and ref.is_open(r["location_id"], call.start)
        if rec["disposition"] == "NO ANSWER":
            assert 15 <= int(rec["duration"]) <= 25 and rec["answer"] == ""
        else:
            assert rec["disposition"] == "ANSWERED" and 20 <= int(rec["billsec"]) <= 300
    summary = json.loads((small_out / "answer_key" / "summary.json").read_text())
    per_loc = Counter((r["location_id"], r["kind"]) for r in listed)
    for loc, v in summary["locations"].items():
        assert v["internal_calls"] == per_loc[(loc, "internal")], loc
        assert v["consult_calls"] == per_loc[(loc, "consult")], loc
    assert summary["locations"]["loc_03"]["internal_calls"] == 0
    assert summary["total"]["internal_calls"] == sum(
        n for (_, k), n in per_loc.items() if k == "internal"
    )
    assert summary["total"]["consult_calls"] == len(transferred & {r["call_key"] for r in listed})


def test_callbacks_use_the_flavours_outbound_context(small_out: Path) -> None:
    pbx_of, calls = _pbx_of(small_out), _pbx_calls(small_out)
    seen = Counter()
    for row in _key_calls(small_out):
        pbx_id = pbx_of.get(row["location_id"])
        if row["direction"] != "outbound" or pbx_id is None:
            continue
        call = calls[(pbx_id, row["pbx_linkedid"])]
        rec = call.first
        assert call.kind == "outbound" and len(call.records) == 1
        assert rec["uniqueid"] == rec["linkedid"] == row["pbx_linkedid"]
        assert rec["lastapp"] == "Dial" and channel_role(rec["channel"]) == "phone"
        national = row["caller_e164"][2:]
        if pbx_id == "pbx_east":
            assert rec["dcontext"] == "from-internal" and rec["dst"] == national
            assert rec["dstchannel"].startswith("PJSIP/telnyx-out-")
        else:
            assert rec["dcontext"] == "from-sip-phones" and rec["dst"] == "1" + national
            assert rec["dstchannel"].startswith("SIP/provider-")
        seen[pbx_id] += 1
    assert seen["pbx_east"] > 0 and seen["pbx_west"] > 0


def test_escalation_member_follows_the_flavour(small_out: Path) -> None:
    seen = Counter()
    for pbx_id, esc in (("pbx_east", "4999"), ("pbx_west", "tier2")):
        for row, call in _inbound(small_out, pbx_id):
            if row["transfer"] != "escalation":
                continue
            blind = call.event("BLINDTRANSFER")
            assert blind and blind[5] == esc and blind[6] == INTERNAL_CONTEXT[pbx_id]
            (connect,) = [e for e in call.events if e[4] == "CONNECT" and e[2] == esc]
            legs = [r for r in call.records if r["lastdata"].startswith(f"{esc},")]
            assert len(legs) == 1 and legs[0]["channel"] == call.first["channel"]
            leg = legs[0]
            assert leg["lastapp"] == "Queue" and leg["uniqueid"] == call.linkedid
            if pbx_id == "pbx_east":
                assert connect[3].startswith("Local/900") and connect[3].endswith("@from-queue/n")
                assert leg["dst"] == esc and leg["dcontext"] == "ext-queues"
                local = leg["dstchannel"][:-2]
                (half,) = [r for r in call.records if r["channel"] == local + ";2"]
                assert half["dstchannel"].startswith(f"PJSIP/{_ext_of(connect[3])}-")
            else:
                assert connect[3] == f"SIP/{_ext_of(leg['dstchannel'])}"
                assert leg["dst"] == call.dialled[2:] and leg["dcontext"] == "inbound"
            seen[pbx_id] += 1
    assert seen["pbx_east"] > 0 and seen["pbx_west"] > 0


def test_voicemail_records_follow_the_flavour(small_out: Path) -> None:
    seen = Counter()
    for pbx_id in ("pbx_east", "pbx_west"):
        for row, call in _inbound(small_out, pbx_id):
            vm = [r for r in call.records if r["lastapp"] == "VoiceMail"]
            if row["outcome"] not in ("voicemail", "after_hours") or not vm:
                continue
            (rec,) = vm
            mailbox = f"{int(row['location_id'][4:])}00"
            assert rec["channel"] == call.first["channel"] and rec["uniqueid"] == call.linkedid
            after_hours = row["outcome"] == "after_hours"
            if pbx_id == "pbx_east":
                assert rec["lastdata"] == f"{mailbox}@default,u"
                if after_hours:  # never reached a queue: the DID, 10 digits
                    assert (rec["dcontext"], rec["dst"]) == ("from-pstn", call.dialled[2:])
                else:
                    assert (rec["dcontext"], rec["dst"]) == ("ext-local", f"vmu{mailbox}")
            else:
                assert rec["lastdata"] == f"{mailbox}@default"
                assert (rec["dcontext"], rec["dst"]) == ("inbound", call.dialled[2:])
            seen[(pbx_id, after_hours)] += 1
    assert len(seen) == 4


# -- FreePBX ---------------------------------------------------------------------------------
def test_freepbx_queue_call_records(small_out: Path) -> None:
    queue_of = _queue_of(small_out)
    n_answered = n_rings = 0
    for row, call in _inbound(small_out, "pbx_east"):
        enter = call.event("ENTERQUEUE")
        if enter is None:
            continue
        queue = queue_of[row["location_id"]]
        assert enter[2] == queue
        did = call.event("DID")
        assert did == [enter[0], call.linkedid, queue, "NONE", "DID", row_did(small_out, row)]
        assert call.events.index(did) < call.events.index(enter)
        own = call.first
        assert own["dstchannel"] == "" and own["lastapp"] == "Queue"
        assert own["dst"] == queue and own["dcontext"] == "ext-queues"
        assert own["lastdata"].startswith(f"{queue},t,,,") and own["lastdata"].endswith(",,,,,")
        halves = {r["channel"]: r for r in call.records if r["channel"].startswith("Local/")}
        firsts = [r for r in call.records if r["dstchannel"].startswith("Local/")]
        assert len(firsts) == len(halves)
        for one in firsts:
            assert one["channel"] == own["channel"] and one["dst"] in (queue, "4999")
            two = halves[one["dstchannel"][:-1] + "2"]
            for col in ("start", "answer", "end", "disposition", "linkedid"):
                assert one[col] == two[col], col
            ext = _ext_of(one["dstchannel"])
            assert (two["lastapp"], two["dcontext"], two["dst"]) == ("Dial", "macro-dial-one", "s")
            assert two["dstchannel"].startswith(f"PJSIP/{ext}-")
            assert two["lastdata"].startswith(f"PJSIP/{ext}/sip:{ext}@10.20.0.")
            assert two["src"] == own["src"] and two["uniqueid"] != call.linkedid
        # a ring that ran out (RINGNOANSWER) or that the caller's leaving cut short
        # (RINGCANCELED): one event per unanswered attempt
        rna = [e for e in call.events if e[4] in ("RINGNOANSWER", "RINGCANCELED")]
        no_answer = [r for r in firsts if r["disposition"] == "NO ANSWER"]
        assert sorted(e[3] for e in rna) == sorted(
            f"Local/{_ext_of(r['dstchannel'])}@from-queue/n" for r in no_answer
        )
        n_rings += len(rna)
        connect = call.event("CONNECT")
        if connect:
            assert re.match(r"^Local/\d+@from-queue/n$", connect[3])
            # the bridged uniqueid is the answering Local ;1 channel's: its own, from when it
            # was created, neither the trunk's nor the ;2 half's
            (one,) = [
                r
                for r in firsts
                if r["answer"] and call.epoch(r["answer"]) == int(connect[0]) and r["dst"] == queue
            ]
            two = halves[one["dstchannel"][:-1] + "2"]
            assert connect[6] not in (call.linkedid, two["uniqueid"])
            assert connect[6].split(".")[0] == str(call.epoch(one["start"]))
            assert int(connect[7]) == int(connect[0]) - call.epoch(one["start"])
            n_answered += 1
    assert n_answered > 50 and n_rings > 10


def row_did(out: Path, row: dict[str, str]) -> str:
    ref = Reference.load(out / "reference")
    numbers = [
        n
        for (sys, n), loc in ref.crosswalk.items()
        if sys == "pbx_did" and loc == row["location_id"]
    ]
    return numbers[0][2:]


def test_freepbx_queue_clock_starts_after_the_greeting(small_out: Path) -> None:
    seen = Counter()
    for row, call in _inbound(small_out, "pbx_east"):
        t, wait = int(call.start.timestamp()), int(row["wait_seconds"])
        enter = call.event("ENTERQUEUE")
        if enter is None and call.first["lastapp"] == "VoiceMail":
            continue  # after hours: straight to voicemail
        if enter is None:  # hung up during the greeting
            assert wait < GREETING and row["outcome"] in ("short_abandon", "spam")
            assert call.events == [] and len(call.records) == 1
            rec = call.first
            assert rec["lastapp"] == "Playback" and rec["dcontext"] == "from-pstn"
            assert rec["lastdata"] == f"custom/greeting-{row['location_id'].replace('_', '')}"
            assert rec["dst"] == row_did(small_out, row) and int(rec["duration"]) == wait
            seen["greeting"] += 1
            continue
        assert int(enter[0]) == t + GREETING and call.event("DID")[0] == enter[0]
        members = [r for r in call.records if r["dstchannel"].startswith("Local/")]
        assert all(call.epoch(r["start"]) >= t + GREETING for r in members)
        connect = call.event("CONNECT")
        if connect:
            assert int(connect[0]) == t + wait
            assert int(connect[5]) == wait - GREETING == int(connect[0]) - int(enter[0])
            done = [e for e in call.events if e[2] == enter[2] and e[4].startswith("COMPLETE")]
            assert all(int(e[5]) == wait - GREETING for e in done)
            seen["connect"] += 1
        for name in ("ABANDON", "EXITWITHTIMEOUT", "EXITWITHKEY"):
            e = call.event(name)
            if e:
                assert int(e[0]) == t + wait and int(e[-1]) == wait - GREETING, name
                seen[name] += 1
    assert seen["greeting"] > 0 and seen["connect"] > 0 and seen["ABANDON"] > 0
    assert seen["EXITWITHTIMEOUT"] + seen["EXITWITHKEY"] > 0


# -- plain dialplan --------------------------------------------------------------------------
def test_plain_queue_call_records_and_ringall(small_out: Path) -> None:
    assert not [e for e in queue_events(small_out / "landing")["pbx_west"] if e[4] == "DID"]
    agents = {loc: len(location(int(loc[4:])).extensions) for loc in ("loc_04",)}
    rounds = answer_rounds = 0
    for row, call in _inbound(small_out, "pbx_west"):
        t, wait = int(call.start.timestamp()), int(row["wait_seconds"])
        for r in call.records:
            assert r["dst"] == call.dialled[2:] == row_did(small_out, row)
            assert r["dcontext"] == "inbound"
        enter = call.event("ENTERQUEUE")
        if enter is None:
            continue
        assert int(enter[0]) == t  # no greeting: the queue clock is the call's
        members = [
            r
            for r in call.records
            if channel_role(r["dstchannel"]) == "phone" and r["lastdata"].startswith("loc_")
        ]
        by_start = defaultdict(list)
        for r in members:
            by_start[r["start"]].append(r)
        rna = Counter(int(e[0]) for e in call.events if e[4] in ("RINGNOANSWER", "RINGCANCELED"))
        cancelled = {int(e[0]) for e in call.events if e[4] == "RINGCANCELED"}
        connect = call.event("CONNECT")
        for start, group in by_start.items():
            answered = [r for r in group if r["disposition"] == "ANSWERED"]
            if answered and (not connect or call.epoch(answered[0]["answer"]) != int(connect[0])):
                continue  # the leg after an attended transfer
            size = len(group)
            assert 2 <= size <= min(3, agents[row["location_id"]] - 1), (row["call_key"], size)
            assert len({_ext_of(r["dstchannel"]) for r in group}) == size  # different phones
            if answered:  # the round that was answered: the others stop ringing then
                assert (
                    len(answered) == 1 and connect[3] == f"SIP/{_ext_of(answered[0]['dstchannel'])}"
                )
                others = [r for r in group if r is not answered[0]]
                assert all(
                    r["end"] == answered[0]["answer"] and r["disposition"] == "NO ANSWER"
                    for r in others
                )
                assert int(connect[5]) == wait and int(connect[0]) == t + wait
                answer_rounds += 1
            else:
                end = call.epoch(group[0]["end"])
                assert all(r["end"] == group[0]["end"] for r in group)
                rang = end - call.epoch(start)
                assert (rang == 15 or (end in cancelled and rang < 15)) and rna[end] == size
                rounds += 1
        assert sum(rna.values()) == sum(
            1
            for r in members
            if r["disposition"] == "NO ANSWER"
            and (not connect or call.epoch(r["end"]) != int(connect[0]))
        )
    assert rounds > 5 and answer_rounds > 50


# -- the location without a PBX --------------------------------------------------------------
def test_no_pbx_location_outcomes_follow_metrics_not_callrail(small_out: Path) -> None:
    """A hang-up after the short-abandon threshold but before the mobile's voicemail took
    the call is abandoned, though CallRail calls it missed from 15 s on."""
    ring = location(3).forward_ring_seconds
    rail = {r["id"]: r for r in callrail_records(small_out / "landing")}
    rows = [
        r
        for r in _key_calls(small_out)
        if r["location_id"] == "loc_03" and r["direction"] == "inbound"
    ]
    seen = Counter()
    for r in rows:
        wait, cr = int(r["wait_seconds"]), rail[r["callrail_id"]]
        if r["outcome"] == "abandoned":
            assert 10 <= wait < ring and cr["duration"] == wait
            assert cr["call_type"] == ("abandoned" if wait < 15 else "missed")
            seen["abandoned_callrail_missed" if wait >= 15 else "abandoned"] += 1
        elif r["outcome"] == "missed":  # rang until the mobile's voicemail took it
            assert wait == ring and cr["call_type"] == "missed" and cr["duration"] == ring
            seen["missed"] += 1
        elif r["outcome"] == "voicemail":
            assert cr["call_type"] == "voicemail"
    assert seen["abandoned_callrail_missed"] > 0 and seen["missed"] > 0
    outcomes = {
        x["outcome"]: int(x["calls"])
        for x in read_csv(small_out / "answer_key" / "outcomes_by_location.csv")
        if x["location_id"] == "loc_03"
    }
    assert outcomes["abandoned"] == sum(r["outcome"] == "abandoned" for r in rows)
    assert outcomes["missed"] == sum(r["outcome"] == "missed" for r in rows)


# -- the answer key --------------------------------------------------------------------------
def test_queue_figures_are_on_the_queue_clock(small_out: Path) -> None:
    """summary.json's queue figures recounted from queue_log: CONNECT holdtime and ABANDON
    waittime, which in FreePBX start after the greeting."""
    summary = json.loads((small_out / "answer_key" / "summary.json").read_text())
    for loc, pbx_id in (("loc_01", "pbx_east"), ("loc_02", "pbx_east"), ("loc_04", "pbx_west")):
        holds, late_abandoned, abandoned, waits = [], 0, 0, []
        for row, call in _inbound(small_out, pbx_id):
            if row["location_id"] != loc:
                continue
            if row["outcome"] == "answered":
                holds.append(int(call.event("CONNECT")[5]))
                waits.append(int(row["wait_seconds"]))
            elif row["outcome"] == "abandoned":
                abandoned += 1
                late_abandoned += int(call.event("ABANDON")[-1]) > 20
        q = summary["locations"][loc]["queue"]
        assert q["answered"] == len(holds) and q["abandoned"] == abandoned
        assert q["average_speed_of_answer_seconds"] == round(sum(holds) / len(holds), 3)
        within = sum(h <= 20 for h in holds)
        assert q["service_level_20s"] == round(within / (len(holds) + late_abandoned), 6)
        shift = GREETING if pbx_id == "pbx_east" else 0
        assert sum(waits) - sum(holds) == shift * len(holds)


def test_rendering_has_its_own_random_stream(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Rendering with another stream, more draws per call and twice the internal calls
    changes the PBX files but not a single call, outcome or amount of money: the simulation
    never draws from the rendering generator, nor the rendering from the simulation's."""
    args = {"locations": 4, "days": 3, "seed": 9, "calls_per_location_day": 40.0}
    generate(tmp_path / "a", **args)
    monkeypatch.setattr(core, "RENDER_STREAM", core.RENDER_STREAM + 1)
    monkeypatch.setattr(core, "RENDER_DRAWS", core.RENDER_DRAWS + 3)
    monkeypatch.setattr(pbx, "INTERNAL_CALLS_PER_DAY", 2 * pbx.INTERNAL_CALLS_PER_DAY)
    generate(tmp_path / "b", **args)

    def calls(root: Path) -> list[list[str]]:
        with (root / "answer_key" / "calls.csv").open() as fh:
            rows = list(csv.reader(fh))
        drop = rows[0].index("pbx_linkedid")  # uids count the rendered channels too
        return [r[:drop] + r[drop + 1 :] for r in rows]

    assert calls(tmp_path / "a") == calls(tmp_path / "b")
    for name in ("outcomes_by_location.csv", "revenue_by_location_day.csv", "lost_revenue.csv"):
        assert (tmp_path / "a" / "answer_key" / name).read_bytes() == (
            tmp_path / "b" / "answer_key" / name
        ).read_bytes()
    for folder in ("tracking", "pos", "crm"):
        for p in sorted((tmp_path / "a" / "landing" / folder).rglob("*.*")):
            q = tmp_path / "b" / p.relative_to(tmp_path / "a")
            assert p.read_bytes() == q.read_bytes(), p
    internal = [
        Counter(r["kind"] for r in read_csv(root / "answer_key" / "pbx_internal_calls.csv"))
        for root in (tmp_path / "a", tmp_path / "b")
    ]
    assert internal[0]["consult"] == internal[1]["consult"]
    assert internal[1]["internal"] > 1.4 * internal[0]["internal"]
