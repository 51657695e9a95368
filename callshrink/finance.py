"""Finance's month: the reconciliation and every revenue record of a month, as rows and as CSV.

Every query finance's export runs is here, with bound parameters, so the app can reuse them.
Amounts stay exact decimals from Postgres to the file (numeric(18, 2) in SQL, Decimal in
Python, written with str()): never a float.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import psycopg
from psycopg import sql

from callshrink.settings import dbt_schema

LEVELS = ("daily", "records", "left_out")
_MONTH = re.compile(r"(\d{4})-(\d{2})")

DAILY_COLUMNS = (
    "row_type",
    "location_id",
    "revenue_date",
    "record_type",
    "source_records",
    "attributed_records",
    "source_usd",
    "attributed_usd",
    "unattributed_usd",
)

# Per location (empty: deals no call placed) x local day x record type, then one total row per
# record type, then what the month left out. Refunds are positive amounts, as in the marts:
# net = payments - refunds + deals. Every figure is a mart's row as dbt built it; nothing is
# added up here (models/marts/finance: revenue_reconciliation, revenue_reconciliation_totals,
# revenue_left_out_totals).
_DAILY = """
with days as (
    select
        'day' as row_type,
        location_id,
        revenue_date,
        record_type,
        source_records,
        attributed_records,
        source_usd,
        attributed_usd,
        unattributed_usd
    from {marts}.revenue_reconciliation
    where revenue_date >= %(first_day)s and revenue_date < %(next_month)s
),

totals as (
    select
        'total' as row_type,
        null as location_id,
        null::date as revenue_date,
        record_type,
        source_records,
        attributed_records,
        source_usd,
        attributed_usd,
        unattributed_usd
    from {marts}.revenue_reconciliation_totals
    where revenue_month = %(first_day)s
),

left_out as (
    -- quarantined source records of the month and those of no readable month: counted, and
    -- their dollars where the line shows a USD amount, beside the totals they are not part
    -- of. A month with no row there (no revenue and no line of its own) takes the null
    -- month's rows: the undated lines alone.
    select
        'left_out' as row_type,
        null as location_id,
        null::date as revenue_date,
        record_type,
        left_out_records as source_records,
        null::bigint as attributed_records,
        left_out_usd as source_usd,
        null::numeric as attributed_usd,
        null::numeric as unattributed_usd
    from {marts}.revenue_left_out_totals
    where
        revenue_month = %(first_day)s
        or (
            revenue_month is null
            and not exists (
                select from {marts}.revenue_left_out_totals as listed
                where listed.revenue_month = %(first_day)s
            )
        )
),

both_levels as (
    select * from days
    union all
    select * from totals
    union all
    select * from left_out
)

select
    row_type,
    location_id,
    revenue_date,
    record_type,
    source_records::bigint,
    attributed_records::bigint,
    source_usd::numeric(18, 2),
    attributed_usd::numeric(18, 2),
    unattributed_usd::numeric(18, 2)
from both_levels
order by
    array_position(array['day', 'total', 'left_out'], row_type),
    revenue_date,
    location_id nulls last,
    array_position(array['payment', 'refund', 'deal'], record_type)
