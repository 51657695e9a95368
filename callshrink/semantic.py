"""The metrics layer in process: MetricFlow compiles a metric query, the caller's connection
runs it.

Every rate, ratio and dollar figure callshrink shows is a metric of the dbt project's semantic
layer (models/**/*.yml, built into target/semantic_manifest.json by dbt). This module asks
MetricFlow's Python API for the SQL of a metric query, the same SQL `mf query` would run, and
runs it on a connection the caller owns (the app's read-only one), so no figure is computed
twice and no formula is written outside the dbt project.

The period (local days) and locations of a query are bound parameters: MetricFlow compiles a
query once with placeholders in its where filters, and every period and choice of locations
reuses that SQL. Compiled SQL is kept per semantic manifest, in memory and in a file beside
the manifest; every pipeline run compiles the queries asked before and the saved queries for
the manifest it wrote (precompile), so the app seldom loads MetricFlow at all.
"""

from __future__ import annotations

import dataclasses
import functools
import hashlib
import json
import logging
import os
import re
import threading
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path

import pandas as pd
import psycopg

from callshrink.dbt import SEMANTIC_MANIFEST

# The SQL compiled for each query, beside the manifest (see _stored_sql): a process whose
# queries are all there never imports MetricFlow. Bump the version when _Compiler.sql changes
# the SQL it returns.
SQL_CACHE_NAME = "callshrink_metric_sql.json"
SQL_CACHE_VERSION = 3

# MetricFlow logs every compile at INFO; the app has no use for it.
logging.getLogger("metricflow").setLevel(logging.WARNING)
logging.getLogger("metricflow_semantics").setLevel(logging.WARNING)

# The where filters every query carries; the placeholders become bound parameters.
_PLACEHOLDERS = {
    "__callshrink_first_day__": "%(first_day)s",
    "__callshrink_last_day__": "%(last_day)s",
    "__callshrink_location_ids__": "%(location_ids)s",
}
PERIOD_FILTERS = (
    "{{ TimeDimension('metric_time', 'day') }} >= __callshrink_first_day__",
    "{{ TimeDimension('metric_time', 'day') }} <= __callshrink_last_day__",
    "coalesce({{ Dimension('location__location_id') }}, '') = any(__callshrink_location_ids__)",
)
# In location_ids, NO_LOCATION stands for rows without a location (deals no call placed).
NO_LOCATION = ""
# A CTE of MetricFlow's SQL (`WITH sma_10002_cte AS (`, `, rss_10003_cte AS (`): Postgres
# materialises a CTE read more than once, before any where filter, so a metric query read every
# row of marts.calls whatever the period. NOT MATERIALIZED lets the period's filter reach the
# table (and its index on date_trunc('day', started_at_local), models/marts/calls/calls.yml).
_CTE = re.compile(r"^(WITH |, )(\w+_cte) AS \(", re.MULTILINE)


class MetricsLayerError(RuntimeError):
    """The semantic manifest is missing, or MetricFlow cannot answer a query."""


@dataclass(frozen=True)
class Period:
    """Local days first_day..last_day (both included) at the locations named (NO_LOCATION:
    the rows that have none)."""

    first_day: date
    last_day: date
    location_ids: tuple[str, ...]

    @property
    def days(self) -> int:
        return (self.last_day - self.first_day).days + 1

    def previous(self) -> Period:
        """The period of equal length that ends the day before this one starts."""
        last = self.first_day - timedelta(days=1)
        return Period(last - timedelta(days=self.days - 1), last, self.location_ids)

    def params(self) -> dict:
        return {
            "first_day": self.first_day,
            "last_day": self.last_day,
            "location_ids": list(self.location_ids),
        }


@dataclass(frozen=True)
class MetricQuery:
    """What to ask the metrics layer: a saved query of the project by name, or metrics by
    group-by items (MetricFlow's names, e.g. location__location_id, metric_time__day,
    call__hour_of_day), with where filters of fixed values (MetricFlow's template syntax).
    The period's filters are added to every query."""

    metrics: tuple[str, ...] = ()
    group_by: tuple[str, ...] = ()
    where: tuple[str, ...] = ()
    saved_query: str | None = None

    def __post_init__(self) -> None:
        if bool(self.saved_query) == bool(self.metrics):
            raise ValueError("a MetricQuery names a saved query or metrics, not both")


def column_name(item: str) -> str:
    """The column a group-by item is shown under: location__location_name -> location_name,
    metric_time__day -> day, call__hour_of_day -> hour_of_day."""
    return item.split("__")[-1]


