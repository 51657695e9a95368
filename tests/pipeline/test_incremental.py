"""Incremental builds of the call models equal a full refresh.

Files arrive day by day (the landing folder grows by UTC date, as the vendors deliver); each
arrival runs the whole pipeline, so the call models build incrementally, with follow-up values
(recovery, repeat contacts) that change as later days arrive. The PBX exports (CDR, queue_log)
lag one day behind CallRail, so a day is first built from CallRail alone and its PBX legs
arrive late, on the next run. (The generator writes a call's legs in the file of the UTC day it
started, even when it ends after midnight, so the files alone never deliver a leg late.)
Between runs, records of earlier days change the way they do in the field: a corrected CallRail
call and a corrected Square payment are delivered again, and a loaded CDR leg is moved into the
quarantine by hand. At the end `dbt build --full-refresh` rebuilds every model from scratch:
every row of every incremental model (staging and calls) and of every mart must be the same.

In that scenario every run after the first also replaces staged rows older than its new ones,
and the replaced rows' earliest call time alone moves the call models' cutoff back far enough.
A second, smaller test has a run whose only change is new calls, nothing replaced: there the
staging builds' record of their new rows is all that makes the call models take them.

Each test has a database of its own (callshrink_incremental on the suite's server) and points
the environment at it only for its duration.
"""

from __future__ import annotations

import csv
import io
import json
import re
import shutil
from collections import Counter
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from zoneinfo import ZoneInfo

import psycopg
import pytest

from callshrink.dbt import dbt, stage_reference
from callshrink.generate import generate
from callshrink.ingest.quarantine import move_to_quarantine
from callshrink.pipeline import run_pipeline
from tests.conftest import own_database

DATABASE = "callshrink_incremental"
# The columns that say when a build wrote a row (staging, int_calls_followed_up): not compared.
BUILD_TIMES = "array['_staged_at', '_built_at']"

# Every incremental call model (dbt_project.yml: intermediate/calls, marts/calls, restricted,
# and the queue members' events).
CALL_MODELS = (
    "intermediate.int_queue_member_events",
    "intermediate.int_pbx_legs_typed",
    "intermediate.int_pbx_calls_grouped",
    "intermediate.int_calls_stitched",
    "intermediate.int_calls_classified",
    "intermediate.int_calls_followed_up",
    "intermediate.int_pbx_names_counted",
    "marts.calls",
    "marts.call_legs",
    "marts.missed_calls",
    "marts.queue_calls_hourly",
    "marts.shrink_candidates",
    "restricted.caller_numbers",
    "restricted.callback_work_items",
)
# The vendors' staging tables, incremental by record (dbt_project.yml: staging).
STAGING_MODELS = tuple(
    f"staging.stg_{name}"
    for name in (
        "asterisk__cdr", "asterisk__queue_log", "callrail__calls", "square__payments",
        "square__refunds", "square__customers", "hubspot__contacts", "hubspot__deals",
    )
)  # fmt: skip
# The revenue records and their attribution, incremental by record, and the calls' revenue.
REVENUE_MODELS = (
    "intermediate.int_revenue_records",
    "marts.revenue_attributions",
    "marts.call_conversions",
)
INCREMENTAL_MODELS = STAGING_MODELS + CALL_MODELS + REVENUE_MODELS
# The tables rebuilt whole on every run that read them (revenue included).
TABLE_MODELS = (
    "intermediate.int_pbx_queue_entries",
    "intermediate.int_queue_members_available",
    "intermediate.int_revenue_months_closed",
    "marts.callback_recovery_curve",
    "marts.conversion_cells",
    "marts.data_health",
    "marts.pbx_names",
    "marts.process_control_points",
    "marts.process_signals",
    "marts.revenue_left_out",
    "marts.revenue_left_out_totals",
    "marts.revenue_months",
    "marts.revenue_reconciliation",
    "marts.revenue_reconciliation_monthly",
    "marts.revenue_reconciliation_totals",
    "marts.staffing_hours",
    "marts.staffing_what_if",
)
# Views over them: the valued calls of an incremental model, joined to a table's cells.
VIEW_MODELS = ("marts.missed_call_shrink",)
COMPARED = INCREMENTAL_MODELS + TABLE_MODELS + VIEW_MODELS
DATED = re.compile(r"\d{4}-\d{2}-\d{2}")


