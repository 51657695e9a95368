"""Every query the app runs, in one place: bound parameters, cached, no connection at import.

The app reads the marts only. Rates are sums of the mart's flag columns (`is_answered`,
`is_answer_rate_eligible`), the same measures the metrics layer defines in
models/marts/calls/calls.yml; a test checks that both give the same figures.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pandas as pd
import psycopg
import streamlit as st
import yaml
from psycopg import sql

from callshrink import db, finance, health
from callshrink.settings import PROJECT_DIR, dbt_schema

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


def _filter_params(first_day: date, last_day: date, location_ids: tuple[str, ...]) -> dict:
    return {"first_day": first_day, "last_day": last_day, "location_ids": list(location_ids)}


_CALLS_IN_FILTER = sql.SQL(
    "calls.started_date between %(first_day)s and %(last_day)s "
    "and calls.location_id = any(%(location_ids)s)"
)

# The process-health measures of the semantic model in models/marts/calls/calls.yml, written
# as the same expressions, so that every rate below has the metric's numerator and denominator.
# Each is a count or a sum, so a total over locations is the sum of the locations' rows; the
# average speed of answer keeps its sum and count for the same reason.
_PROCESS_HEALTH_MEASURES = sql.SQL(
    "count(*) filter (where calls.is_answered) as answered_calls, "
    "count(*) filter (where calls.outcome = 'abandoned') as abandoned_calls, "
    "count(*) filter (where calls.is_answer_rate_eligible) as eligible_calls, "
    "count(*) filter (where calls.outcome in ('answered', 'abandoned')) "
    "as answered_or_abandoned_calls, "
    "count(*) filter (where calls.counts_in_service_level) as service_level_calls, "
    "count(*) filter (where calls.meets_service_level) as service_level_met_calls, "
    "coalesce(sum(calls.speed_of_answer_seconds), 0)::bigint as speed_of_answer_seconds_sum, "
    "count(calls.speed_of_answer_seconds) as speed_of_answer_calls, "
    "count(*) filter (where calls.is_repeat_24h) as repeat_24h_calls, "
    "count(*) filter (where calls.is_repeat_7d) as repeat_7d_calls, "
    "count(*) filter (where calls.is_answered and calls.is_transferred) "
    "as transferred_answered_calls, "
    "count(*) filter (where calls.is_answered and calls.is_escalated) "
    "as escalated_answered_calls, "
    "coalesce(sum(calls.resolution_path_length) filter (where calls.is_answer_rate_eligible), 0)"
    "::bigint as resolution_path_legs, "
    "coalesce(sum(calls.customer_effort_events), 0)::bigint as customer_effort_events, "
    "count(calls.is_compliant) as compliance_eligible_calls, "
    "count(*) filter (where calls.is_compliant) as compliant_calls"
)

# rate column: (numerator, denominator), as the metrics of calls.yml define them.
PROCESS_HEALTH_RATES = {
    "service_level": ("service_level_met_calls", "service_level_calls"),
    "average_speed_of_answer_seconds": ("speed_of_answer_seconds_sum", "speed_of_answer_calls"),
    "abandonment_rate": ("abandoned_calls", "answered_or_abandoned_calls"),
    "repeat_contact_rate_24h": ("repeat_24h_calls", "answered_calls"),
    "repeat_contact_rate_7d": ("repeat_7d_calls", "answered_calls"),
    "transfer_rate": ("transferred_answered_calls", "answered_calls"),
    "escalation_rate": ("escalated_answered_calls", "answered_calls"),
    "average_resolution_path_length": ("resolution_path_legs", "eligible_calls"),
    "customer_effort_score": ("customer_effort_events", "eligible_calls"),
    "process_compliance_rate": ("compliant_calls", "compliance_eligible_calls"),
}


def _ratios(frame: pd.DataFrame, ratios: dict[str, tuple[str, str]]) -> pd.DataFrame:
    """Adds each ratio column; empty (NA) where its denominator is 0."""
    for name, (numerator, denominator) in ratios.items():
        below = frame[denominator].astype("Int64")
        ratio = frame[numerator].astype("Int64") / below.where(below > 0)
        frame[name] = ratio.astype("Float64")
    return frame


def process_health_totals(by_location: pd.DataFrame) -> pd.Series:
    """The figures of all the rows of process_health_by_location together (sums, then rates)."""
    measures = list(dict.fromkeys(m for pair in PROCESS_HEALTH_RATES.values() for m in pair))
    totals = by_location[measures].astype("Int64").sum().to_frame().T
    return _ratios(totals, PROCESS_HEALTH_RATES).iloc[0]


@st.cache_data(ttl=CACHE_SECONDS, show_spinner=False)
def process_health_by_location(
    first_day: date, last_day: date, location_ids: tuple[str, ...]
) -> pd.DataFrame:
    """Per location: the process-health measures and their rates (PROCESS_HEALTH_RATES)."""
    statement = sql.SQL(
        "select calls.location_id, locations.location_name, {measures} "
        "from {calls} as calls "
        "inner join {locations} as locations on calls.location_id = locations.location_id "
        "where {in_filter} "
        "group by 1, 2 order by 1, 2"
    ).format(
        measures=_PROCESS_HEALTH_MEASURES,
        calls=_marts("calls"),
        locations=_marts("locations"),
        in_filter=_CALLS_IN_FILTER,
    )
    frame = _query(statement, _filter_params(first_day, last_day, location_ids))
    return _ratios(frame, PROCESS_HEALTH_RATES)


OUTCOMES = ("answered", "voicemail", "abandoned", "missed", "short_abandon", "after_hours", "spam")


@st.cache_data(ttl=CACHE_SECONDS, show_spinner=False)
def outcome_mix(first_day: date, last_day: date, location_ids: tuple[str, ...]) -> pd.DataFrame:
    """Inbound calls by location and outcome (one row per pair with calls), with the share of
    the location's inbound calls."""
    statement = sql.SQL(
        "select calls.location_id, locations.location_name, calls.outcome, "
        "count(*) as calls, "
        "count(*)::float / sum(count(*)) over (partition by calls.location_id) as share "
        "from {calls} as calls "
        "inner join {locations} as locations on calls.location_id = locations.location_id "
        "where calls.direction = 'inbound' and {in_filter} "
        "group by 1, 2, 3 order by 1, 2, 3"
    ).format(calls=_marts("calls"), locations=_marts("locations"), in_filter=_CALLS_IN_FILTER)
    return _query(statement, _filter_params(first_day, last_day, location_ids))