class _Compiler:
    """MetricFlow's engine for one semantic manifest, compiling queries (never running them)."""

    def __init__(self, manifest_path: Path) -> None:
        from metricflow.engine.metricflow_engine import MetricFlowEngine
        from metricflow_semantics.model.dbt_manifest_parser import (
            parse_manifest_from_dbt_generated_manifest,
        )
        from metricflow_semantics.model.semantic_manifest_lookup import SemanticManifestLookup

        manifest = parse_manifest_from_dbt_generated_manifest(
            json.dumps(_without_database(json.loads(manifest_path.read_text())))
        )
        self._engine = MetricFlowEngine(
            semantic_manifest_lookup=SemanticManifestLookup(manifest),
            sql_client=_CompileOnlyClient(),
        )
        self._lock = threading.Lock()  # the engine keeps per-query state

    def sql(self, query: MetricQuery) -> str:
        """The query's SQL with %(first_day)s, %(last_day)s and %(location_ids)s parameters."""
        from metricflow.engine.metricflow_engine import MetricFlowQueryRequest

        request = MetricFlowQueryRequest.create(
            saved_query_name=query.saved_query,
            metric_names=list(query.metrics) or None,
            group_by_names=list(query.group_by) if query.metrics else None,
            where_constraints=[*PERIOD_FILTERS, *query.where],
        )
        with self._lock:
            try:
                statement = self._engine.explain(request).sql_statement
            except Exception as error:  # MetricFlow's errors name the metric or dimension
                raise MetricsLayerError(f"MetricFlow cannot answer {query}: {error}") from error
        text = _CTE.sub(r"\1\2 AS NOT MATERIALIZED (", statement.sql.replace("%", "%%"))
        for placeholder, parameter in _PLACEHOLDERS.items():
            if placeholder not in text:
                raise MetricsLayerError(f"MetricFlow's SQL lost the filter {placeholder}")
            text = text.replace(placeholder, parameter)
        return text


def _without_database(node: object) -> object:
    """The manifest with every relation named by schema and table only. dbt writes the
    database it built into ("callshrink"."marts"."calls"), and Postgres refuses a name of
    another database than the connection's; the app's connection is to the warehouse itself,
    whatever its database is called (a test's, a user's), so the name is left out."""
    if isinstance(node, dict):
        if {"alias", "schema_name", "database"} <= node.keys():
            return {
                **node,
                "database": None,
                "relation_name": f'"{node["schema_name"]}"."{node["alias"]}"',
            }
        return {key: _without_database(value) for key, value in node.items()}
    if isinstance(node, list):
        return [_without_database(value) for value in node]
    return node


class _CompileOnlyClient:
    """What MetricFlow needs of a SQL client to compile for Postgres; running is the caller's."""

    def __init__(self) -> None:
        from metricflow.protocols.sql_client import SqlEngine
        from metricflow.sql.render.postgres import PostgresSQLSqlPlanRenderer

        self.sql_engine_type = SqlEngine.POSTGRES
        self.sql_plan_renderer = PostgresSQLSqlPlanRenderer()

    def render_bind_parameter_key(self, bind_parameter_key: str) -> str:
        return f"%({bind_parameter_key})s"

    def query(self, *args, **kwargs):
        raise NotImplementedError("callshrink runs MetricFlow's SQL on its own connection")

    execute = dry_run = query

    def close(self) -> None:
        pass


@functools.lru_cache(maxsize=2)
def _compiler(manifest_path: Path, modified: float) -> _Compiler:
    return _Compiler(manifest_path)


def _modified(manifest_path: Path) -> float:
    """When dbt wrote the manifest (a new build, a new compiler and new SQL)."""
    try:
        return manifest_path.stat().st_mtime
    except FileNotFoundError:
        raise MetricsLayerError(
            f"{manifest_path} is missing: run `callshrink run` (or `dbt parse`) to build the "
            "metrics layer"
        ) from None


@functools.lru_cache(maxsize=4)
def _manifest_key(manifest_path: Path, modified: float) -> str:
    digest = hashlib.sha256(manifest_path.read_bytes())
    digest.update(f"callshrink sql v{SQL_CACHE_VERSION}".encode())
    return digest.hexdigest()


def _query_key(query: MetricQuery) -> str:
    return json.dumps(dataclasses.asdict(query), sort_keys=True)


def _query_from(fields: dict) -> MetricQuery:
    return MetricQuery(**{k: tuple(v) if isinstance(v, list) else v for k, v in fields.items()})