@pytest.fixture
def incremental_url(
    server_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Iterator[str]:
    yield from own_database(server_url, DATABASE, tmp_path, monkeypatch)


def _indexes_on(conn: psycopg.Connection, table: str, columns: str) -> list[tuple[str, bool]]:
    """Each index of `table` ('schema.name') on exactly `columns`: its name, and whether it
    is unique."""
    schema, name = table.split(".")
    return conn.execute(
        "select indexname, indexdef like 'CREATE UNIQUE %%' from pg_indexes "
        "where schemaname = %s and tablename = %s and indexdef like %s",
        (schema, name, f"% USING btree {columns}"),
    ).fetchall()


def _index_on(conn: psycopg.Connection, table: str, columns: str) -> str | None:
    """The name of an index of `table` ('schema.name') on exactly `columns`, or None."""
    found = _indexes_on(conn, table, columns)
    return found[0][0] if found else None


def _unique_flags(conn: psycopg.Connection, table: str, columns: str) -> list[bool]:
    """For each index of `table` ('schema.name') on exactly `columns`, whether it is unique."""
    return [unique for _, unique in _indexes_on(conn, table, columns)]


def _snapshot(conn: psycopg.Connection) -> dict[str, tuple[int, str]]:
    """Row count and a digest of the sorted rows of every model compared (without
    `_staged_at` and `_built_at`, the time of the build that wrote a row)."""
    row = f"(to_jsonb(t) - {BUILD_TIMES})::text"
    return {
        model: conn.execute(
            f"select count(*), md5(coalesce(string_agg({row}, '|' order by {row}), '')) "
            f"from {model} t"
        ).fetchone()
        for model in COMPARED
    }


def _oids(conn: psycopg.Connection) -> dict[str, int]:
    return {
        model: conn.execute("select %s::regclass::oid", (model,)).fetchone()[0]
        for model in INCREMENTAL_MODELS
    }


def _differences(conn: psycopg.Connection, model: str) -> str:
    """Which rows differ between the incremental build and the full refresh, and in which
    columns (rows matched by the model's first column, its key)."""
    kept = f"incremental_snapshot.{model.replace('.', '__')}"
    key = conn.execute(f"select * from {model} limit 0").description[0].name

    def rows(relation: str) -> str:
        return f"select to_jsonb(t) - {BUILD_TIMES} from {relation} t"

    sides = {}
    for label, query in (
        ("incremental", f"{rows(kept)} except all {rows(model)}"),
        ("full refresh", f"{rows(model)} except all {rows(kept)}"),
    ):
        sides[label] = {str(row[key]): row for (row,) in conn.execute(query)}
    incremental, full = sides["incremental"], sides["full refresh"]
    lines = [
        f"{model}: {len(incremental)} rows only in the incremental build, "
        f"{len(full)} only in the full refresh"
    ]
    both = sorted(incremental.keys() & full.keys())
    columns = Counter(
        column
        for key in both
        for column in incremental[key]
        if incremental[key][column] != full[key][column]
    )
    lines.append(f"  columns that differ (rows): {dict(columns)}")
    for key in both[:5]:
        changed = {
            column: (incremental[key][column], full[key][column])
            for column in incremental[key]
            if incremental[key][column] != full[key][column]
        }
        lines.append(f"  {key}: (incremental, full refresh) {changed}")
    for label, rows in sides.items():
        missing = sorted(rows.keys() - both)
        if missing:
            lines.append(f"  only the {label} has {len(missing)} keys, e.g. {missing[:5]}")
    return "\n".join(lines)


def _deliver_corrections(conn: psycopg.Connection, landing: Path) -> dict[str, object]:
    """Deliver again, corrected, the newest CallRail call and Square payment loaded: a file of
    one JSON line each, as a re-export would. The call gets another caller name; the payment
    a dollar more, with a later updated_at (Square's version of a record). Returns the ids and
    the corrected values staging must show."""
    (call,) = conn.execute(
        "select _record from raw.callrail_calls order by _record ->> 'start_time' desc limit 1"
    ).fetchone()
    original_name = call["customer_name"]
    call["customer_name"] = "Corrected Caller"
    (payment,) = conn.execute(
        "select _record from raw.square_payments order by _record ->> 'created_at' desc limit 1"
    ).fetchone()
    for money in ("amount_money", "total_money"):
        payment[money]["amount"] += 100
    payment["updated_at"] = _later(payment["updated_at"])
    for folder, record in (("tracking/callrail", call), ("pos/square/payments", payment)):
        _deliver_again(landing / folder / "corrected.jsonl", record)
    return {
        "call": call["id"],
        "original_name": original_name,
        "payment": payment["id"],
        "total_usd": Decimal(payment["total_money"]["amount"]).scaleb(-2),
    }


def _change_revenue_inputs(conn: psycopg.Connection, landing: Path) -> dict[str, str]:
    """Change what old revenue records read, the ways the field does, on the earliest days
    (before any day the call models recompute): the customer of the earliest attributed
    payment and the contact of the earliest attributed deal are delivered again with the
    number of another's (a later updated_at); the next attributed payment is delivered again
    FAILED; the one after it, loaded once, is moved into the quarantine by hand. Returns the
    ids: the first payment, the payment whose number it must now reach, the failed one and
    the moved one."""
    payments = [
        record
        for (record,) in conn.execute(
            "select raw._record from raw.square_payments as raw"
            " inner join marts.revenue_attributions as attributed"
            " on attributed.record_type = 'payment'"
            " and attributed.record_id = raw._record ->> 'id'"
            " where attributed.is_attributed and raw._record ->> 'customer_id' is not null"
            " order by attributed.occurred_at, attributed.record_id"
        )
    ]
    first, second, failed, moved = payments[:4]
    (customer,), (other,) = (
        conn.execute(
            "select _record from raw.square_customers where _record ->> 'id' = %s"
            " order by _loaded_at desc limit 1",
            (payment["customer_id"],),
        ).fetchone()
        for payment in (first, second)
    )
    assert customer["phone_number"] != other["phone_number"]
    customer["phone_number"] = other["phone_number"]
    customer["updated_at"] = _later(customer["updated_at"])
    failed["status"] = "FAILED"
    failed["updated_at"] = _later(failed["updated_at"])
    contact, other_contact = (
        record
        for (record,) in conn.execute(
            "select distinct on (attributed.occurred_at, contact._record ->> 'id') contact._record"
            " from marts.revenue_attributions as attributed"
            " inner join staging.stg_hubspot__deals as deals"
            " on attributed.record_type = 'deal' and deals.hubspot_deal_id = attributed.record_id"
            " inner join raw.hubspot_contacts as contact"
            " on contact._record ->> 'id' = deals.primary_hubspot_contact_id"
            " where attributed.is_attributed"
            " and contact._record -> 'properties' ->> 'phone' is not null"
            " order by attributed.occurred_at limit 2"
        )
    )
    contact["properties"]["phone"] = other_contact["properties"]["phone"]
    contact["updatedAt"] = _later(contact["updatedAt"])
    for folder, record in (
        ("pos/square/customers", customer),
        ("pos/square/payments", failed),
        ("crm/hubspot/contacts", contact),
    ):
        _deliver_again(landing / folder / "changed.jsonl", record)
    ((source_file, line),) = conn.execute(
        "select _source_file, _line_number from raw.square_payments where _record ->> 'id' = %s",
        (moved["id"],),
    ).fetchall()
    move_to_quarantine(conn, [f"{source_file}:{line}"], "moved by hand: test")
    return {
        "payment": first["id"],
        "phone_of": second["id"],
        "failed": failed["id"],
        "moved": moved["id"],
    }


def _later(timestamp: str) -> str:
    """An ISO timestamp one hour later (a record's next version)."""
    later = datetime.fromisoformat(timestamp.replace("Z", "+00:00")) + timedelta(hours=1)
    return later.isoformat()


def _move_correction(conn: psycopg.Connection, call_id: str) -> None:
    """Move the corrected delivery of a CallRail call into the quarantine by hand: staging
    takes the delivery before it again."""
    source_file, line = conn.execute(
        "select _source_file, _line_number from raw.callrail_calls "
        "where _record ->> 'id' = %s and _record ->> 'customer_name' = 'Corrected Caller'",
        (call_id,),
    ).fetchone()
    move_to_quarantine(conn, [f"{source_file}:{line}"], "moved by hand: test")


def _staged_caller_name(conn: psycopg.Connection, call_id: str) -> list[tuple]:
    return conn.execute(
        "select customer_name from staging.stg_callrail__calls where callrail_call_id = %s",
        (call_id,),
    ).fetchall()


def _export_queue_log_again(landing: Path, days: list[str]) -> None:
    """A PBX's queue_log exported again in full: one file holding the lines of its files of
    `days`, every event of them staged before (staging must replace them, not add them)."""
    folder = sorted(landing.glob("pbx/*/queue_log"))[0]
    lines = b"".join(path.read_bytes() for day in days for path in folder.glob(f"*{day}*"))
    assert lines
    (folder / "queue_log-exported-in-full").write_bytes(lines)


def _deliver_again(path: Path, record: dict) -> None:
    """A re-export of one record: a file of one JSON line."""
    path.write_text(json.dumps(record) + "\n", encoding="utf-8")


def _staged_callrail_record(conn: psycopg.Connection, condition: str, params: tuple) -> dict:
    """The raw record of the first CallRail call staged whose row meets `condition` (SQL on
    `staged`, with its ordering)."""
    (record,) = conn.execute(
        "select raw._record from raw.callrail_calls as raw"
        " inner join staging.stg_callrail__calls as staged"
        " on staged.callrail_call_id = raw._record ->> 'id'"
        f" where {condition} limit 1",
        params,
    ).fetchone()
    return record


def _move_newest_leg(conn: psycopg.Connection) -> str:
    """Move the newest CDR leg loaded into the quarantine by hand; returns its leg id."""
    source_file, line, leg_id = conn.execute(
        "select _source_file, _line_number, pbx_id || ':' || uniqueid || ':' || sequence "
        "from raw.asterisk_cdr order by start desc, _line_number desc limit 1"
    ).fetchone()
    move_to_quarantine(conn, [f"{source_file}:{line}"], "moved by hand: test")
    return leg_id


def _move_latest_leg_of(conn: psycopg.Connection, day: str) -> str:
    """Move the latest CDR leg of a UTC day into the quarantine by hand; returns its id."""
    source_file, line, leg_id = conn.execute(
        "select _source_file, _line_number, leg_id from staging.stg_asterisk__cdr "
        "where started_at >= %s::date and started_at < %s::date + 1 "
        "order by started_at desc limit 1",
        (day, day),
    ).fetchone()
    move_to_quarantine(conn, [f"{source_file}:{line}"], "moved by hand: test")
    return leg_id


def _restart_latest_call_of(conn: psycopg.Connection, landing: Path, day: str) -> str:
    """Deliver again the latest CallRail call of a UTC day, corrected to start two days later:
    its first day loses the call. Returns the call's id."""
    call = _staged_callrail_record(
        conn,
        "staged.started_at >= %s::date and staged.started_at < %s::date + 1"
        " order by staged.started_at desc",
        (day, day),
    )
    started = datetime.fromisoformat(call["start_time"].replace("Z", "+00:00"))
    call["start_time"] = (started + timedelta(days=2)).isoformat()
    _deliver_again(landing / "tracking/callrail/restarted.jsonl", call)
    return call["id"]


def _cut_through_a_call(conn: psycopg.Connection, landing: Path, day: str) -> tuple[str, datetime]:
    """Make the next build's cutoff fall inside a PBX call of `day`: between its start and
    the start of its last leg. A CallRail call that starts later is delivered again, moved
    to start 6 h 12 min (incremental_lookback_hours and the stitch reach) after the cutoff
    wanted, so that it is the earliest change. The legs of the cut call that start after the
    cutoff must stay in call_legs, which places a leg by its call's start. Returns the cut
    call's id and the cutoff."""
    pbx_call_id, last_leg_at = conn.execute(
        "select pbx_call_id, max(started_at) from marts.call_legs "
        "where started_date_utc = %s group by pbx_call_id, call_started_at "
        "having max(started_at) >= call_started_at + interval '2 seconds' "
        "order by call_started_at limit 1",
        (day,),
    ).fetchone()
    moved_to = last_leg_at - timedelta(seconds=1) + timedelta(hours=6, minutes=12)
    call = _staged_callrail_record(
        conn,
        "staged.started_at > %s order by staged.started_at",
        (moved_to + timedelta(hours=1),),
    )
    call["start_time"] = moved_to.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    _deliver_again(landing / "tracking/callrail/moved_earlier.jsonl", call)
    return pbx_call_id, last_leg_at - timedelta(seconds=1)


def _demo_to_deliver(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, **generated: int
) -> tuple[Path, Path, dict[Path, str]]:
    """A generated demo (seed 5, `generated` the rest of generate's arguments), an empty
    landing folder the pipeline reads from and the reference it uses, and the demo's files
    with the UTC date in each name, to deliver day by day."""
    out = tmp_path / "demo"
    generate(out, seed=5, **generated)
    landing = tmp_path / "landing"
    landing.mkdir()
    monkeypatch.setenv("CALLSHRINK_LANDING_DIR", str(landing))
    monkeypatch.setenv("CALLSHRINK_REFERENCE_DIR", str(out / "reference"))
    files = {
        path: DATED.search(path.name).group()
        for path in (out / "landing").rglob("*")
        if path.is_file()
    }
    return out, landing, files


def test_incremental_builds_equal_a_full_refresh(
    incremental_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
):
    # 13 days: more than the days marts.calls recomputes on each run (those of the new data,
    # 6 hours of lookback before them, 7 days of follow-up look-ahead before that), so the
    # last runs keep the first days as they are
    out, landing, files = _demo_to_deliver(
        tmp_path, monkeypatch, locations=3, days=13, calls_per_location_day=40
    )
    delivered = out / "landing"
    dates = sorted(set(files.values()))
    assert len(dates) == 14  # one file per UTC day, the last with the last local day's spill-over

    def deliver(through: str, pbx_through: str) -> None:
        for path, day in files.items():
            target = landing / path.relative_to(delivered)
            lagging = path.relative_to(delivered).parts[0] == "pbx"
            if day <= (pbx_through if lagging else through) and not target.exists():
                target.parent.mkdir(parents=True, exist_ok=True)
                shutil.copy2(path, target)

    conn = psycopg.connect(incremental_url, autocommit=True)

    def pbx_calls_on(day: str) -> tuple[int, int]:
        """Calls of a UTC day in marts.calls: all, and those with a PBX record."""
        return conn.execute(
            "select count(*), count(*) filter (where has_pbx_record) from marts.calls "
            "where started_date_utc = %s",
            (day,),
        ).fetchone()

    days_built = []
    oids = []
    first_run_last_day = None
    for run, (through, pbx_through) in enumerate(
        (
            (dates[9], dates[8]),
            (dates[10], dates[9]),
            (dates[11], dates[10]),
            (dates[-1], dates[-1]),
            (dates[-1], dates[-1]),  # no new file: one change of an old day alone
        )
    ):
        deliver(through, pbx_through)
        if run == 2:  # records of the newest days change, inside the days the models recompute
            corrected = _deliver_corrections(conn, landing)
            moved_leg = _move_newest_leg(conn)
        # and records of old days, before any day a lookback from the newest would reach:
        # only the changes themselves say which days to recompute (each run's, the days
        # apart so that neither run's recomputes the other's)
        if run == 2:
            old_leg = _move_latest_leg_of(conn, dates[1])
        if run == 3:  # it leaves dates[3], to dates[5]
            restarted_call = _restart_latest_call_of(conn, landing, dates[3])
            # and revenue records of the first days read another number, or are gone
            revenue = _change_revenue_inputs(conn, landing)
            # and the correction of run 2 is taken back: its record's first delivery returns
            _move_correction(conn, corrected["call"])
            # and queue events of days after dates[3] come again (the cutoff stays)
            _export_queue_log_again(landing, dates[4:6])
        if run == 4:  # the cutoff falls inside a call of an old day
            cut_call, cutoff = _cut_through_a_call(conn, landing, dates[5])
        result = run_pipeline(quiet=True)
        assert result.success, result.summary()
        if run == 2:  # a record's newest delivery replaced its row
            assert _staged_caller_name(conn, corrected["call"]) == [("Corrected Caller",)]
        days_built.append(
            conn.execute("select count(distinct started_date_utc) from marts.calls").fetchone()[0]
        )
        oids.append(_oids(conn))
        if first_run_last_day is None:
            first_run_last_day = pbx_calls_on(dates[9])

    # late data happened: the first run built dates[9] from CallRail alone, later runs merged
    # its PBX legs into that day
    calls, with_pbx = first_run_last_day
    assert calls > 0 and with_pbx == 0, first_run_last_day
    assert pbx_calls_on(dates[9])[1] > 0

    # the incremental builds took the corrections and the moves: a record's newest version
    # replaced its row, a moved delivery's record went back to the delivery before it, and
    # the moved leg is gone
    assert _staged_caller_name(conn, corrected["call"]) == [(corrected["original_name"],)]
    assert conn.execute(
        "select total_usd from staging.stg_square__payments where payment_id = %s",
        (corrected["payment"],),
    ).fetchall() == [(corrected["total_usd"],)]
    for model in ("staging.stg_asterisk__cdr", "intermediate.int_pbx_legs_typed"):
        for leg in (moved_leg, old_leg):
            kept = conn.execute(f"select count(*) from {model} where leg_id = %s", (leg,))
            assert kept.fetchone()[0] == 0, (model, leg)

    # the revenue records took the changes of their customer and payments: the first
    # payment reaches the second's number, the failed one is no longer revenue, the moved one
    # is gone
    def revenue_record(model: str, record_id: str) -> list[tuple]:
        column = "phone_e164" if model.startswith("intermediate") else "is_attributed"
        return conn.execute(
            f"select {column} from {model} where record_type = 'payment' and record_id = %s",
            (record_id,),
        ).fetchall()

    records = "intermediate.int_revenue_records"
    assert revenue_record(records, revenue["payment"]) == revenue_record(
        records, revenue["phone_of"]
    )
    assert revenue_record("marts.revenue_attributions", revenue["failed"]) == []
    for model in (records, "marts.revenue_attributions"):
        assert revenue_record(model, revenue["moved"]) == [], model
    # the call the cutoff went through kept every leg
    assert (
        conn.execute(
            "select count(*) from marts.call_legs where pbx_call_id = %s", (cut_call,)
        ).fetchone()[0]
        == conn.execute(
            "select count(*) from intermediate.int_pbx_legs_typed where pbx_call_id = %s",
            (cut_call,),
        ).fetchone()[0]
        > 1
    )
    # the old day's call moved two days later, and its first day has no copy of it left
    assert conn.execute(
        "select started_date_utc::text from marts.calls where callrail_call_id = %s",
        (restarted_call,),
    ).fetchall() == [(dates[5],)]

    # the runs after the first were incremental: the tables stayed (a rebuild replaces them),
    # and rows of days before each model's window kept the transaction that wrote them
    assert days_built[0] < days_built[-1] and days_built == sorted(days_built), days_built
    assert all(run == oids[0] for run in oids), oids
    for model in INCREMENTAL_MODELS:
        writers = conn.execute(f"select count(distinct xmin::text) from {model}").fetchone()[0]
        assert writers > 1, f"{model}: every row rewritten by the last run"

    # each incremental build of a call model recorded the first day it wrote, and its tests
    # read the days from there on (macros/incremental_window.sql)
    def built_from(model: str) -> str:
        return conn.execute(
            "select built_from::text from intermediate._call_model_builds where model like %s",
            (f'%"{model.split(".")[1]}"',),
        ).fetchone()[0]

    # the last build rewrote every call from the cutoff, and the follow-ups of the calls of
    # the 7 days before it: its tests read from the UTC day of that
    written_from = cutoff - timedelta(days=7)
    assert built_from("marts.calls") == written_from.astimezone(UTC).date().isoformat()
    # a model that writes no older call than its cutoff: its tests read from the cutoff's day
    cutoff_day = cutoff.astimezone(UTC).date().isoformat()
    assert built_from("intermediate.int_calls_stitched") == cutoff_day

    # a warehouse an older version built lacks an index added to a model's config since:
    # the next build makes it, before it reads the table (macros/create_missing_indexes.sql)
    added_later = {
        "intermediate.int_calls_classified": "(caller_phone_e164, started_at)",
        "marts.call_conversions": "(is_mature, started_at)",
        "staging.stg_asterisk__queue_log": "(occurred_at, queue_event_id)",
    }
    for table, columns in added_later.items():
        conn.execute(f'drop index {table.split(".")[0]}."{_index_on(conn, table, columns)}"')
        assert _index_on(conn, table, columns) is None
    # and has a plain index where the config now asks for a unique one (the column of a
    # `unique` test, macros/test_unique.sql): the build makes the unique one, drops the plain
    made_unique = {"marts.calls": "(call_id)", "staging.stg_asterisk__cdr": "(leg_id)"}
    for table, columns in made_unique.items():
        conn.execute(f'drop index {table.split(".")[0]}."{_index_on(conn, table, columns)}"')
        conn.execute(f"create index older_plain_index on {table} {columns}")
        assert _unique_flags(conn, table, columns) == [False]

    # a run with nothing new rewrites no call: no model takes a change it has read, or one
    # made in the same invocation by a staging model that is not upstream of it, as new
    first_new = conn.execute("select pg_snapshot_xmax(pg_current_snapshot())::text").fetchone()
    result = run_pipeline(quiet=True)
    assert result.success, result.summary()
    for table, columns in added_later.items():
        assert _index_on(conn, table, columns) is not None, table
    for table, columns in made_unique.items():
        assert _unique_flags(conn, table, columns) == [True], table
    rewritten = {
        model: conn.execute(
            f"select count(*) from {model} where xmin::text::bigint >= %s::bigint", first_new
        ).fetchone()[0]
        for model in CALL_MODELS
    }
    assert not any(rewritten.values()), rewritten

    incremental = _snapshot(conn)
    conn.execute("create schema incremental_snapshot")
    for model in COMPARED:
        conn.execute(
            f"create table incremental_snapshot.{model.replace('.', '__')} as select * from {model}"
        )

    stage_reference()  # the seed path of this data set's reference folder, as the pipeline does
    dbt(["build", "--full-refresh", "--quiet", "--target-path", str(tmp_path / "target")])
    rebuilt = _oids(conn)
    assert all(rebuilt[model] != oids[-1][model] for model in INCREMENTAL_MODELS)  # scratch

    assert built_from("marts.calls") == "-infinity"  # a full build: its tests read every row
    full = _snapshot(conn)
    differing = [model for model in COMPARED if incremental[model] != full[model]]
    assert not differing, "\n".join(
        [
            f"{model}: incremental {incremental[model]}, full refresh {full[model]}"
            for model in differing
        ]
        + [_differences(conn, model) for model in differing]
    )
    assert full["marts.calls"][0] > 0
    conn.close()


def _callrail_calls(path: Path) -> list[dict]:
    """The calls of a CallRail export in any of the formats it comes in: a page of the API's
    JSON, JSON lines or CSV."""
    text = path.read_text(encoding="utf-8")
    if path.suffix == ".csv":
        return list(csv.DictReader(io.StringIO(text)))
    if path.suffix == ".jsonl":
        return [json.loads(line) for line in text.splitlines() if line.strip()]
    return json.loads(text)["calls"]


def _earliest_call_times(landing: Path, paths: list[Path], reference: Path) -> dict[str, datetime]:
    """The earliest call time of the call-input files `paths` (under `landing`), by the
    staging model each feeds, read as the vendor writes it: a CallRail call's start_time (with
    its UTC offset), a CDR leg's start (its PBX's local time, reference pbx_systems.csv) and a
    queue_log event's epoch."""
    with (reference / "pbx_systems.csv").open(newline="", encoding="utf-8") as systems:
        zones = {row["pbx_id"]: ZoneInfo(row["timezone"]) for row in csv.DictReader(systems)}
    times: dict[str, list[datetime]] = {}
    for path in paths:
        parts = path.relative_to(landing).parts
        if parts[:2] == ("tracking", "callrail"):
            model = "stg_callrail__calls"
            found = [datetime.fromisoformat(call["start_time"]) for call in _callrail_calls(path)]
        elif parts[0] == "pbx" and parts[2] == "cdr":
            model = "stg_asterisk__cdr"
            with path.open(newline="", encoding="utf-8") as legs:
                # column 10 of Master.csv (no header) is the leg's start
                found = [
                    datetime.fromisoformat(leg[9]).replace(tzinfo=zones[parts[1]])
                    for leg in csv.reader(legs)
                ]
        elif parts[0] == "pbx" and parts[2] == "queue_log":
            model = "stg_asterisk__queue_log"
            lines = path.read_text(encoding="utf-8").splitlines()
            found = [datetime.fromtimestamp(int(line.split("|")[0]), UTC) for line in lines]
        else:
            continue
        times.setdefault(model, []).extend(found)
    return {model: min(found) for model, found in times.items()}


def test_new_calls_alone_reach_the_call_models(
    incremental_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
):
    """An incremental run whose only change is the calls of new days, with no record delivered
    again, corrected or moved (so no staging build deletes a row), still brings the new calls
    into the call models: each staging build of a call input records the earliest call time of
    its new rows in `_call_input_changes` (the merge's `record_call_input_change(rows=...)`,
    macros/delete_insert.sql). Nothing else records a change in such a run, so without that
    record the call models would see no change and leave the new days out."""
    out, landing, files = _demo_to_deliver(
        tmp_path, monkeypatch, locations=1, days=3, calls_per_location_day=20
    )
    delivered = out / "landing"
    dates = sorted(set(files.values()))
    # every source's files of the first two UTC days, then those of the later days: the
    # second delivery holds no record of a day delivered before
    first = [path for path, day in files.items() if day < dates[2]]
    rest = [path for path, day in files.items() if day >= dates[2]]
    assert first and rest

    def deliver(paths: list[Path]) -> None:
        for path in paths:
            target = landing / path.relative_to(delivered)
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(path, target)

    with psycopg.connect(incremental_url, autocommit=True) as conn:
        deliver(first)
        result = run_pipeline(quiet=True)  # the first build: every model built whole
        assert result.success, result.summary()
        (before,) = conn.execute(
            "select max(changed_at) from intermediate._call_input_changes"
        ).fetchone()

        deliver(rest)
        result = run_pipeline(quiet=True)
        assert result.success, result.summary()

        # the new days reached the call models: every call and leg of the new files is there
        new_calls = {
            call["id"]
            for path in rest
            if path.relative_to(delivered).parts[:2] == ("tracking", "callrail")
            for call in _callrail_calls(path)
        }
        new_legs = set()
        for path in rest:
            parts = path.relative_to(delivered).parts
            if parts[0] == "pbx" and parts[2] == "cdr":
                with path.open(newline="", encoding="utf-8") as legs:
                    # columns 17 and 21 of Master.csv: the uniqueid and the sequence
                    new_legs |= {f"{parts[1]}:{leg[16]}:{leg[20]}" for leg in csv.reader(legs)}
        assert new_calls and new_legs
        built_calls = conn.execute(
            "select callrail_call_id from marts.calls where callrail_call_id = any(%s)",
            (list(new_calls),),
        ).fetchall()
        assert {call for (call,) in built_calls} == new_calls
        built_legs = conn.execute(
            "select leg_id from marts.call_legs where leg_id = any(%s)", (list(new_legs),)
        ).fetchall()
        assert {leg for (leg,) in built_legs} == new_legs

        # each call input recorded one change in the run: its new rows' earliest call time. (So
        # no staging build deleted a row: that would have recorded a change of its own, and
        # moved the call models' cutoff back over the new calls whether or not they were recorded.)
        changes = conn.execute(
            "select source, earliest from intermediate._call_input_changes where changed_at > %s",
            (before,),
        ).fetchall()
        expected = _earliest_call_times(delivered, rest, out / "reference")
        assert sorted(changes) == sorted(expected.items())
