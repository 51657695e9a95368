"""Every query the app runs, in one place: bound parameters, cached, no connection at import.

The app reads the marts only. Rates are sums of the mart's flag columns (`is_answered`,
`is_answer_rate_eligible`), the same measures the metrics layer defines in
models/marts/calls/calls.yml; a test checks that both give the same figures.
"""

from __future__ import annotations

from datetime import date

import pandas as pd
import psycopg
import streamlit as st
from psycopg import sql

from callshrink import db
from callshrink.settings import dbt_schema

CACHE_SECONDS = 300


@st.cache_resource(show_spinner=False)
def _connection() -> psycopg.Connection:
    return psycopg.connect(db.database_url(start=False), autocommit=True)


def _query(statement: sql.Composable, params: dict) -> pd.DataFrame:
    conn = _connection()
    if conn.closed or conn.broken:
        _connection.clear()
        conn = _connection()
    with conn.cursor() as cursor:
        cursor.execute(statement, params)
        columns = [column.name for column in cursor.description]
        return pd.DataFrame(cursor.fetchall(), columns=columns)


def _marts(table: str) -> sql.Composed:
    return sql.SQL("{}.{}").format(sql.Identifier(dbt_schema("marts")), sql.Identifier(table))


@st.cache_data(ttl=CACHE_SECONDS, show_spinner=False)
def locations() -> pd.DataFrame:
    return _query(
        sql.SQL("select location_id, location_name, region from {} order by location_id").format(
            _marts("locations")
        ),
        {},
    )


@st.cache_data(ttl=CACHE_SECONDS, show_spinner=False)
def call_date_range() -> tuple[date, date] | None:
    frame = _query(
        sql.SQL(
            "select min(started_date) as first_day, max(started_date) as last_day from {} "
            "where direction = 'inbound'"
        ).format(_marts("calls")),
        {},
    )
    first, last = frame.iloc[0]
    return None if first is None else (first, last)


_ANSWER_COUNTS = sql.SQL(
    "count(*) as inbound_calls, "
    "count(*) filter (where is_answered) as answered_calls, "
    "count(*) filter (where is_answer_rate_eligible) as eligible_calls"
)


def _answer_rates(frame: pd.DataFrame) -> pd.DataFrame:
    eligible = frame["eligible_calls"].astype("Int64")
    frame["answer_rate"] = frame["answered_calls"].astype("Int64") / eligible.where(eligible > 0)
    frame["answer_rate"] = frame["answer_rate"].astype("Float64")
    return frame


@st.cache_data(ttl=CACHE_SECONDS, show_spinner=False)
def answer_rate_by(
    grain: str, first_day: date, last_day: date, location_ids: tuple[str, ...]
) -> pd.DataFrame:
    """Inbound, answered and eligible calls and the answer rate, by location and `grain`.

    grain: "location" (one row per location), "day" (per location and local day) or
    "hour" (per location and local hour of day).
    """
    grain_column, group_by = {
        "location": (sql.SQL(""), sql.SQL("1, 2")),
        "day": (sql.SQL(", started_date as day"), sql.SQL("1, 2, 3")),
        "hour": (sql.SQL(", started_hour as hour_of_day"), sql.SQL("1, 2, 3")),
    }[grain]
    statement = sql.SQL(
        "select calls.location_id, locations.location_name{grain}, {counts} "
        "from {calls} as calls "
        "inner join {locations} as locations on calls.location_id = locations.location_id "
        "where calls.direction = 'inbound' "
        "and calls.started_date between %(first_day)s and %(last_day)s "
        "and calls.location_id = any(%(location_ids)s) "
        "group by {group_by} order by {group_by}"
    ).format(
        grain=grain_column,
        group_by=group_by,
        counts=_ANSWER_COUNTS,
        calls=_marts("calls"),
        locations=_marts("locations"),
    )
    params = {"first_day": first_day, "last_day": last_day, "location_ids": list(location_ids)}
    return _answer_rates(_query(statement, params))
