"""Every query the app runs, in one place: bound parameters, cached, no connection at import.

Figures (counts, rates, dollars) come from the metrics layer only: figures() asks MetricFlow
for a metric query's SQL (callshrink/semantic.py) and runs it on the app's read-only
connection. The marts are read directly for lists alone (calls, cells, finance's records),
never to add anything up; a test compares every figure a page asks for with `mf query`.
"""

from __future__ import annotations

from datetime import date

import pandas as pd
import psycopg
import streamlit as st
import yaml
from psycopg import sql

from callshrink import callbacks, db, finance, health, semantic
from callshrink.semantic import MetricQuery, Period
from callshrink.settings import PROJECT_DIR, configured_staff_database_url, dbt_schema

CACHE_SECONDS = 300


@st.cache_resource(show_spinner=False)
def _connection() -> psycopg.Connection:
    """The app's read-only role (CALLSHRINK_APP_DATABASE_URL, or the private server's app role),
    never the warehouse's owner: it may read the marts and nothing else. The session is read
    only as well, so no statement of the app writes, whatever role a user configured."""
    conn = psycopg.connect(db.app_database_url(start=False), autocommit=True)
    conn.execute("set session characteristics as transaction read only")
    return conn


def _live_connection() -> psycopg.Connection:
    conn = _connection()
    if conn.closed or conn.broken:
        _connection.clear()
        conn = _connection()
    return conn


def _query(statement: sql.Composable, params: dict) -> pd.DataFrame:
    conn = _live_connection()
    with conn.cursor() as cursor:
        cursor.execute(statement, params)
        columns = [column.name for column in cursor.description]
        return pd.DataFrame(cursor.fetchall(), columns=columns)


def _marts(table: str) -> sql.Composed:
    return sql.SQL("{}.{}").format(sql.Identifier(dbt_schema("marts")), sql.Identifier(table))


@st.cache_data(ttl=CACHE_SECONDS, show_spinner=False)
def dbt_var(name: str) -> object:
    """A var of dbt_project.yml the marts were built with (e.g. service_level_seconds)."""
    project = yaml.safe_load((PROJECT_DIR / "dbt_project.yml").read_text())
    return project["vars"][name]


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
        # min and max read the index on started_date (models/marts/calls/calls.yml)
        sql.SQL(
            "select min(started_date) as first_day, max(started_date) as last_day from {} "
            "where direction = 'inbound'"
        ).format(_marts("calls")),
        {},
    )
    first, last = frame.iloc[0]
    return None if first is None else (first, last)


# --- the metrics layer ---------------------------------------------------------------------------
# Every count, rate and dollar figure a page shows is a metric of the semantic layer
# (callshrink/semantic.py): MetricFlow writes the SQL, the app's connection runs it.

# The saved queries of models/marts/metrics/saved_queries.yml the pages show.
EXECUTIVE_SUMMARY = MetricQuery(saved_query="executive_summary")
LOCATION_SCORECARD = MetricQuery(saved_query="location_scorecard")
LOCATION_DAYS = MetricQuery(saved_query="location_days")
WEEK_HEATMAP = MetricQuery(saved_query="week_heatmap")
SHRINK_BY_MARKETING_SOURCE = MetricQuery(saved_query="shrink_by_marketing_source")
REVENUE_BY_RECORD_TYPE = MetricQuery(saved_query="revenue_by_record_type")
NET_REVENUE = MetricQuery(saved_query="net_revenue")
REVENUE_BY_DAY = MetricQuery(saved_query="revenue_by_day")

# Every (query, period) the pages asked for, when a test sets a list here (the parity test
# asks `mf query` the same and compares).
ASKED: list[tuple[MetricQuery, Period]] | None = None


def metrics(*names: str, by: tuple[str, ...] = (), where: tuple[str, ...] = ()) -> MetricQuery:
    """A metric query: metrics by group-by items (MetricFlow's names, e.g.
    location__location_name, metric_time__day, call__hour_of_day)."""
    return MetricQuery(metrics=names, group_by=by, where=where)


@st.cache_data(ttl=CACHE_SECONDS, show_spinner=False)
def _figures(query: MetricQuery, period: Period) -> pd.DataFrame:
    return semantic.run(_live_connection(), query, period)


def figures(query: MetricQuery, period: Period) -> pd.DataFrame:
    """The query's metrics for the period: a column per group-by item (semantic.column_name)
    and per metric; counts and money as Decimal or int, rates as floats (NaN: no denominator)."""
    if ASKED is not None:
        ASKED.append((query, period))
    return _figures(query, period)


