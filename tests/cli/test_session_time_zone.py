"""Every warehouse session works in UTC, whatever the server's TimeZone.

A user's Postgres often runs in local time. The models take a call's UTC day
(`started_at::date`) and add windows of days to instants; in a New York session the first
would put an evening call on the next day's date and the second would make a 30-day window
an hour short across the March change. `db.activate` exports PGTZ=UTC, which libpq (dbt's
psycopg2, psycopg, psql) applies to every new session; `callshrink db env` prints it.
"""

from __future__ import annotations

import datetime as dt
import os
from collections.abc import Iterator

import psycopg
import psycopg2
import pytest
from psycopg import sql

from callshrink import db, settings
from tests.conftest import database_name, drop_database, recreate_database

DATABASE = "callshrink_test_new_york"
# 8 March 2026, 23:30 in New York (EDT from 03:00 that day) is 03:30 UTC on 9 March
EVENING = "2026-03-09 03:30:00+00"


@pytest.fixture
def new_york_database(server_url: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    url = recreate_database(server_url, DATABASE)
    with psycopg.connect(server_url, autocommit=True) as conn:
        conn.execute(
            sql.SQL("alter database {} set timezone = 'America/New_York'").format(
                sql.Identifier(database_name(DATABASE))
            )
        )
    # activate() writes os.environ: record what it touches, so that monkeypatch puts it back
    connection = settings.Connection.from_url(url).env()
    for name in [*connection, *db.SESSION_ENV, db.MARTS_READER_VAR]:
        if name in os.environ:
            monkeypatch.setenv(name, os.environ[name])
    for name in list(db.SESSION_ENV):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("CALLSHRINK_DATABASE_URL", url)
    yield url
    drop_database(server_url, DATABASE)


def _day_and_window(cursor) -> tuple[str, dt.date, dt.datetime]:
    cursor.execute(
        "select current_setting('TimeZone'), %s::timestamptz::date,"
        " '2026-03-01 10:00:00+00'::timestamptz + interval '30 days'",
        (EVENING,),
    )
    return cursor.fetchone()


def test_the_database_default_alone_would_be_new_york(new_york_database: str) -> None:
    """The case the setting guards against exists: without PGTZ the session is New York's."""
    with psycopg.connect(new_york_database) as conn:
        zone, day, window_end = _day_and_window(conn.cursor())
    assert zone == "America/New_York"
    assert day == dt.date(2026, 3, 8)
    assert window_end == dt.datetime(2026, 3, 31, 9, 0, tzinfo=dt.UTC)


def test_activate_makes_every_session_utc(new_york_database: str) -> None:
    db.activate(start=False)
    assert db.dbt_env()["PGTZ"] == "UTC"
    for connect in (psycopg.connect, psycopg2.connect):  # the app and loaders; dbt
        conn = connect(new_york_database)
        try:
            zone, day, window_end = _day_and_window(conn.cursor())
        finally:
            conn.close()
        assert zone == "UTC", connect
        assert day == dt.date(2026, 3, 9), connect
        assert window_end == dt.datetime(2026, 3, 31, 10, 0, tzinfo=dt.UTC), connect
