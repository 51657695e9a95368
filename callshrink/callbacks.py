"""The callback work list: the callers to call back at a location as of a time, best first.

The list is one SQL function dbt creates, ``restricted.callback_list(as_of, location)``
(macros/callback_list.sql; docs/metrics.md, "Callback work list"). `callshrink callbacks` and
the app's Call back page both call it through ``list_as_of`` and write its rows as they are:
nothing here counts, adds or ranks.

It returns callers' numbers in clear, so it runs on a connection allowed to read the
restricted schema: the warehouse's owner (the CLI) or call-back staff, a member of the
restricted role (the app, CALLSHRINK_STAFF_DATABASE_URL).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

import psycopg
from psycopg import sql

from callshrink.finance import csv_text
from callshrink.settings import dbt_schema

# The columns of restricted.callback_list, in its order (the CSV's header).
COLUMNS = (
    "rank",
    "caller_phone_e164",
    "location_id",
    "latest_call_at_local",
    "latest_call_at",
    "wait_seconds",
    "attempts",
    "outcome",
    "marketing_source",
    "hours_since_call",
    "recovery_chance",
    "value_usd",
    "cell_id",
    "expected_value_usd",
    "call_ids",
    "listed_as_of",
)

AS_OF_EXAMPLES = "2026-03-04T14:30, 2026-03-04 14:30:00-05:00 or 2026-03-04T19:30Z"


class CallbackError(ValueError):
    """A location or time the list cannot be made for; the message says why."""


def parse_as_of(text: str) -> dt.datetime:
    """An ISO 8601 date and time, with or without a UTC offset (none: UTC), as an aware time."""
    try:
        moment = dt.datetime.fromisoformat(text.strip())
    except ValueError:
        raise CallbackError(
            f"{text!r} is not an ISO 8601 time: write e.g. {AS_OF_EXAMPLES} "
            "(without an offset the time is UTC)"
        ) from None
    return moment if moment.tzinfo else moment.replace(tzinfo=dt.UTC)


def _function() -> sql.Composed:
    return sql.SQL("{}.callback_list").format(sql.Identifier(dbt_schema("restricted")))


def location_ids(conn: psycopg.Connection) -> list[str]:
    """The warehouse's locations (marts.locations), in order."""
    query = sql.SQL("select location_id from {} order by location_id").format(
        sql.Identifier(dbt_schema("marts"), "locations")
    )
    return [location for (location,) in conn.execute(query)]


def check_location(conn: psycopg.Connection, location: str) -> None:
    """A CallbackError naming the location and the known ones when it is not a location."""
    known = location_ids(conn)
    if location not in known:
        listed = ", ".join(known) if known else "none yet: run `callshrink run` first"
        raise CallbackError(f"no location {location!r} in the warehouse; its locations: {listed}")


def newest_call_at(conn: psycopg.Connection) -> dt.datetime | None:
    """The newest call in the warehouse (UTC): the list's default as-of time."""
    query = sql.SQL("select newest_call_at from {} limit 1").format(
        sql.Identifier(dbt_schema("marts"), "callback_recovery_curve")
    )
    with conn.transaction():
        conn.execute("set local time zone 'UTC'")
        row = conn.execute(query).fetchone()
    return None if row is None else row[0]


def list_as_of(
    conn: psycopg.Connection, as_of: dt.datetime | None, location: str | None
) -> list[tuple]:
    """restricted.callback_list's rows (COLUMNS) as of a time (None: the newest call) at a
    location (None: every location), best first; times in UTC."""
    query = sql.SQL("select {} from {}(%(as_of)s, %(location)s)").format(
        sql.SQL(", ").join(map(sql.Identifier, COLUMNS)), _function()
    )
    try:
        with conn.transaction():
            conn.execute("set local time zone 'UTC'")
            return conn.execute(query, {"as_of": as_of, "location": location}).fetchall()
    except (psycopg.errors.UndefinedFunction, psycopg.errors.UndefinedTable):
        raise CallbackError(
            "the warehouse has no callback list yet: dbt builds it (restricted.callback_list); "
            "run `callshrink run` once with this version of callshrink"
        ) from None


def csv_of(rows: Sequence[tuple]) -> str:
    """The list as CSV: a header of COLUMNS, a line per caller, amounts as Postgres holds them."""
    return csv_text(COLUMNS, rows)