"""

RECORD_COLUMNS = (
    "record_type",
    "record_id",
    "payment_id",
    "occurred_at",
    "location_id",
    "revenue_date",
    "amount_usd",
    "signed_amount_usd",
    "is_attributed",
    "attribution_rule",
    "call_id",
    "call_location_id",
    "source_file",
    "source_line_number",
)

_RECORDS = """
select
    record_type,
    record_id,
    payment_id,
    to_char(occurred_at at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"') as occurred_at,
    location_id,
    revenue_date,
    amount_usd::numeric(18, 2),
    signed_amount_usd::numeric(18, 2),
    is_attributed,
    attribution_rule,
    call_id,
    call_location_id,
    source_file,
    source_line_number
from {marts}.revenue_attributions
where revenue_date >= %(first_day)s and revenue_date < %(next_month)s
order by revenue_date, location_id nulls last, record_type, occurred_at, record_id
"""

LEFT_OUT_COLUMNS = (
    "record_type",
    "record_id",
    "record_month",
    "amount",
    "currency",
    "source_file",
    "line_number",
    "reason",
)

# Lines of the month's source files the loader kept out (or whose month cannot be read).
_LEFT_OUT = """
select record_type, record_id, record_month, amount, currency, source_file, line_number, reason
from {marts}.revenue_left_out
where record_month = %(first_day)s or record_month is null
order by record_type, source_file, line_number
"""


# The months with revenue, and those closed, as dbt marks them (marts.revenue_months).
_REVENUE_MONTHS = """
select to_char(revenue_month, 'YYYY-MM') from {marts}.revenue_months order by revenue_month
"""

_CLOSED_MONTHS = """
select to_char(revenue_month, 'YYYY-MM') from {marts}.revenue_months
where is_closed
order by revenue_month
"""


def _in_marts(query: str) -> sql.Composed:
    """The query with {marts} as the schema dbt builds the marts into (settings.dbt_schema)."""
    return sql.SQL(query).format(marts=sql.Identifier(dbt_schema("marts")))


class FinanceError(ValueError):
    """A month finance cannot export: badly written, or with no revenue in the warehouse."""


@dataclass(frozen=True)
class Month:
    first_day: dt.date

    @property
    def next_month(self) -> dt.date:
        year, month = self.first_day.year, self.first_day.month
        return dt.date(year + month // 12, month % 12 + 1, 1)

    def __str__(self) -> str:
        return self.first_day.strftime("%Y-%m")

    def params(self) -> dict[str, dt.date]:
        return {"first_day": self.first_day, "next_month": self.next_month}


def parse_month(text: str) -> Month:
    """YYYY-MM (e.g. 2026-02) as a Month; anything else is a FinanceError naming the value."""
    match = _MONTH.fullmatch(text.strip())
    if not match or not 1 <= int(match.group(2)) <= 12:
        raise FinanceError(f"month {text!r} is not YYYY-MM (e.g. 2026-02)")
    return Month(dt.date(int(match.group(1)), int(match.group(2)), 1))


def revenue_months(conn: psycopg.Connection) -> list[str]:
    """The months (YYYY-MM) that hold revenue, oldest first."""
    return _months(conn, _REVENUE_MONTHS)


def closed_months(conn: psycopg.Connection) -> list[str]:
    """The months (YYYY-MM) finance has closed, oldest first: the newest revenue day in the
    warehouse is dbt var month_close_days past their last day. The rule is dbt's
    (marts.revenue_months.is_closed); this only reads it."""
    return _months(conn, _CLOSED_MONTHS)


def closes_on(conn: psycopg.Connection, month: Month) -> dt.date | None:
    """The day the month closes (marts.revenue_months.closes_on); None for a month without
    revenue."""
    row = conn.execute(
        _in_marts("select closes_on from {marts}.revenue_months where revenue_month = %s"),
        (month.first_day,),
    ).fetchone()
    return None if row is None else row[0]


def _months(conn: psycopg.Connection, query: str) -> list[str]:
    return [month for (month,) in conn.execute(_in_marts(query)).fetchall()]


def daily_rows(conn: psycopg.Connection, month: Month) -> list[tuple]:
    """The month's tie-out per location, day and record type, then a total per record type
    and what the month left out (DAILY_COLUMNS), every figure as the marts hold it."""
    return conn.execute(_in_marts(_DAILY), month.params()).fetchall()


def record_rows(conn: psycopg.Connection, month: Month) -> list[tuple]:
    """Every revenue record of the month with its attribution and source file and line."""
    return conn.execute(_in_marts(_RECORDS), month.params()).fetchall()


def month_has_revenue(conn: psycopg.Connection, month: Month) -> bool:
    return str(month) in revenue_months(conn)


def left_out_rows(conn: psycopg.Connection, month: Month) -> list[tuple]:
    """The month's quarantined payment, refund and deal lines (LEFT_OUT_COLUMNS)."""
    return conn.execute(_in_marts(_LEFT_OUT), month.params()).fetchall()


def _cell(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):  # never expected: amounts are numeric
        raise TypeError(f"a float reached the finance export: {value!r}")
    return str(value)  # a Decimal exactly as Postgres holds it


def csv_text(columns: Sequence[str], rows: Sequence[tuple]) -> str:
    """The CSV text finance exports: a header, then a line per row, amounts as Postgres holds
    them. write_csv writes it to a file (`callshrink export finance`); the app offers it."""
    buffer = io.StringIO(newline="")
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(columns)
    writer.writerows([_cell(value) for value in row] for row in rows)
    return buffer.getvalue()


def write_csv(path: Path, columns: Sequence[str], rows: Sequence[tuple]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(csv_text(columns, rows), encoding="utf-8", newline="")


def month_table(
    conn: psycopg.Connection, month: Month, level: str = "daily"
) -> tuple[tuple[str, ...], list[tuple]]:
    """The month at `level` (daily, records or left_out): its columns and rows, as the export
    writes them.

    A FinanceError for another level, or when the warehouse holds no revenue in the month.
    """
    if level not in LEVELS:
        raise FinanceError(f"level {level!r} is not one of {', '.join(LEVELS)}")
    if level == "daily":
        columns, rows = DAILY_COLUMNS, daily_rows(conn, month)
    elif level == "records":
        columns, rows = RECORD_COLUMNS, record_rows(conn, month)
    else:
        columns, rows = LEFT_OUT_COLUMNS, left_out_rows(conn, month)
        if rows or month_has_revenue(conn, month):  # an empty list is an answer
            return columns, rows
    if not rows:
        held = revenue_months(conn)
        span = f"it holds {held[0]} to {held[-1]}" if held else "it holds no revenue yet"
        raise FinanceError(f"no revenue in {month} in the warehouse ({span})")
    return columns, rows


def export_month(conn: psycopg.Connection, month: Month, out: Path, level: str = "daily") -> int:
    """Write the month at `level` (daily, records or left_out) to `out`; return the rows
    written."""
    columns, rows = month_table(conn, month, level)
    write_csv(out, columns, rows)
    return len(rows)