def _store(manifest_path: Path) -> tuple[str | None, dict[str, str | None]]:
    """The store beside the manifest: the manifest key its SQL is for, and per query asked
    (_query_key) its SQL (None: asked under an older manifest, to compile again). A store of
    another SQL_CACHE_VERSION (its queries may have other fields) counts as none."""
    try:
        stored = json.loads(manifest_path.parent.joinpath(SQL_CACHE_NAME).read_text())
        if stored["version"] != SQL_CACHE_VERSION:
            return None, {}
        return stored["manifest"], dict(stored["queries"])
    except (OSError, ValueError, KeyError, TypeError):
        return None, {}


def _write_store(manifest_path: Path, key: str, queries: dict[str, str | None]) -> None:
    """Replace the store (best effort: a read-only checkout just compiles again)."""
    path = manifest_path.parent.joinpath(SQL_CACHE_NAME)
    temporary = path.with_name(f"{path.name}.{os.getpid()}.tmp")
    stored = {"version": SQL_CACHE_VERSION, "manifest": key, "queries": queries}
    try:
        temporary.write_text(json.dumps(stored))
        temporary.replace(path)
    except OSError:
        temporary.unlink(missing_ok=True)


def _stored_sql(manifest_path: Path, key: str) -> dict[str, str | None]:
    """The compiled SQL stored for this manifest, by _query_key."""
    stored_key, queries = _store(manifest_path)
    return queries if stored_key == key else {}


def _store_sql(manifest_path: Path, key: str, query: MetricQuery, text: str) -> None:
    """Add a query's SQL to the store, keeping the queries asked under an older manifest
    (their SQL dropped) for precompile."""
    stored_key, queries = _store(manifest_path)
    if stored_key != key:
        queries = dict.fromkeys(queries)
    _write_store(manifest_path, key, {**queries, _query_key(query): text})


@functools.lru_cache(maxsize=512)
def _compiled(query: MetricQuery, manifest_path: Path, modified: float) -> str:
    key = _manifest_key(manifest_path, modified)
    text = _stored_sql(manifest_path, key).get(_query_key(query))
    if text is None:
        text = _compiler(manifest_path, modified).sql(query)
        _store_sql(manifest_path, key, query, text)
    return text


def precompile(manifest_path: Path = SEMANTIC_MANIFEST) -> int:
    """Compile, for the manifest dbt wrote last, every saved query and every query asked under
    an earlier manifest, so that the app's first page after a build finds its SQL ready;
    returns how many were compiled. A query asked before that this manifest cannot answer (a
    metric renamed) leaves the store: the page that asks it again says why."""
    modified = _modified(manifest_path)
    key = _manifest_key(manifest_path, modified)
    stored_key, queries = _store(manifest_path)
    if stored_key != key:
        queries = dict.fromkeys(queries)
    saved = json.loads(manifest_path.read_text()).get("saved_queries", [])
    for name in (q["name"] for q in saved):
        queries.setdefault(_query_key(MetricQuery(saved_query=name)), None)
    compiled = 0
    for query_key in [k for k, text in queries.items() if text is None]:
        try:
            query = _query_from(json.loads(query_key))
            queries[query_key] = _compiler(manifest_path, modified).sql(query)
            compiled += 1
        except MetricsLayerError:
            del queries[query_key]
    _write_store(manifest_path, key, queries)
    return compiled


def compiled_sql(query: MetricQuery, manifest_path: Path = SEMANTIC_MANIFEST) -> str:
    """The SQL MetricFlow writes for the query, with the period's three parameters: compiled
    once per semantic manifest and kept beside it (SQL_CACHE_NAME), so that only a query new
    to this manifest loads MetricFlow (about 0.5 s to import, 0.1 s a query to compile)."""
    return _compiled(query, manifest_path, _modified(manifest_path))


def run(
    conn: psycopg.Connection,
    query: MetricQuery,
    period: Period,
    manifest_path: Path = SEMANTIC_MANIFEST,
) -> pd.DataFrame:
    """The query's figures for the period, one column per group-by item (column_name) and per
    metric. Counts come back as integers, money as Decimal, rates as floats (None where the
    denominator is 0)."""
    statement = compiled_sql(query, manifest_path)
    with conn.cursor() as cursor:
        cursor.execute(statement, period.params())
        columns = [column_name(column.name) for column in cursor.description]
        return pd.DataFrame(cursor.fetchall(), columns=columns)