def totals(query: MetricQuery, period: Period) -> pd.Series:
    """The figures of a query without group-by items: its one row (empty when nothing)."""
    frame = figures(query, period)
    return frame.iloc[0] if len(frame) else pd.Series(dtype=object)


def with_previous(query: MetricQuery, period: Period) -> tuple[pd.Series, pd.Series]:
    """totals() for the period and for the period of equal length before it."""
    return totals(query, period), totals(query, period.previous())


# --- lists of calls -------------------------------------------------------------------------------


@st.cache_data(ttl=CACHE_SECONDS, show_spinner=False)
def unrecovered_missed_calls(period: Period) -> pd.DataFrame:
    """The work list: missed opportunities nobody has got back to, newest first. The caller's
    number is the mart's masked one; the full number never leaves the warehouse."""
    statement = sql.SQL(
        "select missed.caller_masked, locations.location_name, "
        "missed.started_at_local, missed.outcome, missed.wait_seconds, missed.has_voicemail, "
        "missed.call_id "
        "from {missed_calls} as missed "
        "inner join {locations} as locations on missed.location_id = locations.location_id "
        "where missed.is_recovered is not true "
        "and missed.started_date between %(first_day)s and %(last_day)s "
        "and missed.location_id = any(%(location_ids)s) "
        "order by missed.started_at desc, missed.call_id"
    ).format(missed_calls=_marts("missed_calls"), locations=_marts("locations"))
    return _query(statement, period.params())


@st.cache_data(ttl=CACHE_SECONDS, show_spinner=False)
def calls_of_day(location_id: str, day: date) -> pd.DataFrame:
    """A location's inbound calls of one local day, in the order they came (the drill-down
    from a figure to the calls behind it); callers' numbers masked."""
    statement = sql.SQL(
        "select calls.started_at_local, calls.caller_masked, calls.outcome, "
        "calls.is_missed_opportunity, calls.is_recovered, calls.recovered_by, "
        "calls.wait_seconds, calls.talk_seconds, calls.marketing_source, calls.call_id "
        "from {calls} as calls "
        "where calls.direction = 'inbound' and calls.location_id = %(location_id)s "
        "and calls.started_date = %(day)s "
        "order by calls.started_at, calls.call_id"
    ).format(calls=_marts("calls"))
    return _query(statement, {"location_id": location_id, "day": day})


@st.cache_data(ttl=CACHE_SECONDS, show_spinner=False)
def lost_calls_of_cause(period: Period, cause: str) -> pd.DataFrame:
    """The valued calls (marts.missed_call_shrink) a root cause lost in the period, newest
    first, with their value: the calls behind a cause's dollars."""
    statement = sql.SQL(
        "select shrink.started_at_local, locations.location_name, shrink.outcome, "
        "shrink.marketing_source, shrink.caller_type, shrink.expected_shrink_usd, "
        "shrink.call_id "
        "from {shrink} as shrink "
        "inner join {locations} as locations on shrink.location_id = locations.location_id "
        "where shrink.cause = %(cause)s "
        "and shrink.started_date between %(first_day)s and %(last_day)s "
        "and shrink.location_id = any(%(location_ids)s) "
        "order by shrink.started_at desc, shrink.call_id"
    ).format(shrink=_marts("missed_call_shrink"), locations=_marts("locations"))
    return _query(statement, {**period.params(), "cause": cause})


def _location_rows(table: str, location_id: str, order_by: str) -> pd.DataFrame:
    statement = sql.SQL(
        "select * from {table} where location_id = %(location_id)s order by {order}"
    )
    return _query(
        statement.format(table=_marts(table), order=sql.SQL(order_by)), {"location_id": location_id}
    )


@st.cache_data(ttl=CACHE_SECONDS, show_spinner=False)
def staffing_hours(location_id: str) -> pd.DataFrame:
    """A location's open weekday-hours of marts.staffing_hours: calls, agents on the phones
    and needed, the gap and the shrink it explains (docs/staffing.md)."""
    return _location_rows("staffing_hours", location_id, "iso_weekday, hour_of_day")


@st.cache_data(ttl=CACHE_SECONDS, show_spinner=False)
def staffing_what_if(location_id: str) -> pd.DataFrame:
    """A location's rows of marts.staffing_what_if: per weekday-hour and agents added, the
    answered share and the calls and dollars a week it buys."""
    return _location_rows("staffing_what_if", location_id, "iso_weekday, hour_of_day, added_agents")


