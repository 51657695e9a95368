"""CallRail and the PBX describe the same calls: numbers, times and time zones line up."""

from __future__ import annotations

import datetime as dt
import itertools
from collections import Counter, defaultdict
from pathlib import Path

import pytest

from callshrink.generate import generate
from tests.generate.gen_readers import Reference, callrail_records, e164, pbx_calls, read_csv


@pytest.fixture(scope="module")
def dst_out(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Six locations over the 2026-03-08 US daylight-saving change."""
    out = tmp_path_factory.mktemp("gen_dst")
    generate(
        out, locations=6, days=4, start=dt.date(2026, 3, 6), seed=3, calls_per_location_day=50.0
    )
    return out


def _trunks(out: Path) -> dict[tuple[str, str], list[dt.datetime]]:
    """Start of each inbound PBX call by (caller, dialled number): the first record of the
    caller's trunk channel; the dialled number from the queue_log DID event (FreePBX) or the
    trunk records' dst (plain dialplan, and FreePBX calls that never reached a queue)."""
    starts = defaultdict(list)
    for call in pbx_calls(out):
        if call.kind == "inbound":
            starts[(e164(call.first["src"]), call.dialled)].append(call.start)
    return starts


def test_every_tracked_pbx_call_has_a_trunk_leg_0_to_5_s_later(dst_out: Path) -> None:
    ref = Reference.load(dst_out / "reference")
    pbx_locs = {loc for (system, _), loc in ref.crosswalk.items() if system == "pbx_did"}
    trunks = _trunks(dst_out)
    matched: Counter = Counter()
    for r in callrail_records(dst_out / "landing"):
        loc = ref.crosswalk[("callrail_company", r["company_id"])]
        if loc not in pbx_locs or r["direction"] != "inbound":
            continue
        start = dt.datetime.fromisoformat(r["start_time"])
        gaps = [
            (t - start).total_seconds()
            for t in trunks[(r["customer_phone_number"], r["business_phone_number"])]
        ]
        assert any(0 <= g <= 5 for g in gaps), r["id"]
        matched[loc] += 1
    # both flavours: loc_01, 02, 06 on the FreePBX, loc_04, 05 on the plain dialplan
    assert set(matched) == {"loc_01", "loc_02", "loc_04", "loc_05", "loc_06"}
    assert min(matched.values()) > 20


def test_callrail_offsets_follow_dst(dst_out: Path) -> None:
    offsets = defaultdict(set)
    for r in callrail_records(dst_out / "landing"):
        offsets[r["company_time_zone"]].add(r["start_time"][-6:])
    assert offsets["America/New_York"] == {"-05:00", "-04:00"}
    assert offsets["America/Phoenix"] == {"-07:00"}


def test_some_callers_dial_the_business_number_directly(dst_out: Path) -> None:
    calls = read_csv(dst_out / "answer_key" / "calls.csv")
    pbx_inbound = [c for c in calls if c["direction"] == "inbound" and c["pbx_linkedid"]]
    untracked = [c for c in pbx_inbound if not c["callrail_id"]]
    assert 0.15 < len(untracked) / len(pbx_inbound) < 0.5


def test_pbx_locations_are_answered_in_callrail(dst_out: Path) -> None:
    ref = Reference.load(dst_out / "reference")
    pbx_locs = {loc for (system, _), loc in ref.crosswalk.items() if system == "pbx_did"}
    for r in callrail_records(dst_out / "landing"):
        loc = ref.crosswalk[("callrail_company", r["company_id"])]
        if loc in pbx_locs and r["direction"] == "inbound":
            assert r["answered"] is True and r["call_type"] == "answered"


def test_calls_of_one_caller_rarely_start_within_120_s(dst_out: Path) -> None:
    """Redials come at least 130 s after a call ends; only independent chains of one caller
    may (rarely) come closer, and then CallRail's 0-5 s lead still picks the right leg."""
    starts = defaultdict(list)
    for c in read_csv(dst_out / "answer_key" / "calls.csv"):
        if c["caller_e164"] and c["direction"] == "inbound":
            at = dt.datetime.fromisoformat(c["start_utc"].replace("Z", "+00:00"))
            starts[(c["caller_e164"], c["location_id"])].append(at)
    close = total = 0
    for series in starts.values():
        series.sort()
        total += len(series)
        close += sum((b - a).total_seconds() <= 120 for a, b in itertools.pairwise(series))
    assert close <= 0.005 * total