@st.cache_data(ttl=CACHE_SECONDS, show_spinner=False)
def missed_opportunities_by_hour(
    first_day: date, last_day: date, location_ids: tuple[str, ...]
) -> pd.DataFrame:
    """Missed opportunities by location and local hour of day, every hour of the day (0 when
    none), with the share of the hour's answer-rate eligible calls they were."""
    statement = sql.SQL(
        "with counted as ("
        "select calls.location_id, calls.started_hour, "
        "count(*) filter (where calls.is_missed_opportunity) as missed_opportunities, "
        "count(*) filter (where calls.is_answer_rate_eligible) as eligible_calls "
        "from {calls} as calls where {in_filter} group by 1, 2) "
        "select locations.location_id, locations.location_name, hours.hour_of_day, "
        "hours.hour_label, coalesce(counted.missed_opportunities, 0) as missed_opportunities, "
        "coalesce(counted.eligible_calls, 0) as eligible_calls "
        "from {locations} as locations "
        "cross join {hours} as hours "
        "left join counted on locations.location_id = counted.location_id "
        "and hours.hour_of_day = counted.started_hour "
        "where locations.location_id = any(%(location_ids)s) "
        "order by 1, 3"
    ).format(
        calls=_marts("calls"),
        locations=_marts("locations"),
        hours=_marts("dim_hours"),
        in_filter=_CALLS_IN_FILTER,
    )
    frame = _query(statement, _filter_params(first_day, last_day, location_ids))
    return _ratios(frame, {"missed_share": ("missed_opportunities", "eligible_calls")})


# --- missed calls and their recovery -----------------------------------------------------------


