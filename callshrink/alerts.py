"""Process-drift alerts: each signal of marts.process_signals is told once.

After every build (the Dagster asset ``process_alerts``, run by `callshrink run`, the daily
schedule and the landing sensor) the signals not seen before are recorded in the warehouse's
alerts table, and when ``CALLSHRINK_ALERT_WEBHOOK_URL`` names a webhook they are posted to it
as one JSON message (Slack's incoming-webhook format: a ``text``, plus the signals as data).
A signal is one location, KPI, day and rule; it is posted once. A post that fails is tried
again on the next run, and the run says so; nothing is posted twice once the webhook took it.
"""

from __future__ import annotations

import json
import os
import urllib.error
import urllib.request
from dataclasses import dataclass

import psycopg
from psycopg import sql

from callshrink.settings import dbt_schema

WEBHOOK_VAR = "CALLSHRINK_ALERT_WEBHOOK_URL"
POST_TIMEOUT_SECONDS = 10

# What an alert carries of a signal (marts.process_signals), under the alert's names.
SIGNAL_COLUMNS = {
    "location_id": "location_id",
    "kpi": "kpi",
    "signal_date": "signal_date",
    "rule": "rule_name",
    "direction": "direction",
    "value": "point_value",
    "centre_line": "centre_line",
    "lower_limit": "lcl_3",
    "upper_limit": "ucl_3",
    "calls": "n",
}
KEY_COLUMNS = ("location_id", "kpi", "signal_date", "rule")


@dataclass
class AlertRun:
    """What one pass did: signals seen for the first time, posted, and a post's failure."""

    new: list[dict]
    posted: int
    error: str | None = None


def _alerts_table() -> sql.Composed:
    return sql.SQL("{}.process_alerts").format(sql.Identifier(dbt_schema("alerts")))


def _ensure_table(conn: psycopg.Connection) -> None:
    schema = sql.Identifier(dbt_schema("alerts"))
    conn.execute(sql.SQL("create schema if not exists {}").format(schema))
    conn.execute(
        sql.SQL(
            "create table if not exists {} ("
            " location_id text not null, kpi text not null, signal_date date not null,"
            " rule text not null, signal jsonb not null,"
            " first_seen_at timestamptz not null default now(), first_seen_run text,"
            " posted_at timestamptz,"
            " primary key (location_id, kpi, signal_date, rule))"
        ).format(_alerts_table())
    )


def record_new(conn: psycopg.Connection, run_id: str | None = None) -> list[dict]:
    """Insert the signals the alerts table has not seen (noting the run that first saw them);
    return them as JSON-ready dicts."""
    _ensure_table(conn)
    signals = sql.SQL("{}.{}").format(
        sql.Identifier(dbt_schema("marts")), sql.Identifier("process_signals")
    )
    columns = sql.SQL(", ").join(
        sql.SQL("{} as {}").format(sql.Identifier(column), sql.Identifier(name))
        for name, column in SIGNAL_COLUMNS.items()
    )
    keys = sql.SQL(", ").join(map(sql.Identifier, KEY_COLUMNS))
    rows = conn.execute(
        sql.SQL(
            "insert into {alerts} (location_id, kpi, signal_date, rule, signal, first_seen_run) "
            "select {keys}, to_jsonb(signals), %(run_id)s "
            "from (select {columns} from {signals}) as signals "
            "on conflict do nothing returning signal"
        ).format(alerts=_alerts_table(), keys=keys, columns=columns, signals=signals),
        {"run_id": run_id},
    ).fetchall()
    return sorted((row[0] for row in rows), key=lambda s: [str(s[k]) for k in KEY_COLUMNS])


def _unposted(conn: psycopg.Connection) -> list[dict]:
    rows = conn.execute(
        sql.SQL(
            "select signal from {} where posted_at is null "
            "order by signal_date, location_id, kpi, rule"
        ).format(_alerts_table())
    ).fetchall()
    return [row[0] for row in rows]


def message(signals: list[dict]) -> dict:
    """The webhook's JSON: Slack's ``text`` (a line per signal) and the signals themselves."""
    lines = [line(signal) for signal in signals]
    head = f"callshrink: {len(signals)} new process signal{'s' if len(signals) != 1 else ''}"
    return {"text": "\n".join([head, *lines]), "signals": signals}


def post(url: str, payload: dict) -> None:
    """POST the payload as JSON; an OSError (or HTTPError) when the webhook does not take it."""
    request = urllib.request.Request(
        url,
        data=json.dumps(payload, default=str).encode(),
        headers={"Content-Type": "application/json"},
        method="POST",
    )
    with urllib.request.urlopen(request, timeout=POST_TIMEOUT_SECONDS) as response:
        response.read()


def line(signal: dict) -> str:
    return (
        f"{signal['location_id']} {signal['kpi']} on {signal['signal_date']}: "
        f"{signal['rule']} (value {signal['value']}, limits {signal['lower_limit']} to "
        f"{signal['upper_limit']}, {signal['calls']} calls)"
    )


def run(
    conn: psycopg.Connection, webhook_url: str | None = None, run_id: str | None = None
) -> AlertRun:
    """Record the new signals and post every signal not yet posted (when a webhook is set)."""
    url = webhook_url if webhook_url is not None else os.environ.get(WEBHOOK_VAR, "").strip()
    new = record_new(conn, run_id)
    if not url:
        return AlertRun(new=new, posted=0)
    pending = _unposted(conn)
    if not pending:
        return AlertRun(new=new, posted=0)
    try:
        post(url, message(pending))
    except (OSError, urllib.error.URLError) as error:
        return AlertRun(new=new, posted=0, error=f"{WEBHOOK_VAR}: the post failed: {error}")
    conn.execute(
        sql.SQL(
            "update {} set posted_at = now() where posted_at is null "
            "and (location_id, kpi, signal_date::text, rule) in "
            "(select * from unnest(%(location)s::text[], %(kpi)s::text[], %(day)s::text[], "
            "%(rule)s::text[]))"
        ).format(_alerts_table()),
        {
            "location": [s["location_id"] for s in pending],
            "kpi": [s["kpi"] for s in pending],
            "day": [str(s["signal_date"]) for s in pending],
            "rule": [s["rule"] for s in pending],
        },
    )
    return AlertRun(new=new, posted=len(pending))
