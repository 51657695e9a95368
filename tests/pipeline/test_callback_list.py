"""The callback work list (docs/metrics.md, "Callback work list"): restricted.callback_list against
the generator's answer key at several as-of times, and the function's rules on hand-made rows.

The expected list is computed here from answer_key/calls.csv by the written definitions, not
from the warehouse: a missed opportunity (inbound voicemail, abandoned or missed in open hours)
started in (as_of - 24 h, as_of] is on the list unless a connected call with the same number
(an answered inbound call, or an outbound call the customer answered; any location) started
after it and at or before as_of. One row per caller and location; attempts = their listed
missed calls.

The key's start_utc is the PBX's trunk start; at a location without a PBX the warehouse has
CallRail's start_time, up to 5 s earlier. That is no defect but a difference of clocks, so each
as-of time is chosen (and checked) with no call of the key within 10 s of as_of or
as_of - 24 h, where such an offset could move a call across the edge. The generator's
injected defects are extra lines the loader rejects (tests/generate: the key is unchanged by
them), so none of them may make the list differ: the comparison is exact.
"""

from __future__ import annotations

import csv
import datetime as dt
import re
from collections import Counter
from collections.abc import Iterator
from decimal import Decimal

import psycopg
import pytest
from psycopg import sql

from callshrink import callbacks
from tests.conftest import PipelineRun

WINDOW = dt.timedelta(hours=24)  # var recovery_window_hours
CLOCKS_APART = dt.timedelta(seconds=10)  # more than CallRail's 0-5 s before the PBX


def _time(text: str) -> dt.datetime:
    return dt.datetime.fromisoformat(text.replace("Z", "+00:00"))


@pytest.fixture(scope="module")
def key_calls(pipeline_run: PipelineRun) -> list[dict]:
    with (pipeline_run.out / "answer_key" / "calls.csv").open(newline="") as handle:
        rows = list(csv.DictReader(handle))
    for row in rows:
        row["start"] = _time(row["start_utc"])
    return rows


def _is_connected(row: dict) -> bool:
    """The key's connected calls: answered inbound (spam is its own outcome) or a callback the
    customer answered."""
    return row["outcome"] == "answered" and bool(row["caller_e164"])


@pytest.fixture(scope="module")
def key_items(key_calls: list[dict]) -> list[dict]:
    return callback_items(key_calls)


def callback_items(key_calls: list[dict]) -> list[dict]:
    """Every missed opportunity of the key with a number, and when it leaves the list: the
    first connected call with the number strictly after it (no time limit)."""
    connected: dict[str, list[dt.datetime]] = {}
    for row in key_calls:
        if _is_connected(row):
            connected.setdefault(row["caller_e164"], []).append(row["start"])
    items = []
    for row in key_calls:
        if row["direction"] != "inbound" or row["is_missed_opportunity"] != "true":
            continue
        assert row["caller_e164"], "a missed opportunity without a number"
        later = [start for start in connected.get(row["caller_e164"], []) if start > row["start"]]
        items.append({**row, "leaves": min(later) if later else None})
    assert len(items) > 500
    return items


def expected_list(items: list[dict], as_of: dt.datetime) -> Counter:
    """(caller, location) -> attempts, by the written definition."""
    return Counter(
        (item["caller_e164"], item["location_id"])
        for item in items
        if as_of - WINDOW < item["start"] <= as_of
        and (item["leaves"] is None or item["leaves"] > as_of)
    )


def _clear_of_the_edges(key_calls: list[dict], as_of: dt.datetime) -> bool:
    return not any(
        abs(row["start"] - edge) <= CLOCKS_APART
        for row in key_calls
        for edge in (as_of, as_of - WINDOW)
    )


def _nudged(key_calls: list[dict], as_of: dt.datetime) -> dt.datetime:
    """as_of, or the first time after it by whole 15 s steps clear of the clocks' offset."""
    while not _clear_of_the_edges(key_calls, as_of):
        as_of += dt.timedelta(seconds=15)
    return as_of


