"""A misconfigured warehouse says what is wrong, and a PBX nobody generated is read right.

One pipeline run, in a database of its own, over generated demo exports plus the files of a
third PBX written here by hand, and a reference folder with two mistakes a user makes:
- the row of pbx_west is missing from pbx_systems (its files load, but none of its calls can
  be read without its time zone);
- loc_01's pbx_did and pbx_queue rows are missing from location_crosswalk (pbx_east cannot
  place loc_01's calls CallRail did not track).
The end of `callshrink run` and `callshrink doctor` must name pbx_west, loc_01's number
+16175550100 and its queue 4010, and the dbt tests of the data health marts must warn.

The hand-written PBX, pbx_lab, is laid out like neither generated flavour (an Asterisk whose
phones are named after people, alice and bob, chan_sip, a trunk SIP/voipms-..., contexts
from-did-direct and default, no queue: a Dial ring group with a 20 s timeout, and the dialled
number stored by its dialplan in the CDR userfield). Its pbx_systems row says so; its six
calls must come out as worked out below by hand.
"""

from __future__ import annotations

import csv
import datetime as dt
import os
from collections.abc import Iterator
from pathlib import Path
from zoneinfo import ZoneInfo

import psycopg
import pytest

from callshrink import cli
from callshrink.generate import generate
from callshrink.pipeline import PipelineResult, run_pipeline
from tests.conftest import own_database

DATABASE = "callshrink_health"
LAB_TZ = ZoneInfo("America/Chicago")
LAB_DID = "+13125550199"
LAB_DAY = dt.date(2026, 2, 25)  # a Wednesday inside the generated week


@pytest.fixture(scope="module")
def module_monkeypatch() -> Iterator[pytest.MonkeyPatch]:
    with pytest.MonkeyPatch.context() as patch:
        yield patch


@pytest.fixture(scope="module")
def health_url(
    server_url: str,
    tmp_path_factory: pytest.TempPathFactory,
    module_monkeypatch: pytest.MonkeyPatch,
) -> Iterator[str]:
    tmp = tmp_path_factory.mktemp("health")
    yield from own_database(server_url, DATABASE, tmp, module_monkeypatch)


class Lab:
    """Writes pbx_lab's cdr-csv records: 21 quoted columns, local Chicago times."""

    def __init__(self) -> None:
        self.lines: list[str] = []
        self.sequence = 0
        self.counter = 5000

    def uid(self, at: dt.datetime) -> str:
        self.counter += 1
        return f"{int(at.timestamp())}.{self.counter}"

    def record(self, **f: str | dt.datetime | None) -> None:
        self.sequence += 1
        start, end = f["start"], f["end"]
        answer = f.get("answer")
        billsec = int((end - answer).total_seconds()) if answer else 0
        stamp = "%Y-%m-%d %H:%M:%S"
        values = [
            "",
            f["src"],
            f["dst"],
            f["dcontext"],
            f.get("clid", ""),
            f["channel"],
            f.get("dstchannel", ""),
            f["lastapp"],
            f["lastdata"],
            start.strftime(stamp),
            answer.strftime(stamp) if answer else "",
            end.strftime(stamp),
            str(int((end - start).total_seconds())),
            str(billsec),
            f["disposition"],
            "DOCUMENTATION",
            f["uniqueid"],
            f.get("userfield", ""),
            "",
            f["linkedid"],
            str(self.sequence),
        ]
        self.lines.append(",".join('"' + v.replace('"', '""') + '"' for v in values))


def _at(hour: int, minute: int, second: int = 0) -> dt.datetime:
    return dt.datetime.combine(LAB_DAY, dt.time(hour, minute, second), tzinfo=LAB_TZ)