@st.cache_data(ttl=CACHE_SECONDS, show_spinner=False)
def recovery_summary(first_day: date, last_day: date, location_ids: tuple[str, ...]) -> pd.Series:
    """Missed opportunities, how many were recovered (by callback, by retry), the recovery rate
    (callback_recovery_rate) and the median minutes to recovery (median_minutes_to_recovery)."""
    statement = sql.SQL(
        "select "
        "count(*) filter (where calls.is_missed_opportunity) as missed_opportunities, "
        "count(*) filter (where calls.is_recovered) as recovered_missed_opportunities, "
        "count(*) filter (where calls.is_recovered and calls.recovered_by = 'callback') "
        "as recovered_by_callback, "
        "count(*) filter (where calls.is_recovered and calls.recovered_by = 'retry') "
        "as recovered_by_retry, "
        "percentile_cont(0.5) within group (order by calls.minutes_to_recovery) "
        "as median_minutes_to_recovery "
        "from {calls} as calls where {in_filter}"
    ).format(calls=_marts("calls"), in_filter=_CALLS_IN_FILTER)
    frame = _query(statement, _filter_params(first_day, last_day, location_ids))
    frame = _ratios(
        frame,
        {"callback_recovery_rate": ("recovered_missed_opportunities", "missed_opportunities")},
    )
    return frame.iloc[0]


@st.cache_data(ttl=CACHE_SECONDS, show_spinner=False)
def recovery_by_day(first_day: date, last_day: date, location_ids: tuple[str, ...]) -> pd.DataFrame:
    """Missed opportunities by local day and what became of them: recovered by callback,
    recovered by retry, or not recovered (yet)."""
    statement = sql.SQL(
        "select calls.started_date as day, "
        "case when calls.is_recovered "
        "then 'recovered by ' || coalesce(calls.recovered_by, 'unknown') "
        "else 'not recovered' end as recovery, "
        "count(*) as missed_opportunities "
        "from {calls} as calls "
        "where calls.is_missed_opportunity and {in_filter} "
        "group by 1, 2 order by 1, 2"
    ).format(calls=_marts("calls"), in_filter=_CALLS_IN_FILTER)
    return _query(statement, _filter_params(first_day, last_day, location_ids))


@st.cache_data(ttl=CACHE_SECONDS, show_spinner=False)
def unrecovered_missed_calls(
    first_day: date, last_day: date, location_ids: tuple[str, ...]
) -> pd.DataFrame:
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
    return _query(statement, _filter_params(first_day, last_day, location_ids))


# --- missed-call shrink (models/marts/finance/missed_call_shrink.yml) ---------------------------
# Money is numeric in the marts and stays Decimal here: sums are exact to the cent.

NO_CAMPAIGN = "(no campaign)"

_SHRINK_IN_FILTER = sql.SQL(
    "shrink.started_date between %(first_day)s and %(last_day)s "
    "and shrink.location_id = any(%(location_ids)s)"
)


def _category_sums(category: str, prefix: str) -> sql.Composed:
    """The measures of missed_call_shrink.yml for one category: the sum and its bounds (0 when
    no rows, as the metric's fill_nulls_with), the valued calls and those without a high bound."""
    when = sql.SQL("filter (where shrink.category = {})").format(sql.Literal(category))
    parts = [
        sql.SQL("coalesce(sum(shrink.expected_shrink_usd) {when}, 0) as {name}").format(
            when=when, name=sql.Identifier(f"{prefix}_usd")
        ),
        sql.SQL("coalesce(sum(shrink.expected_shrink_low_usd) {when}, 0) as {name}").format(
            when=when, name=sql.Identifier(f"{prefix}_low_usd")
        ),
        sql.SQL("coalesce(sum(shrink.expected_shrink_high_usd) {when}, 0) as {name}").format(
            when=when, name=sql.Identifier(f"{prefix}_high_usd")
        ),
        sql.SQL("count(*) {when} as {name}").format(
            when=when, name=sql.Identifier(f"{prefix}_calls")
        ),
        sql.SQL(
            "count(*) filter (where shrink.category = {category} "
            "and shrink.expected_shrink_high_usd is null) as {name}"
        ).format(category=sql.Literal(category), name=sql.Identifier(f"{prefix}_unbounded_calls")),
    ]
    return sql.SQL(", ").join(parts)


