"""--drift: documented process changes from a local day on, listed in answer_key/drifts.json.

The truth (answer_key/calls.csv) and the PBX files must move the way drifts.json says from the
drift's local day on and not before; a data set without drifts is unchanged.
"""

from __future__ import annotations

import argparse
import csv
import datetime as dt
import json
from collections import defaultdict
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from callshrink.generate import cli, drift, generate

from .test_generate_determinism import tree_hash

ARGS = {"locations": 5, "days": 16, "seed": 11, "calls_per_location_day": 120.0}
DAY = ARGS["days"] - 7  # the default set's day: the last week (later than days // 2)
START = dt.date(2026, 2, 23)  # DEFAULT_START
SPLIT = START + dt.timedelta(days=DAY)


@pytest.fixture(scope="module")
def pair(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """(without drifts, with the default drifts), same seed."""
    base = tmp_path_factory.mktemp("drift")
    generate(base / "plain", **ARGS)
    generate(base / "drift", drifts=True, **ARGS)
    return base / "plain", base / "drift"


# -- parsing and validation ------------------------------------------------------------------
IDS = ["loc_01", "loc_02", "loc_03", "loc_04"]
PBX = [True, True, False, True]


def _resolve(items: object, days: int = 10) -> list[drift.Drift]:
    return drift.resolve(items, IDS, PBX, START, days)


def test_parse_accepts_index_date_and_aliases() -> None:
    got = _resolve(["ring-time:4:3", "callbacks_stop:loc_03:2026-02-25"])
    assert got == [
        drift.Drift("callbacks_stop", "loc_03", 2),
        drift.Drift("ring_time", "loc_04", 3),
    ]


def test_default_set_is_three_kinds_at_three_pbx_locations() -> None:
    got = _resolve(True, days=10)
    assert [(d.kind, d.location_id, d.day) for d in got] == [
        ("staffing_drop", "loc_01", 5),
        ("ring_time", "loc_02", 5),
        ("callbacks_stop", "loc_04", 5),
    ]
    assert _resolve("default", days=10) == got
    # a longer data set: the last week
    assert {d.day for d in _resolve(True, days=42)} == {35}
    assert _resolve(None) == _resolve(False) == _resolve([]) == []


@pytest.mark.parametrize(
    ("items", "message"),
    [
        (["slow_phones:loc_01:3"], "unknown kind 'slow_phones'"),
        (["ring_time:loc_01"], "expected KIND:LOCATION:DAY"),
        (["ring_time:front:3"], "bad location 'front'"),
        (["ring_time:loc_01:soon"], "bad day 'soon'"),
        (["ring_time:loc_09:3"], "location loc_09 does not exist"),
        (["staffing_drop:loc_03:3"], "location loc_03 has no PBX, which staffing_drop needs"),
        (["ring_time:loc_03:3"], "location loc_03 has no PBX, which ring_time needs"),
        (["ring_time:loc_01:10"], "day 10 is outside the data set"),
        (["ring_time:loc_01:0"], "day 0 is outside the data set"),
        (["ring_time:loc_01:2026-01-01"], "2026-01-01 (day -53) is outside the data set"),
        (["ring_time:loc_01:3", "ring_time:loc_01:5"], "a second ring_time at loc_01"),
        (["default", "ring_time:loc_01:3"], "cannot be combined"),
    ],
)
def test_bad_drifts_name_the_bad_part(items: list[str], message: str) -> None:
    with pytest.raises(drift.DriftError) as err:
        _resolve(items)
    assert message in str(err.value)


def test_default_set_needs_three_pbx_locations() -> None:
    with pytest.raises(drift.DriftError, match="needs 3 locations with a PBX"):
        drift.resolve(True, IDS[:3], PBX[:3], START, 10)


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser()
    cli.configure_parser(parser)
    return parser


def test_cli_option_syntax(capsys: pytest.CaptureFixture[str]) -> None:
    p = _parser()
    assert p.parse_args(["--out", "x"]).drift is None
    assert p.parse_args(["--out", "x", "--drift"]).drift == ["default"]
    two = p.parse_args(
        ["--out", "x", "--drift", "ring_time:loc_02:3", "--drift", "callbacks_stop:3:4"]
    )
    assert [(s.kind, s.location_id, s.day) for s in two.drift] == [
        ("ring_time", "loc_02", 3),
        ("callbacks_stop", "loc_03", 4),
    ]
    with pytest.raises(SystemExit) as refused:
        p.parse_args(["--out", "x", "--drift", "bogus:loc_01:3"])
    assert refused.value.code == 2
    assert (
        capsys.readouterr()
        .err.strip()
        .endswith(
            "error: argument --drift: drift 'bogus:loc_01:3': unknown kind 'bogus' "
            "(kinds: staffing_drop, ring_time, callbacks_stop)"
        )
    )
    assert "staffing_drop" in p.format_help() and "callbacks_stop" in p.format_help()


def test_cli_rejects_a_location_before_writing(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    args = _parser().parse_args(
        [
            *("--out", str(tmp_path), "--locations", "4", "--days", "3", "--no-progress"),
            *("--drift", "staffing_drop:loc_03:1"),
        ]
    )
    assert cli.run(args) == 2
    assert "loc_03 has no PBX, which staffing_drop needs" in capsys.readouterr().err
    assert not (tmp_path / "landing").exists()


# -- what the drifts do -----------------------------------------------------------------------
def _calls(out: Path) -> list[dict[str, str]]:
    with (out / "reference" / "locations.csv").open() as fh:
        tz = {r["location_id"]: ZoneInfo(r["timezone"]) for r in csv.DictReader(fh)}
    with (out / "answer_key" / "calls.csv").open() as fh:
        rows = list(csv.DictReader(fh))
    for r in rows:
        t = dt.datetime.fromisoformat(r["start_utc"].replace("Z", "+00:00"))
        r["after"] = t.astimezone(tz[r["location_id"]]).date() >= SPLIT
    return rows


def _rates(rows: list[dict]) -> dict[tuple[str, bool], dict[str, float]]:
    """Per (location, after the split): answer rate, mean wait of answered calls, recovery
    rate of missed opportunities, outbound callbacks."""
    n: dict[tuple[str, bool], dict[str, float]] = defaultdict(lambda: defaultdict(float))
    for r in rows:
        s = n[(r["location_id"], r["after"])]
        if r["direction"] == "outbound":
            s["callbacks"] += 1
            continue
        if r["outcome"] in ("answered", "voicemail", "abandoned", "missed"):
            s["offered"] += 1
            if r["outcome"] == "answered":
                s["answered"] += 1
                s["wait"] += int(r["wait_seconds"])
        if r["is_missed_opportunity"] == "true":
            s["opps"] += 1
            s["recovered"] += r["recovered_by_call_key"] != ""
    return {
        k: {
            "answer_rate": s["answered"] / s["offered"],
            "asa": s["wait"] / s["answered"],
            "recovery": s["recovered"] / s["opps"],
            "callbacks": s["callbacks"],
        }
        for k, s in n.items()
    }


def test_drifts_json_and_summary(pair: tuple[Path, Path]) -> None:
    plain, drifted = pair
    assert not (plain / "answer_key" / "drifts.json").exists()
    assert "drifts" not in json.loads((plain / "answer_key" / "summary.json").read_text())
    doc = json.loads((drifted / "answer_key" / "drifts.json").read_text())
    got = [(d["kind"], d["location_id"], d["first_local_day"]) for d in doc["drifts"]]
    want = [
        ("staffing_drop", "loc_01", SPLIT.isoformat()),
        ("ring_time", "loc_02", SPLIT.isoformat()),
        ("callbacks_stop", "loc_04", SPLIT.isoformat()),
    ]
    assert got == want
    drop, ring, stop = doc["drifts"]
    assert all(h["after"] == h["before"] // 2 for h in drop["hours"])
    assert drop["agent_hours_per_week"]["after"] < drop["agent_hours_per_week"]["before"]
    assert ring["after"] == drift.RING_TIME_SHARE > ring["before"]
    assert set(stop["after"].values()) == {0.0}
    summary = json.loads((drifted / "answer_key" / "summary.json").read_text())
    assert [(d["kind"], d["location_id"], d["first_local_day"]) for d in summary["drifts"]] == want


def test_days_before_the_drift_are_unchanged(pair: tuple[Path, Path]) -> None:
    plain, drifted = pair
    a, b = tree_hash(plain / "landing"), tree_hash(drifted / "landing")
    before = [k for k in a if any(f"{START + dt.timedelta(days=d)}" in k for d in range(DAY))]
    assert len(before) > 50
    assert all(a[k] == b[k] for k in before)
    assert any(a[k] != b.get(k) for k in a if k not in before)


def test_truth_moves_from_the_day_on(pair: tuple[Path, Path]) -> None:
    plain, drifted = pair
    p, d = _rates(_calls(plain)), _rates(_calls(drifted))
    before, after = False, True
    for loc in ("loc_01", "loc_02", "loc_03", "loc_04", "loc_05"):
        # the same calls before the day, up to the evening before it: the UTC day files
        # before the day are the same, the random stream differs from that UTC day on (and
        # recovery looks 24 h ahead); without drifts no trend to speak of
        assert abs(d[(loc, before)]["answer_rate"] - p[(loc, before)]["answer_rate"]) < 0.01
        assert abs(d[(loc, before)]["callbacks"] - p[(loc, before)]["callbacks"]) <= 3
        assert abs(p[(loc, after)]["answer_rate"] - p[(loc, before)]["answer_rate"]) < 0.06
    # staffing_drop at loc_01: far fewer calls answered
    assert d[("loc_01", after)]["answer_rate"] < d[("loc_01", before)]["answer_rate"] - 0.25
    # ring_time at loc_02: fewer answered, and those later
    assert d[("loc_02", after)]["answer_rate"] < d[("loc_02", before)]["answer_rate"] - 0.08
    assert d[("loc_02", after)]["asa"] > d[("loc_02", before)]["asa"] + 5
    # callbacks_stop at loc_04: none after its day, recovery falls; answering unchanged
    assert d[("loc_04", before)]["callbacks"] > 20
    assert d[("loc_04", after)]["callbacks"] == 0
    assert d[("loc_04", after)]["recovery"] < p[("loc_04", after)]["recovery"] - 0.1
    for loc in ("loc_03", "loc_04", "loc_05"):  # answering elsewhere within noise
        assert abs(d[(loc, after)]["answer_rate"] - p[(loc, after)]["answer_rate"]) < 0.05


def _add_members(out: Path, queue: str) -> dict[str, int]:
    """ADDMEMBER events of ``queue`` per queue_log file date."""
    counts: dict[str, int] = {}
    for f in sorted((out / "landing" / "pbx" / "pbx_east" / "queue_log").iterdir()):
        date = f.name.removeprefix("queue_log-")
        lines = f.read_text().splitlines()
        counts[date] = sum(1 for x in lines if f"|{queue}|" in x and "|ADDMEMBER|" in x)
    return counts


def test_queue_log_members_follow_the_staffing_drop(pair: tuple[Path, Path]) -> None:
    _, drifted = pair
    doc = json.loads((drifted / "answer_key" / "drifts.json").read_text())
    hours = doc["drifts"][0]["hours"]
    added = _add_members(drifted, "4010")  # loc_01's FreePBX queue
    for day in range(ARGS["days"]):
        date = START + dt.timedelta(days=day)
        plan = [h for h in hours if h["iso_weekday"] == date.isoweekday()]
        if not plan:
            assert added[date.isoformat()] == 0
            continue
        # FreePBX adds agent k once, at the first hour with more than k agents
        want = max(h["after" if date >= SPLIT else "before"] for h in plan)
        assert added[date.isoformat()] == want, date
    assert sum(v for k, v in added.items() if k >= SPLIT.isoformat()) < sum(
        v for k, v in added.items() if k < SPLIT.isoformat()
    )


def test_drift_is_deterministic_and_none_changes_nothing(tmp_path: Path) -> None:
    small = {"locations": 4, "days": 4, "seed": 5, "calls_per_location_day": 40.0}
    generate(tmp_path / "a", drifts=["ring_time:loc_02:2", "callbacks_stop:loc_03:1"], **small)
    generate(tmp_path / "b", drifts=["ring_time:loc_02:2", "callbacks_stop:loc_03:1"], **small)
    assert tree_hash(tmp_path / "a") == tree_hash(tmp_path / "b")
    generate(tmp_path / "c", **small)
    generate(tmp_path / "d", drifts=[], **small)
    assert tree_hash(tmp_path / "c") == tree_hash(tmp_path / "d")
    assert tree_hash(tmp_path / "a") != tree_hash(tmp_path / "c")