@st.cache_data(ttl=CACHE_SECONDS, show_spinner=False)
def control_chart(location_id: str, kpi: str) -> pd.DataFrame:
    """A location's points of one KPI (marts.process_control_points) in day order: value,
    centre line, limits, whether it was judged, and the rules that fired on it."""
    statement = sql.SQL(
        "select points.started_date, points.point_value, points.centre_line, points.lcl_3, "
        "points.ucl_3, points.n, points.phase, points.is_judged, "
        "string_agg(signals.rule_name, ', ' order by signals.rule_number) as rules "
        "from {points} as points "
        "left join {signals} as signals on points.location_id = signals.location_id "
        "and points.kpi = signals.kpi and points.started_date = signals.signal_date "
        "where points.location_id = %(location_id)s and points.kpi = %(kpi)s "
        "group by points.started_date, points.point_value, points.centre_line, points.lcl_3, "
        "points.ucl_3, points.n, points.phase, points.is_judged "
        "order by points.started_date"
    ).format(points=_marts("process_control_points"), signals=_marts("process_signals"))
    return _query(statement, {"location_id": location_id, "kpi": kpi})


@st.cache_data(ttl=CACHE_SECONDS, show_spinner=False)
def process_signals(period: Period) -> pd.DataFrame:
    """The signals (marts.process_signals) of the period's days and locations, newest first."""
    statement = sql.SQL(
        "select signals.signal_date, locations.location_name, signals.location_id, "
        "signals.kpi, signals.rule_name, signals.direction, signals.point_value, "
        "signals.centre_line, signals.lcl_3, signals.ucl_3, signals.n "
        "from {signals} as signals "
        "inner join {locations} as locations on signals.location_id = locations.location_id "
        "where signals.signal_date between %(first_day)s and %(last_day)s "
        "and signals.location_id = any(%(location_ids)s) "
        "order by signals.signal_date desc, signals.location_id, signals.kpi, "
        "signals.rule_number"
    ).format(signals=_marts("process_signals"), locations=_marts("locations"))
    return _query(statement, period.params())


@st.cache_data(ttl=CACHE_SECONDS, show_spinner=False)
def conversion_cells() -> pd.DataFrame:
    """Every conversion cell (marts.conversion_cells) with its location's name: the figures of
    the level each cell uses (docs/metrics.md, "Missed-call shrink")."""
    statement = sql.SQL(
        "select cells.cell_id, locations.location_name, cells.marketing_source, "
        "cells.caller_type, cells.fallback_level, cells.eligible_calls, cells.converted_calls, "
        "cells.conversion_rate, cells.conversion_rate_low, cells.conversion_rate_high, "
        "cells.average_converted_value_usd, cells.average_converted_value_low_usd, "
        "cells.average_converted_value_high_usd, "
        "cells.value_per_eligible_call_usd, cells.value_per_eligible_call_low_usd, "
        "cells.value_per_eligible_call_high_usd "
        "from {cells} as cells "
        "left join {locations} as locations on cells.location_id = locations.location_id "
        "order by cells.cell_id"
    ).format(cells=_marts("conversion_cells"), locations=_marts("locations"))
    return _query(statement, {})


# --- the callback work list (docs/metrics.md, "Callback work list") -----------------------------


@st.cache_data(ttl=CACHE_SECONDS, show_spinner=False)
def recovery_curve() -> pd.DataFrame:
    """marts.callback_recovery_curve: per whole hour since a missed call, the settled calls still
    waiting then and the share of them recovered within the window. No caller's number."""
    statement = sql.SQL(
        "select hours_elapsed, waiting_calls, recovered_calls, recovery_chance, newest_call_at "
        "from {} order by hours_elapsed"
    ).format(_marts("callback_recovery_curve"))
    return _query(statement, {})


def staff_url() -> str | None:
    """CALLSHRINK_STAFF_DATABASE_URL: call-back staff's role, a member of the restricted role
    (`callshrink app` sets it on the private server). None: the app shows no caller's number."""
    return configured_staff_database_url()


@st.cache_resource(show_spinner=False)
def _staff_connection(url: str) -> psycopg.Connection:
    """Staff's connection, apart from the app's read-only role (which never reads the
    restricted schema); read only as well."""
    conn = psycopg.connect(url, autocommit=True)
    conn.execute("set session characteristics as transaction read only")
    return conn