_SHRINK_MEASURES = sql.SQL(", ").join(
    [
        _category_sums("missed_opportunity", "missed_call_shrink"),
        _category_sums("after_hours", "after_hours_shrink"),
    ]
)


def shrink_rate(missed_call_shrink: Decimal, revenue_attributed: Decimal) -> Decimal | None:
    """The metric shrink_rate: missed-call shrink / (attributed revenue + missed-call shrink);
    None when the denominator is 0."""
    denominator = revenue_attributed + missed_call_shrink
    return None if denominator == 0 else missed_call_shrink / denominator


@st.cache_data(ttl=CACHE_SECONDS, show_spinner=False)
def shrink_summary(first_day: date, last_day: date, location_ids: tuple[str, ...]) -> pd.Series:
    """Missed-call and after-hours shrink (with bounds and valued calls), the revenue attributed
    to calls on the same local days and locations, and the shrink rate, all Decimal."""
    statement = sql.SQL(
        "with shrink as (select {measures} from {shrink} as shrink where {shrink_filter}), "
        "revenue as ("
        "select coalesce(sum(revenue.signed_amount_usd) filter (where revenue.is_attributed), 0) "
        "as revenue_attributed_usd "
        "from {revenue} as revenue "
        "where revenue.revenue_date between %(first_day)s and %(last_day)s "
        "and revenue.location_id = any(%(location_ids)s)) "
        "select * from shrink cross join revenue"
    ).format(
        measures=_SHRINK_MEASURES,
        shrink=_marts("missed_call_shrink"),
        shrink_filter=_SHRINK_IN_FILTER,
        revenue=_marts("revenue_attributions"),
    )
    summary = _query(statement, _filter_params(first_day, last_day, location_ids)).iloc[0]
    summary = summary.astype(object)
    summary["shrink_rate"] = shrink_rate(
        summary["missed_call_shrink_usd"], summary["revenue_attributed_usd"]
    )
    return summary


SHRINK_CATEGORIES = ("missed_opportunity", "after_hours")


@st.cache_data(ttl=CACHE_SECONDS, show_spinner=False)
def shrink_by(
    grain: str, first_day: date, last_day: date, location_ids: tuple[str, ...]
) -> pd.DataFrame:
    """Shrink by `grain` and category (one row per pair with valued calls): expected shrink,
    its bounds and the valued calls.

    grain: "location" (location_id, location_name), "day" (local day), "source"
    (marketing_source) or "campaign" (marketing_source, marketing_campaign; NO_CAMPAIGN when
    CallRail has none).
    """
    columns = {
        "location": sql.SQL("shrink.location_id, locations.location_name"),
        "day": sql.SQL("shrink.started_date as day"),
        "source": sql.SQL("shrink.marketing_source"),
        "campaign": sql.SQL(
            "shrink.marketing_source, coalesce(shrink.marketing_campaign, {}) as marketing_campaign"
        ).format(sql.Literal(NO_CAMPAIGN)),
    }[grain]
    keys = {"location": 2, "day": 1, "source": 1, "campaign": 2}[grain]
    group_by = sql.SQL(", ").join(sql.Literal(i) for i in range(1, keys + 2))
    statement = sql.SQL(
        "select {columns}, shrink.category, "
        "sum(shrink.expected_shrink_usd) as shrink_usd, "
        "sum(shrink.expected_shrink_low_usd) as shrink_low_usd, "
        "sum(shrink.expected_shrink_high_usd) as shrink_high_usd, "
        "count(*) as valued_calls "
        "from {shrink} as shrink "
        "inner join {locations} as locations on shrink.location_id = locations.location_id "
        "where {shrink_filter} "
        "group by {group_by} order by {group_by}"
    ).format(
        columns=columns,
        group_by=group_by,
        shrink=_marts("missed_call_shrink"),
        locations=_marts("locations"),
        shrink_filter=_SHRINK_IN_FILTER,
    )
    return _query(statement, _filter_params(first_day, last_day, location_ids))