@pytest.fixture(scope="module")
def as_of_times(key_calls: list[dict], key_items: list[dict]) -> dict[str, dt.datetime]:
    """The as-of times compared: the busiest hour of the middle day, half way through it; a
    minute after a callback connected that takes a caller off the list (the first such callback
    of the middle day); the morning of the second day; the newest call in the key."""
    inbound = [row for row in key_calls if row["direction"] == "inbound"]
    days = sorted({row["start"].date() for row in inbound})
    middle = days[len(days) // 2]
    hours = Counter(
        row["start"].replace(minute=0, second=0) for row in inbound if row["start"].date() == middle
    )
    busiest, _ = hours.most_common(1)[0]
    listed_callers = {
        item["caller_e164"]: item
        for item in key_items
        if item["leaves"] is not None and item["leaves"] - item["start"] <= WINDOW
    }
    callback = min(
        row["start"]
        for row in key_calls
        if row["direction"] == "outbound"
        and row["outcome"] == "answered"
        and row["start"].date() == middle
        and any(
            item["leaves"] == row["start"] and item["caller_e164"] == row["caller_e164"]
            for item in listed_callers.values()
        )
    )
    second_morning = dt.datetime.combine(days[1], dt.time(15), tzinfo=dt.UTC)
    newest = max(row["start"] for row in key_calls)
    times = {
        "middle of a busy hour": busiest + dt.timedelta(minutes=30),
        "a minute after a callback connected": callback + dt.timedelta(minutes=1),
        "the second morning": second_morning,
        "just after the newest call": newest + dt.timedelta(minutes=1),
    }
    return {name: _nudged(key_calls, as_of) for name, as_of in times.items()}


def _listed(conn: psycopg.Connection, as_of: dt.datetime | None, location: str | None = None):
    return [
        dict(zip(callbacks.COLUMNS, row, strict=True))
        for row in callbacks.list_as_of(conn, as_of, location)
    ]


def _difference(expected: Counter, ours: Counter) -> str:
    lines = []
    for key in sorted(expected.keys() | ours.keys()):
        if expected.get(key) != ours.get(key):
            lines.append(f"  {key}: answer key {expected.get(key)} attempts, list {ours.get(key)}")
    return "\n".join(lines)


@pytest.mark.parametrize(
    "name",
    [
        "middle of a busy hour",
        "a minute after a callback connected",
        "the second morning",
        "just after the newest call",
    ],
)
def test_the_list_holds_exactly_the_unrecovered_missed_opportunities(
    conn: psycopg.Connection, key_items: list[dict], as_of_times: dict, name: str
):
    as_of = as_of_times[name]
    expected = expected_list(key_items, as_of)
    rows = _listed(conn, as_of)
    ours = Counter(
        {(row["caller_phone_e164"], row["location_id"]): row["attempts"] for row in rows}
    )
    assert len(rows) == len(ours), "one row per caller and location"
    assert expected, f"{name} ({as_of}): the key lists nobody; choose a busier time"
    assert ours == expected, (
        f"{name} ({as_of}): {len(ours)} callers listed, {len(expected)} in the answer key\n"
        + _difference(expected, ours)
    )
    print(f"{name}: as of {as_of}, {len(ours)} callers, {sum(ours.values())} missed calls")


def test_a_callback_takes_its_caller_off_the_list(
    conn: psycopg.Connection, key_items: list[dict], as_of_times: dict
):
    """Callers listed two minutes before whom a connected call reached since: listed then,
    not a minute after the callback."""
    after = as_of_times["a minute after a callback connected"]
    before = after - dt.timedelta(minutes=2)
    taken_off = {
        (item["caller_e164"], item["location_id"])
        for item in key_items
        if before - WINDOW < item["start"] <= before
        and item["leaves"] is not None
        and before < item["leaves"] <= after
    }
    assert taken_off, "the key has a caller reached in those two minutes"
    listed_before = {
        (row["caller_phone_e164"], row["location_id"]) for row in _listed(conn, before)
    }
    listed_after = {(row["caller_phone_e164"], row["location_id"]) for row in _listed(conn, after)}
    assert taken_off <= listed_before
    assert not taken_off & listed_after


def test_the_list_is_ranked_by_expected_value(conn: psycopg.Connection, as_of_times: dict):
    rows = _listed(conn, as_of_times["middle of a busy hour"])
    assert [row["rank"] for row in rows] == list(range(1, len(rows) + 1))
    values = [row["expected_value_usd"] for row in rows]
    assert values == sorted(values, reverse=True)
    for row in rows:
        assert row["expected_value_usd"] == (row["value_usd"] * row["recovery_chance"]).quantize(
            Decimal("0.01")
        )
        assert 0 <= row["hours_since_call"] < 24
        assert len(row["call_ids"].split()) == row["attempts"]


def test_the_default_as_of_is_the_newest_call(conn: psycopg.Connection, key_calls: list[dict]):
    newest = callbacks.newest_call_at(conn)
    assert abs(newest - max(row["start"] for row in key_calls)) <= CLOCKS_APART
    rows = _listed(conn, None, "loc_01")
    assert rows == _listed(conn, newest, "loc_01")
    assert {row["listed_as_of"] for row in rows} <= {newest}


def test_the_curve_falls_over_the_window(conn: psycopg.Connection):
    curve = conn.execute(
        "select hours_elapsed, waiting_calls, recovered_calls, recovery_chance "
        "from marts.callback_recovery_curve order by hours_elapsed"
    ).fetchall()
    assert [row[0] for row in curve] == list(range(24))
    print("\nh  waiting  recovered  chance")
    for hours, waiting, recovered, chance in curve:
        print(f"{hours:>2} {waiting:>8} {recovered:>10}  {chance}")
    # waiting calls can only fall as hours pass; the chance is measured, so only its ends are
    # compared: a fresh missed call is won back far more often than one a day old
    assert [row[1] for row in curve] == sorted((row[1] for row in curve), reverse=True)
    assert curve[0][3] > 2 * curve[-1][3]


# --- the function on hand-made rows --------------------------------------------------------------

SCRATCH = "callback_list_scratch"
AS_OF = dt.datetime(2026, 3, 2, 12, tzinfo=dt.UTC)


def _at(text: str) -> dt.datetime:
    return dt.datetime.fromisoformat(text).replace(tzinfo=dt.UTC)


# call_id, number, location, start, cell value, leaves_list_at
HAND_ITEMS = [
    ("edge", "+15550000001", "loc_a", "2026-03-01 12:00:00", "50.00", None),  # 24 h before: out
    ("inside", "+15550000001", "loc_a", "2026-03-01 12:00:01", "50.00", None),  # just inside
    ("b1", "+15550000002", "loc_a", "2026-03-02 08:00:00", "40.00", None),
    ("b2", "+15550000002", "loc_a", "2026-03-02 10:00:00", "25.00", None),
    ("b3", "+15550000002", "loc_b", "2026-03-02 09:00:00", "30.00", None),
    ("c", "+15550000003", "loc_a", "2026-03-02 09:00:00", "90.00", "2026-03-02 12:00:00"),
    ("d", "+15550000004", "loc_a", "2026-03-02 11:00:00", "10.00", "2026-03-02 13:00:00"),
    ("later", "+15550000005", "loc_a", "2026-03-02 12:00:01", "10.00", None),
    ("nobody", None, "loc_a", "2026-03-02 11:30:00", "99.00", None),
]


@pytest.fixture
def scratch(conn: psycopg.Connection) -> Iterator[sql.Identifier]:
    """The dbt-built function, re-created over tables of hand-made rows in a schema of its own
    (dropped after): its text as dbt wrote it, only the relations it reads renamed."""
    (definition,) = conn.execute(
        "select pg_get_functiondef('restricted.callback_list(timestamptz, text)'::regprocedure)"
    ).fetchone()
    definition, renamed = re.subn(
        r'(?:"[^"]+"\.)?"restricted"\."callback_work_items"|'
        r'(?:"[^"]+"\.)?"marts"\."callback_recovery_curve"|'
        r'(?:"[^"]+"\.)?"marts"\."conversion_cells"|restricted\.callback_list',
        lambda found: f"{SCRATCH}." + re.sub(r'.*\.("?)([a-z_]+)\1$', r"\2", found.group()),
        definition,
    )
    assert renamed == 4, definition
    schema = sql.Identifier(SCRATCH)
    conn.execute(sql.SQL("drop schema if exists {} cascade").format(schema))
    conn.execute(sql.SQL("create schema {}").format(schema))
    conn.execute(
        sql.SQL("create table {}.callback_work_items (like restricted.callback_work_items)").format(
            schema
        )
    )
    conn.execute(
        sql.SQL(
            "create table {}.callback_recovery_curve (like marts.callback_recovery_curve)"
        ).format(schema)
    )
    conn.execute(
        sql.SQL("create table {}.conversion_cells (like marts.conversion_cells)").format(schema)
    )
    conn.execute(definition)
    for call_id, number, location, start, value, leaves in HAND_ITEMS:
        conn.execute(
            sql.SQL(
                "insert into {}.callback_work_items (call_id, caller_phone_e164, location_id, "
                "started_at, started_at_local, wait_seconds, outcome, marketing_source, cell_id, "
                "leaves_list_at) values (%s, %s, %s, %s, %s, 30, 'missed', 'S', %s, %s)"
            ).format(schema),
            (
                call_id,
                number,
                location,
                _at(start),
                dt.datetime.fromisoformat(start),
                f"{location}|S|{call_id}",
                leaves and _at(leaves),
            ),
        )
        conn.execute(
            sql.SQL(
                "insert into {}.conversion_cells (cell_id, value_per_eligible_call_usd) "
                "values (%s, %s)"
            ).format(schema),
            (f"{location}|S|{call_id}", Decimal(value)),
        )
    conn.execute(
        sql.SQL(
            "insert into {}.callback_recovery_curve select h, 100, 50 - h, (50 - h) / 100.0, 24, "
            "%s from generate_series(0, 23) as h"
        ).format(schema),
        (_at("2026-03-02 11:45:00"),),
    )
    yield schema
    conn.execute(sql.SQL("drop schema {} cascade").format(schema))


def _hand_list(conn, schema, as_of, location=None) -> dict[tuple, dict]:
    rows = conn.execute(
        sql.SQL("select * from {}.callback_list(%s, %s)").format(schema), (as_of, location)
    ).fetchall()
    named = [dict(zip(callbacks.COLUMNS, row, strict=True)) for row in rows]
    return {(row["caller_phone_e164"], row["location_id"]): row for row in named}


def test_the_window_is_open_at_its_start_and_closed_at_as_of(conn, scratch):
    listed = _hand_list(conn, scratch, AS_OF)
    first = listed[("+15550000001", "loc_a")]
    assert first["call_ids"] == "inside", "a call exactly 24 h before as_of is off the list"
    assert ("+15550000005", "loc_a") not in listed, "a call after as_of is not listed yet"
    assert ("+15550000005", "loc_a") in _hand_list(conn, scratch, _at("2026-03-02 12:00:01"))


def test_a_caller_who_missed_twice_is_one_row_with_two_attempts(conn, scratch):
    listed = _hand_list(conn, scratch, AS_OF)
    twice = listed[("+15550000002", "loc_a")]
    assert twice["attempts"] == 2
    assert twice["call_ids"] == "b1 b2"
    assert twice["latest_call_at"] == _at("2026-03-02 10:00:00")
    assert twice["hours_since_call"] == Decimal("2.00")
    assert twice["recovery_chance"] == Decimal("0.480000")  # the curve at hour 2
    assert twice["value_usd"] == Decimal("40.00"), "valued once, at the first attempt"
    assert twice["cell_id"] == "loc_a|S|b1"
    assert twice["expected_value_usd"] == Decimal("19.20")
    # the same caller at another location is a row of its own
    assert listed[("+15550000002", "loc_b")]["attempts"] == 1


def test_a_connected_call_at_as_of_has_taken_the_caller_off(conn, scratch):
    assert ("+15550000003", "loc_a") not in _hand_list(conn, scratch, AS_OF)
    just_before = _hand_list(conn, scratch, AS_OF - dt.timedelta(seconds=1))
    assert ("+15550000003", "loc_a") in just_before
    # left later than as_of: still listed
    assert ("+15550000004", "loc_a") in _hand_list(conn, scratch, AS_OF)


def test_callers_without_a_number_are_not_listed(conn, scratch):
    assert None not in {caller for caller, _ in _hand_list(conn, scratch, AS_OF)}


def test_the_list_of_one_location_ranked_and_as_of_the_newest_call(conn, scratch):
    only_b = _hand_list(conn, scratch, AS_OF, "loc_b")
    assert list(only_b) == [("+15550000002", "loc_b")]
    listed = conn.execute(
        sql.SQL("select caller_phone_e164, rank, listed_as_of from {}.callback_list()").format(
            scratch
        )
    ).fetchall()
    assert {as_of for _, _, as_of in listed} == {_at("2026-03-02 11:45:00")}
    assert [rank for _, rank, _ in listed] == list(range(1, len(listed) + 1))
    # c (90.00, 2.75 h) and b1/b2 (40.00, 1.75 h) and inside (50.00, 23.75 h): best first
    assert [caller for caller, _, _ in listed][:2] == ["+15550000003", "+15550000002"]


def test_a_warehouse_built_before_the_list_says_to_run_first(conn: psycopg.Connection):
    """A warehouse last built by an older callshrink has no callback_list function: the list
    says what to do instead of failing with Postgres's error (dropped in a transaction that is
    rolled back, so the shared warehouse keeps it)."""
    with conn.transaction(force_rollback=True):
        conn.execute(
            sql.SQL("drop function {}.callback_list(timestamptz, text)").format(
                sql.Identifier("restricted")
            )
        )
        with pytest.raises(callbacks.CallbackError, match=r"run `callshrink run`"):
            callbacks.list_as_of(conn, None, "loc_01")