def _live_staff_connection(url: str) -> psycopg.Connection:
    conn = _staff_connection(url)
    if conn.closed or conn.broken:
        _staff_connection.clear()
        conn = _staff_connection(url)
    return conn


def callback_list(url: str, location_id: str) -> list[tuple]:
    """restricted.callback_list as of the newest call at a location, on staff's connection: the
    callers to call back, best first, numbers in clear (callbacks.COLUMNS; the rows
    `callshrink callbacks` writes). Not cached: a number is kept no longer than the page."""
    return callbacks.list_as_of(_live_staff_connection(url), None, location_id)


# --- finance's month (models/marts/finance/revenue_reconciliation.yml, revenue_restatements.yml)
# The tie-out and the records are finance's own queries (callshrink/finance.py), the ones
# `callshrink export finance` runs, so the page and the CSVs it offers are the export's.

RECORD_TYPES = ("payment", "refund", "deal")


@st.cache_data(ttl=CACHE_SECONDS, show_spinner=False)
def revenue_months() -> list[str]:
    """The months (YYYY-MM) that hold revenue, newest first."""
    return list(reversed(finance.revenue_months(_live_connection())))


@st.cache_data(ttl=CACHE_SECONDS, show_spinner=False)
def finance_month(month: str, level: str) -> tuple[tuple[str, ...], list[tuple]]:
    """The month (YYYY-MM) at `level` (daily or records): the export's columns and rows.

    A finance.FinanceError when the month holds no revenue.
    """
    return finance.month_table(_live_connection(), finance.parse_month(month), level)


@st.cache_data(ttl=CACHE_SECONDS, show_spinner=False)
def finance_csv(month: str, level: str) -> str:
    """The CSV `callshrink export finance --month MONTH --level LEVEL` writes, as text."""
    return finance.csv_text(*finance_month(month, level))


def daily_tie_out(month: str) -> pd.DataFrame:
    """The export's daily level as a frame: a row per location, day and record type
    (row_type "day"), then a total per record type (row_type "total"), then the month's
    quarantined records per record type (row_type "left_out"); money as Decimal."""
    columns, rows = finance_month(month, "daily")
    return pd.DataFrame(rows, columns=list(columns))


@st.cache_data(ttl=CACHE_SECONDS, show_spinner=False)
def left_out_records(month: str) -> pd.DataFrame:
    """The month's payment, refund and deal lines the loader kept in quarantine
    (finance.left_out_rows): what the tie-out cannot see, with file, line and reason."""
    rows = finance.left_out_rows(_live_connection(), finance.parse_month(month))
    return pd.DataFrame(rows, columns=list(finance.LEFT_OUT_COLUMNS))


@st.cache_data(ttl=CACHE_SECONDS, show_spinner=False)
def closed_months() -> list[str]:
    """The months (YYYY-MM) closed, by the rule marts.revenue_months applies (dbt var
    month_close_days)."""
    return finance.closed_months(_live_connection())


@st.cache_data(ttl=CACHE_SECONDS, show_spinner=False)
def closes_on(month: str) -> date | None:
    """The day a month (YYYY-MM) closes: marts.revenue_months.closes_on."""
    return finance.closes_on(_live_connection(), finance.parse_month(month))


@st.cache_data(ttl=CACHE_SECONDS, show_spinner=False)
def restatements(month: str | None = None) -> pd.DataFrame:
    """Rows of marts.revenue_restatements: closed months whose figures changed after closing,
    for one month (YYYY-MM) or, with None, every closed month. Money as Decimal."""
    where = sql.SQL("")
    params: dict = {}
    if month is not None:
        where = sql.SQL("where restated.revenue_month = %(first_day)s")
        params = {"first_day": finance.parse_month(month).first_day}
    statement = sql.SQL(
        "select restated.*, locations.location_name "
        "from {restatements} as restated "
        "left join {locations} as locations on restated.location_id = locations.location_id "
        "{where} "
        "order by restated.revenue_month, restated.location_id nulls last, "
        "array_position(array['payment', 'refund', 'deal'], restated.record_type)"
    ).format(
        restatements=_marts("revenue_restatements"), locations=_marts("locations"), where=where
    )
    return _query(statement, params)


@st.cache_data(ttl=CACHE_SECONDS, show_spinner=False)
def data_health() -> health.HealthReport:
    """marts.data_health and marts.pbx_names with their findings (callshrink/health.py, the
    same report `callshrink doctor` prints)."""
    return health.read(_live_connection(), dbt_schema("marts"))