def _ring_group(
    lab: Lab, caller: str, start: dt.datetime, rang: int, answered_by: str | None
) -> dict:
    """An inbound call to Dial(SIP/alice&SIP/bob,20): one record per phone rung. Returns the
    fields of the caller's channel."""
    trunk = f"SIP/voipms-{lab.counter:08x}"
    linked = lab.uid(start)
    common = {
        "src": caller,
        "dst": "s",
        "dcontext": "from-did-direct",
        "clid": f'"LAB CALLER" <{caller}>',
        "channel": trunk,
        "lastapp": "Dial",
        "lastdata": "SIP/alice&SIP/bob,20",
        "uniqueid": linked,
        "linkedid": linked,
        "userfield": LAB_DID,
        "start": start,
    }
    for phone, suffix in (("alice", "a"), ("bob", "b")):
        picked = phone == answered_by
        lab.record(
            **common,
            dstchannel=f"SIP/{phone}-0000{suffix}{lab.counter:03x}",
            answer=start + dt.timedelta(seconds=rang) if picked else None,
            end=start + dt.timedelta(seconds=rang + (170 if picked else 0)),
            disposition="ANSWERED" if picked else "NO ANSWER",
        )
    return common


def _from_phone(
    lab: Lab,
    phone: str,
    ext: str,
    dialled: str,
    target: str,
    start: dt.datetime,
    ring: int,
    end: int,
) -> None:
    """A call a phone places (context default): its own channel and linkedid."""
    uid = lab.uid(start)
    lab.counter += 1
    lab.record(
        src=ext,
        dst=dialled,
        dcontext="default",
        clid=f'"{phone.title()}" <{ext}>',
        channel=f"SIP/{phone}-{lab.counter:08x}",
        dstchannel=f"{target}-{lab.counter + 1:08x}",
        lastapp="Dial",
        lastdata=f"{target}/{dialled},60",
        start=start,
        answer=start + dt.timedelta(seconds=ring),
        end=start + dt.timedelta(seconds=end),
        disposition="ANSWERED",
        uniqueid=uid,
        linkedid=uid,
    )


def write_lab_pbx(landing: Path) -> None:
    lab = Lab()
    # 1 answered by alice after 8 s of ringing
    _ring_group(lab, "3125557001", _at(10, 0), 8, "alice")
    # 2 rang the whole 20 s Dial timeout, nobody, no voicemail: missed
    _ring_group(lab, "3125557002", _at(10, 10), 20, None)
    # 3 the caller hung up after 12 s of ringing: abandoned
    _ring_group(lab, "3125557003", _at(10, 20), 12, None)
    # 4 rang out, then voicemail took a message on the caller's channel: voicemail
    common = _ring_group(lab, "3125557004", _at(10, 30), 20, None)
    lab.record(
        **{**common, "lastapp": "VoiceMail", "lastdata": "100@default,u"},
        answer=_at(10, 30, 20),
        end=_at(10, 30, 50),
        disposition="ANSWERED",
    )
    # 5 bob calls caller 2 back from context default, over the trunk: a callback
    _from_phone(lab, "bob", "202", "13125557002", "SIP/voipms", _at(10, 40), 9, 180)
    # 6 alice calls bob: an internal call, nobody's call
    _from_phone(lab, "alice", "201", "202", "SIP/bob", _at(11, 0), 4, 120)
    folder = landing / "pbx" / "pbx_lab" / "cdr"
    folder.mkdir(parents=True)
    (folder / "Master.csv").write_text("\n".join(lab.lines) + "\n")


def _rewrite(path: Path, keep, extra: list[list[str]]) -> None:
    with path.open() as handle:
        rows = list(csv.reader(handle))
    kept = [rows[0]] + [row for row in rows[1:] if keep(row)] + extra
    with path.open("w", newline="") as handle:
        csv.writer(handle, lineterminator="\n").writerows(kept)


def misconfigure(reference: Path) -> None:
    _rewrite(
        reference / "pbx_systems.csv",
        lambda row: row[0] != "pbx_west",
        [["pbx_lab", "America/Chicago", "^SIP/[a-z]+-[0-9a-f]+$", "^SIP/voipms-", "userfield"]],
    )
    _rewrite(
        reference / "location_crosswalk.csv",
        lambda row: row[0] not in ("pbx_did", "pbx_queue") or row[2] != "loc_01",
        [["pbx_did", LAB_DID, "loc_lab"]],
    )
    _rewrite(
        reference / "locations.csv",
        lambda row: True,
        [["loc_lab", "Lab Street", "Midwest", "America/Chicago", "2020-01-01", ""]],
    )
    _rewrite(
        reference / "business_hours.csv",
        lambda row: True,
        [["loc_lab", str(day), "07:00", "20:00"] for day in range(1, 8)],
    )