@st.cache_data(ttl=CACHE_SECONDS, show_spinner=False)
def shrink_by_hour(first_day: date, last_day: date, location_ids: tuple[str, ...]) -> pd.DataFrame:
    """Missed-call and after-hours shrink by location and local hour of day: every hour of
    marts.dim_hours for every chosen location, 0 when nothing was valued."""
    statement = sql.SQL(
        "with valued as ("
        "select shrink.location_id, shrink.started_hour, {measures} "
        "from {shrink} as shrink where {shrink_filter} group by 1, 2) "
        "select locations.location_id, locations.location_name, hours.hour_of_day, "
        "hours.hour_label, "
        "coalesce(valued.missed_call_shrink_usd, 0) as missed_call_shrink_usd, "
        "coalesce(valued.missed_call_shrink_calls, 0) as missed_call_shrink_calls, "
        "coalesce(valued.after_hours_shrink_usd, 0) as after_hours_shrink_usd, "
        "coalesce(valued.after_hours_shrink_calls, 0) as after_hours_shrink_calls "
        "from {locations} as locations "
        "cross join {hours} as hours "
        "left join valued on locations.location_id = valued.location_id "
        "and hours.hour_of_day = valued.started_hour "
        "where locations.location_id = any(%(location_ids)s) "
        "order by 1, 3"
    ).format(
        measures=_SHRINK_MEASURES,
        shrink=_marts("missed_call_shrink"),
        shrink_filter=_SHRINK_IN_FILTER,
        locations=_marts("locations"),
        hours=_marts("dim_hours"),
    )
    return _query(statement, _filter_params(first_day, last_day, location_ids))


@st.cache_data(ttl=CACHE_SECONDS, show_spinner=False)
def shrink_cells(first_day: date, last_day: date, location_ids: tuple[str, ...]) -> pd.DataFrame:
    """The conversion cells that valued the calls in the filter, largest shrink first: the
    cell, its fallback level, the figures of the level used (eligible and converted calls, rate
    and its Wilson interval, average converted value and its interval, value per call and its
    interval) and the calls it valued here and their shrink, by category."""
    statement = sql.SQL(
        "with valued as ("
        "select shrink.cell_id, {measures} "
        "from {shrink} as shrink where {shrink_filter} group by 1) "
        "select cells.cell_id, locations.location_name, cells.marketing_source, "
        "cells.caller_type, cells.fallback_level, cells.eligible_calls, cells.converted_calls, "
        "cells.conversion_rate, cells.conversion_rate_low, cells.conversion_rate_high, "
        "cells.average_converted_value_usd, cells.average_converted_value_low_usd, "
        "cells.average_converted_value_high_usd, "
        "cells.value_per_eligible_call_usd, cells.value_per_eligible_call_low_usd, "
        "cells.value_per_eligible_call_high_usd, "
        "valued.missed_call_shrink_calls, valued.missed_call_shrink_usd, "
        "valued.after_hours_shrink_calls, valued.after_hours_shrink_usd "
        "from valued "
        "inner join {cells} as cells on valued.cell_id = cells.cell_id "
        "left join {locations} as locations on cells.location_id = locations.location_id "
        "order by valued.missed_call_shrink_usd desc, valued.after_hours_shrink_usd desc, "
        "cells.cell_id"
    ).format(
        measures=_SHRINK_MEASURES,
        shrink=_marts("missed_call_shrink"),
        shrink_filter=_SHRINK_IN_FILTER,
        cells=_marts("conversion_cells"),
        locations=_marts("locations"),
    )
    return _query(statement, _filter_params(first_day, last_day, location_ids))


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
    """The months (YYYY-MM) closed: the newest revenue day in the warehouse is var
    month_close_days past their last day (the rule of int_revenue_months_closed)."""
    statement = sql.SQL(
        "select distinct to_char(monthly.revenue_month, 'YYYY-MM') as revenue_month "
        "from {monthly} as monthly "
        "cross join (select max(revenue_date) as newest from {attributions}) as newest_day "
        "where (monthly.revenue_month + interval '1 month' - interval '1 day')::date "
        "+ %(close_days)s <= newest_day.newest "
        "order by 1"
    ).format(
        monthly=_marts("revenue_reconciliation_monthly"),
        attributions=_marts("revenue_attributions"),
    )
    frame = _query(statement, {"close_days": int(dbt_var("month_close_days"))})
    return list(frame["revenue_month"])


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