@pytest.fixture(scope="module")
def health_run(health_url: str, tmp_path_factory: pytest.TempPathFactory) -> PipelineResult:
    out = tmp_path_factory.mktemp("health_data")
    generate(out, locations=4, days=7, seed=5, calls_per_location_day=60.0)
    write_lab_pbx(out / "landing")
    misconfigure(out / "reference")
    os.environ["CALLSHRINK_LANDING_DIR"] = str(out / "landing")  # own_database restores both
    os.environ["CALLSHRINK_REFERENCE_DIR"] = str(out / "reference")
    result = run_pipeline(quiet=True)
    assert result.success, result.summary()
    return result


def test_the_run_ends_naming_each_misconfiguration(health_run: PipelineResult):
    lines = health_run.health
    summary = health_run.summary()
    assert any("pbx_west" in line and "pbx_systems" in line for line in lines), summary
    assert any("+16175550100" in line and "pbx_east" in line for line in lines), summary
    assert any("4010" in line and "pbx_east" in line for line in lines), summary
    assert "data health" in summary
    # the PBX nobody generated is described by its row: nothing to say about it
    assert not any(line.split(":")[0].endswith("pbx_lab") for line in lines), lines


def test_doctor_prints_the_table_and_the_same_problems(health_run, capsys):
    assert cli.main(["doctor"]) == 1
    out = capsys.readouterr().out
    assert "pbx_west" in out and "pbx_systems" in out
    assert "+16175550100" in out and "4010" in out
    table = out.split("\n\n")[0]
    assert "loc_lab" in table and "pbx_lab" in table


def test_the_data_health_flags_and_dbt_warnings(health_run, health_url: str):
    with psycopg.connect(health_url) as conn:
        flags = {
            (row[0], row[1]): row[2:]
            for row in conn.execute(
                "select pbx_id, location_id, is_pbx_unconfigured, is_unplaced_share_high, "
                "is_stitch_share_low, has_unknown_channels from marts.data_health"
            )
        }
    assert flags[("pbx_west", None)][0] is True
    assert flags[("pbx_east", None)][1] is True
    assert flags[("pbx_lab", None)] == (False, False, False, False)
    assert not any(row[2] for row in flags.values())  # stitching still holds everywhere
    # the dbt tests of severity warn on the data health marts, as the run reports them
    warned = "\n".join(health_run.warned_checks)
    assert "data_health_is_pbx_unconfigured" in warned, health_run.summary()
    assert "data_health_is_unplaced_share_high" in warned, health_run.summary()
    assert "expression_holds_pbx_names" in warned, health_run.summary()
    assert not health_run.failed_checks, health_run.summary()


def test_a_pbx_nobody_generated_is_read_as_its_row_says(health_run, health_url: str):
    with psycopg.connect(health_url) as conn:
        calls = conn.execute(
            "select caller_phone_e164, direction, outcome, dialled_phone_e164, wait_seconds, "
            "is_recovered, recovered_by, location_id from marts.calls "
            "join restricted.caller_numbers using (call_id, started_at, direction, location_id) "
            "where pbx_call_id like 'pbx_lab:%' order by started_at"
        ).fetchall()
        internal = conn.execute(
            "select call_id, leg_type from marts.call_legs "
            "where pbx_id = 'pbx_lab' and channel like 'SIP/alice-%'"
        ).fetchall()
    assert calls == [
        ("+13125557001", "inbound", "answered", LAB_DID, 8, False, None, "loc_lab"),
        ("+13125557002", "inbound", "missed", LAB_DID, 20, True, "callback", "loc_lab"),
        ("+13125557003", "inbound", "abandoned", LAB_DID, 12, False, None, "loc_lab"),
        ("+13125557004", "inbound", "voicemail", LAB_DID, 50, False, None, "loc_lab"),
        ("+13125557002", "outbound", None, None, None, False, None, "loc_lab"),
    ]
    assert internal == [(None, "internal")]
