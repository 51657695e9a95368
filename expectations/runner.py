"""Validate a raw table in Postgres against its suite; report failing rows by file and line.

The table is read through a Great Expectations SQL datasource, so every expectation runs as a
query in Postgres: no table rows are pulled into Python, only counts and a few sample rows. The
rows to validate are a table made for the run (``raw._checking_<table>_<id>``, dropped after).
A run screens the whole suite at BOOLEAN_ONLY (one aggregate query for all column rules, plus
two per SQL rule), then validates only the failed expectations again at SUMMARY level to get
their counts and up to five failing values with the ``_source_file``/``_line_number`` of their
rows (``unexpected_index_column_names``).

Failure severity: an expectation with severity ``critical`` (the default) makes the
validation fail; ``warning`` failures (for instance unknown queue_log events, which are kept)
are reported in ``failed`` but leave ``success`` true.

What is validated is the records as delivered last: a raw table keeps every delivery, and a
row superseded by a later delivery of the same record (its natural key, loaded later, or later
in the same file) is what staging drops, so it is left out here too. A corrected file therefore
clears a failure its first delivery caused.

Which rows: every current row (``new_loads_only=False``, the default), or only those of the
loads not yet validated (``new_loads_only=True``, what each run does). A load's rows count as
validated once a validation that held them passed under the same suite (``raw._validated_loads``
keeps a hash of the suite's rules: a changed suite validates every row again); a load whose
validation failed stays pending, so the next run validates its rows again and keeps blocking
until a corrected delivery supersedes the bad row or the row is quarantined. Every rule is a
rule on single rows, so a row that passed once passes again: validating the pending loads
gives the verdict of validating the whole table, at the cost of the new rows only. The rules
with a tolerance (``mostly``: 5 % of tracked calls without a caller number) judge the share
among the new rows, the delivery that changed.
"""

from __future__ import annotations

import functools
import hashlib
import json
import re
import shutil
import time
import warnings
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from expectations import (
    asterisk_cdr,
    asterisk_queue_log,
    callrail_calls,
    hubspot_contacts,
    hubspot_deals,
    square_customers,
    square_payments,
    square_refunds,
)
from expectations._rules import LINEAGE_COLUMNS, suite_name

if TYPE_CHECKING:
    import sqlalchemy as sa
    from great_expectations import ExpectationSuite
    from great_expectations.core import (
        ExpectationSuiteValidationResult,
        ExpectationValidationResult,
    )
    from great_expectations.core.batch_definition import BatchDefinition
    from great_expectations.data_context import AbstractDataContext

SUITES: dict[str, Callable[[], ExpectationSuite]] = {
    "callrail_calls": callrail_calls.build_suite,
    "asterisk_cdr": asterisk_cdr.build_suite,
    "asterisk_queue_log": asterisk_queue_log.build_suite,
    "square_payments": square_payments.build_suite,
    "square_refunds": square_refunds.build_suite,
    "square_customers": square_customers.build_suite,
    "hubspot_contacts": hubspot_contacts.build_suite,
    "hubspot_deals": hubspot_deals.build_suite,
}

SAMPLE_SIZE = 5
DOCS_SITE = "raw_data_docs"
DETAIL_FORMAT = {
    "result_format": "SUMMARY",
    "partial_unexpected_count": SAMPLE_SIZE,
    "unexpected_index_column_names": list(LINEAGE_COLUMNS),
}


@dataclass(frozen=True)
class FailingRow:
    """Where a failing value comes from: the delivered file and its line."""

    source_file: str | None
    line_number: int | None
    values: dict[str, Any]  # the checked column(s) and their values on that row

    def location(self) -> str:
        return f"{self.source_file}:{self.line_number}"


@dataclass(frozen=True)
class FailedExpectation:
    expectation_type: str
    column: str | None  # for multi-column rules, the columns joined by ", "
    description: str  # a sentence saying what should hold
    severity: str  # "critical" fails the validation, "warning" does not
    unexpected_count: int | None
    unexpected_percent: float | None
    sample_values: list[Any] = field(default_factory=list)  # up to SAMPLE_SIZE
    sample_rows: list[FailingRow] = field(default_factory=list)  # up to SAMPLE_SIZE
    error: str | None = None  # set when the expectation raised instead of evaluating

    @property
    def blocking(self) -> bool:
        """Critical failures block; so does a rule that could not run, whatever its severity."""
        return self.severity == "critical" or self.error is not None

    def sentence(self) -> str:
        """One line for people: what should hold, how often it did not, and where."""
        subject = f"{self.column}: " if self.column else ""
        if self.error:
            return f"{subject}{self.description}: could not be evaluated: {self.error}"
        count = self.unexpected_count
        rows = "row" if count == 1 else "rows"
        text = f"{subject}expected {self.description}; {count} {rows} did not"
        if self.unexpected_percent is not None:
            text += f" ({self.unexpected_percent:.2g}%)"
        examples = [_example(row) for row in self.sample_rows] or [
            repr(v) for v in self.sample_values
        ]
        if examples:
            text += ", e.g. " + "; ".join(examples)
        return text


def _example(row: FailingRow) -> str:
    values = ", ".join(f"{k}={v!r}" for k, v in row.values.items())
    return f"{values} at {row.location()}"


@dataclass(frozen=True)
class RawValidation:
    identifier: str
    suite_name: str
    success: bool  # False when a critical expectation failed
    evaluated: int
    failed: list[FailedExpectation]
    seconds: float
    result_path: str | None = None  # this run's result as JSON, when a results_dir is given
    docs_path: str | None = None  # the Data Docs index.html, when a results_dir is given
    loads_validated: int | None = None  # pending loads validated (None: the whole table)

    @property
    def blocking(self) -> list[FailedExpectation]:
        return [f for f in self.failed if f.blocking]

    @property
    def warnings(self) -> list[FailedExpectation]:
        return [f for f in self.failed if not f.blocking]

    def as_metadata(self) -> dict[str, Any]:
        """Plain JSON-able values for Dagster asset-check metadata."""
        metadata: dict[str, Any] = {
            "suite": self.suite_name,
            "evaluated_expectations": self.evaluated,
            "failed_expectations": len(self.blocking),
            "warnings": len(self.warnings),
            "seconds": round(self.seconds, 2),
            "rows_validated": (
                "every current row"
                if self.loads_validated is None
                else f"the current rows of {self.loads_validated} loads not validated before"
            ),
        }
        if self.failed:
            metadata["failures"] = [
                {
                    "expectation": f.expectation_type,
                    "column": f.column,
                    "severity": f.severity,
                    "description": f.description,
                    "unexpected_count": f.unexpected_count,
                    "sample_values": [_jsonable(v) for v in f.sample_values],
                    "sample_rows": [
                        {
                            "source_file": row.source_file,
                            "line_number": row.line_number,
                            **{k: _jsonable(v) for k, v in row.values.items()},
                        }
                        for row in f.sample_rows
                    ],
                    **({"error": f.error} if f.error else {}),
                }
                for f in self.failed
            ]
        if self.result_path:
            metadata["result_path"] = self.result_path
        if self.docs_path:
            metadata["data_docs"] = self.docs_path
        return metadata

    def describe(self) -> str:
        """A message for an error or a log: the verdict, then one line per failed rule."""
        if self.loads_validated == 0:
            return f"{self.suite_name}: no rows loaded since its last passed validation"
        if not self.failed:
            return f"{self.suite_name}: all {self.evaluated} expectations passed"
        head = (
            f"{self.suite_name}: {len(self.blocking)} of {self.evaluated} expectations failed"
            f" ({len(self.warnings)} warning{'' if len(self.warnings) == 1 else 's'})"
        )
        lines = [head]
        for f in sorted(self.failed, key=lambda f: not f.blocking):
            lines.append(f"- [{'error' if f.error else f.severity}] {f.sentence()}")
        return "\n".join(lines)


def libpq_url(database_url: str) -> str:
    """The libpq form of a URL given in either form (psycopg connects with it)."""
    return database_url.replace("postgresql+psycopg2://", "postgresql://", 1)


def sqlalchemy_url(database_url: str) -> str:
    """A SQLAlchemy URL for psycopg2; libpq URLs (socket ``?host=/dir`` included) keep the rest."""
    for prefix in ("postgresql://", "postgres://"):
        if database_url.startswith(prefix):
            return "postgresql+psycopg2://" + database_url[len(prefix) :]
    return database_url


def validate_raw_table(
    database_url: str,
    identifier: str,
    schema: str = "raw",
    *,
    results_dir: str | Path | None = None,
    new_loads_only: bool = False,
    keep_results: int | None = None,
    build_index: bool = True,
) -> RawValidation:
    """Validate ``<schema>.<identifier>`` against ``SUITES[identifier]``: every current row, or
    with ``new_loads_only`` the rows of the loads not yet validated (the module's docstring).

    ``database_url`` is a libpq URL (``postgresql://user@/db?host=/socket/dir`` works) or a
    SQLAlchemy URL. With ``results_dir``, this run's result (the pass/fail screen of every
    expectation plus the details of the failed ones) is written to ``<identifier>.json``, GX
    keeps every run's results under ``validations/`` and rebuilds the Data Docs site under
    ``data_docs/`` (``index.html``) from them. With ``keep_results``, only the newest that many
    runs of the table's suite (and as many of its failure details) stay there
    (``prune_results``). Without ``build_index`` only this run's pages are rendered and the
    index is left to ``build_docs_index``: a run that validates several tables builds it once.
    """
    if identifier not in SUITES:
        raise KeyError(f"no expectation suite for raw table {identifier!r}")
    started = time.perf_counter()
    built = SUITES[identifier]()
    pending = since = None
    if new_loads_only:
        fingerprint = suite_fingerprint(built)
        pending, since = pending_loads(database_url, identifier, fingerprint, schema)
        if not pending:
            return RawValidation(
                identifier=identifier,
                suite_name=suite_name(identifier),
                success=True,
                evaluated=0,
                failed=[],
                seconds=time.perf_counter() - started,
                loads_validated=0,
            )
    with warnings.catch_warnings():
        # GX warns that a generic SQL datasource could be a Postgres one (which rejects socket
        # URLs) and that schema_name is deprecated (its replacement is a search_path option in
        # the URL); neither applies here.
        warnings.simplefilter("ignore", DeprecationWarning)
        warnings.filterwarnings("ignore", message=".*generic SQLDatasource.*")
        if results_dir is not None:
            results_dir = Path(results_dir)
            results_dir.mkdir(parents=True, exist_ok=True)
        context = _context(results_dir)
        source = context.data_sources.add_sql(
            name=schema, connection_string=sqlalchemy_url(database_url)
        )
        try:
            rows_of = functools.partial(
                current_rows_query, schema, identifier, since=since, load_ids=pending
            )
            read = _mentioned_columns(built)
            with _rows_to_check(database_url, schema, identifier, rows_of, read) as checked:
                asset = source.add_table_asset(
                    name=identifier, table_name=checked, schema_name=schema
                )
                batch_definition = asset.add_batch_definition_whole_table("whole_table")
                suite, screen, details = _run(context, batch_definition, built)
                engine = source.get_engine()
                rows = f"select * from {_quote(schema)}.{_quote(checked)}"
                failed = [_failed(r, engine, rows) for r in _results(details)]
        finally:
            source.get_engine().dispose()
    result_path = docs_path = None
    if results_dir is not None:
        path = Path(results_dir) / f"{identifier}.json"
        document = screen.to_json_dict()
        document["failure_details"] = [r.to_json_dict() for r in _results(details)]
        path.write_text(json.dumps(document, indent=2, default=str))
        result_path = str(path)
        if keep_results is not None:
            prune_results(Path(results_dir), identifier, keep_results)
        docs_path = _build_docs(context, [screen, details], build_index)
    success = not any(f.blocking for f in failed)
    if pending and success:
        _record_validated(database_url, identifier, fingerprint, schema, pending)
    return RawValidation(
        identifier=identifier,
        suite_name=suite.name,
        success=success,
        evaluated=screen.statistics["evaluated_expectations"],
        failed=failed,
        seconds=time.perf_counter() - started,
        result_path=result_path,
        docs_path=docs_path,
        loads_validated=None if pending is None else len(pending),
    )


# How the rows to validate are worked out (_rows_to_check). The planner's estimate of a day's
# rows comes from statistics taken before the day was loaded (a load analyses its table only
# when it changes a tenth of it), so it expects one row, and with nested loops allowed it read
# the day's rows again for each of them: at 8 million CDR legs the 277 thousand of a day ran
# for minutes instead of a second. Hashed, each side is read once, whatever the estimate.
BATCH_SETTINGS = {"enable_nestloop": "off"}


@contextmanager
def _rows_to_check(
    database_url: str,
    schema: str,
    identifier: str,
    rows_of: Callable[..., str],
    read: Callable[[str], bool],
) -> Iterator[str]:
    """A table of the rows to validate, dropped afterwards. The rows are worked out once (a
    view ran the query again for each of the suite's dozen queries); GX gives a query asset's
    columns by running its query whole and keeping every row in memory (805 MB for 543
    thousand CDR legs), of a table it reads the catalog. The table holds the columns the
    suite reads (``read``) and the lineage columns only, the rows ``rows_of`` those columns
    gives: at 7.4 million CDR legs, all 27 columns took 13 to 23 s to write, these 11 took
    6 s, and each query of the suite reads the narrower table. The connection holds a lock
    on the table's validation meanwhile: a table a killed run left is dropped by the next."""
    import uuid

    import psycopg

    checked = f"_checking_{identifier}_{uuid.uuid4().hex[:8]}"
    name = f"{_quote(schema)}.{_quote(checked)}"
    with psycopg.connect(libpq_url(database_url), autocommit=True) as conn:
        conn.execute(
            "select pg_advisory_lock(hashtext(%s))", (f"callshrink.checking.{identifier}",)
        )
        left = conn.execute(
            "select format('%%I.%%I', schemaname, tablename) from pg_tables "
            "where schemaname = %s and tablename like %s",
            (schema, f"\\_checking\\_{identifier}\\_%"),
        ).fetchall()
        for (table,) in left:
            conn.execute(f"drop table if exists {table}")
        for setting, value in BATCH_SETTINGS.items():
            conn.execute(f"set {setting} = {value}")
        columns = conn.execute(
            "select attname from pg_attribute where attrelid = %s::regclass and attnum > 0 "
            "and not attisdropped order by attnum",
            (f"{_quote(schema)}.{_quote(identifier)}",),
        ).fetchall()
        kept = [c for (c,) in columns if c in LINEAGE_COLUMNS or read(c)]
        conn.execute(f"create unlogged table {name} as {rows_of(columns=kept)}")
        try:
            yield checked
        finally:
            conn.execute(f"drop table if exists {name}")


def _mentioned_columns(suite: ExpectationSuite) -> Callable[[str], bool]:
    """Whether a column's name is written anywhere in the suite's rules: as a rule's column,
    in a row condition, in a rule's SQL. A name that only a description mentions is kept
    too, which costs a column; what is left out is never read."""
    rules = json.dumps([e.configuration.to_json_dict() for e in suite.expectations], default=str)

    def read(column: str) -> bool:
        return re.search(rf"(?<![\w]){re.escape(column)}(?![\w])", rules) is not None

    return read


def suite_fingerprint(suite: ExpectationSuite) -> str:
    """A hash of a suite's rules: their arguments and severities."""
    rules = [e.configuration.to_json_dict() for e in suite.expectations]
    text = json.dumps(rules, sort_keys=True, default=str)
    return hashlib.sha256(text.encode()).hexdigest()


def pending_loads(
    database_url: str, identifier: str, fingerprint: str, schema: str = "raw"
) -> tuple[list[str], str | None]:
    """The loads that brought rows into the table and have not passed a validation by the
    suite of this fingerprint yet, and the earliest ``loaded_at`` of their files (None when
    there are none). A file's rows are stored at or after its ``loaded_at``: the loader sets
    their ``_loaded_at`` when the file's transaction, which started at ``loaded_at``, takes
    the table's loading lock."""
    import psycopg

    with psycopg.connect(libpq_url(database_url)) as conn:
        rows = conn.execute(
            "select files.load_id::text, min(files.loaded_at) "
            f"from {_quote(schema)}._load_files as files "
            "where files.raw_table = %s and files.rows_loaded > 0 and not exists ("
            f"select 1 from {_quote(schema)}._validated_loads as validated "
            "where validated.raw_table = files.raw_table and validated.load_id = files.load_id "
            "and validated.suite_sha256 = %s) group by 1 order by 1",
            (identifier, fingerprint),
        ).fetchall()
    since = min((loaded_at for _, loaded_at in rows), default=None)
    return [load_id for load_id, _ in rows], since and since.isoformat()


def _record_validated(
    database_url: str, identifier: str, fingerprint: str, schema: str, load_ids: list[str]
) -> None:
    import psycopg

    with psycopg.connect(libpq_url(database_url)) as conn, conn.cursor() as cursor:
        cursor.executemany(
            f"insert into {_quote(schema)}._validated_loads (raw_table, load_id, suite_sha256) "
            "values (%s, %s, %s) on conflict do nothing",
            [(identifier, load_id, fingerprint) for load_id in load_ids],
        )


def current_rows_query(
    schema: str,
    identifier: str,
    since: str | None = None,
    load_ids: list[str] | None = None,
    columns: list[str] | None = None,
) -> str:
    """The rows of a raw table that no later delivery of the same record supersedes, with
    ``columns`` (every column when None). With ``since``, of those stored from then on, whose
    later deliveries are too: the query then reads the rows since then and not the whole
    history, by the raw table's index on ``_loaded_at``. With ``load_ids`` (and their
    ``since``, pending_loads), the current rows of those loads.

    Each side of the anti-join reads the columns it needs. A JSON table's key is an
    expression on its record, and the planner hashed the record with it (2.2 million CallRail
    calls spilled the hash to disk; their whole validation took 19 to 23 s, 10 to 11 s now),
    so there both sides are read behind a fence (``offset 0``) it does not see through. A
    fence also rules out a parallel plan, which a typed table's narrow hash gains from (7.4
    million CDR legs: 7 s on three processes, 12 s on one).
    """
    from callshrink.ingest import RAW_TABLES

    table = f"{_quote(schema)}.{_quote(identifier)}"
    raw = next(t for t in RAW_TABLES if t.identifier == identifier)
    placed = [*raw.natural_key, "_loaded_at", "_line_number"]
    stored = f" where _loaded_at >= '{since}'::timestamptz" if since is not None else ""
    fence = " offset 0" if raw.records_only else ""
    later_rows = f"select {_listed(placed)} from {table}{stored}"
    if columns is None:
        delivered_rows, given = f"select * from {table}{stored}", "*"
    else:
        delivered_rows = f"select {_listed(dict.fromkeys([*columns, *placed]))} from {table}"
        delivered_rows += stored
        given = ", ".join(f"delivered.{_quote(c)}" for c in columns)
    if load_ids is not None:
        listed = ", ".join(f"'{load_id}'" for load_id in load_ids)
        delivered_rows += f"{' and' if stored else ' where'} _load_id in ({listed})"
    # `=` on the lookup key (never null: the key the join hashes), null-safe on the key's
    # other columns, which may be empty
    same_record = " and ".join(
        f"later.{_quote(c)} {'=' if c in raw.lookup_key else 'is not distinct from'} "
        f"delivered.{_quote(c)}"
        for c in raw.natural_key
    )
    later = (
        "(later._loaded_at, later._line_number) > (delivered._loaded_at, delivered._line_number)"
    )
    return (
        f"select {given} from ({delivered_rows}{fence}) as delivered where not exists "
        f"(select 1 from ({later_rows}{fence}) as later where {same_record} and {later})"
    )


def _listed(columns: Iterable[str]) -> str:
    return ", ".join(_quote(c) for c in columns)


def _results(run: ExpectationSuiteValidationResult | None) -> list[ExpectationValidationResult]:
    return list(run.results) if run is not None else []


# The folder GX names a stored result by: its run's time, 20261203T134059.395006Z
RUN_FOLDER = re.compile(r"\d{8}T\d{6}(\.\d+)?Z")


def prune_results(results_dir: Path, identifier: str, keep: int) -> int:
    """Remove all but the newest ``keep`` stored runs of the table's suite, and of its failure
    details, with their Data Docs pages; returns how many runs were removed.

    GX keeps each result as ``validations/<suite as folders>/<batch>/<run time>/`` and its page
    at the same place under ``data_docs/validations/``. The Data Docs index lists every stored
    result and is rebuilt after each run's validations, so without pruning a daily schedule
    makes each run slower by the year (docs/sources.md gives the figures) and fills the disk
    by about 50 kB a result.
    """
    stored = results_dir / "validations"
    removed = 0
    for suite in (suite_name(identifier), f"{suite_name(identifier)}.failures"):
        folder = stored.joinpath(*suite.split("."))
        runs = [run for run in folder.glob("*/*") if RUN_FOLDER.fullmatch(run.name)]
        for run in sorted(runs, key=lambda run: run.name, reverse=True)[keep:]:
            page = results_dir / "data_docs" / "validations" / run.relative_to(stored)
            shutil.rmtree(page, ignore_errors=True)
            shutil.rmtree(run)
            removed += 1
    return removed


def _build_docs(
    context: AbstractDataContext,
    runs: list[ExpectationSuiteValidationResult | None],
    build_index: bool = True,
) -> str | None:
    """Render this run's results into the Data Docs site, and with ``build_index`` refresh
    its index; return the index's path.

    Only this run's pages are rendered (older ones are on disk already), so their cost does
    not grow with the history. The index lists every result stored under ``validations/``
    and reads each of them: 1.3 s with 60 runs of eight tables stored, as long as the rest of
    a day's validation of a small table (``build_docs_index``).
    """
    times = {run.meta["run_id"].run_time for run in runs if run is not None}
    names = {run.suite_name for run in runs if run is not None}
    keys = [
        key
        for key in context.validation_results_store.list_keys()
        if key.run_id.run_time in times and key.expectation_suite_identifier.name in names
    ]
    suites = {key.expectation_suite_identifier for key in keys}
    return _render(context, [*keys, *suites], build_index)


def build_docs_index(results_dir: str | Path) -> str | None:
    """Refresh the Data Docs index (and the suites' pages) of the results in ``results_dir``:
    once after a run's validations of every table with ``build_index=False``; return its path.
    """
    from great_expectations.data_context.types.resource_identifiers import (
        ExpectationSuiteIdentifier,
    )

    context = _context(Path(results_dir))
    # a page for each stored suite: an empty list would re-render every stored result
    suites = [ExpectationSuiteIdentifier(name=suite_name(identifier)) for identifier in SUITES]
    return _render(context, suites, build_index=True)


def _render(context: AbstractDataContext, resources: list[Any], build_index: bool) -> str | None:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        urls = context.build_data_docs(
            site_names=[DOCS_SITE], resource_identifiers=resources, build_index=build_index
        )
    url = urls.get(DOCS_SITE)
    return url.removeprefix("file://") if url else None


def _run(
    context: AbstractDataContext, batch_definition: BatchDefinition, suite: ExpectationSuite
) -> tuple[
    ExpectationSuite, ExpectationSuiteValidationResult, ExpectationSuiteValidationResult | None
]:
    """Screen the whole suite for pass/fail, then get the details of the failures only.

    At SUMMARY level GX runs two sample queries per column expectation (values, and rows with
    the lineage columns) even when nothing fails, and a sample query that finds nothing scans
    the whole table. At BOOLEAN_ONLY level all counts are one aggregate query per table, so
    screening first and asking for samples of the failed few is several times faster.
    """
    import great_expectations as gx

    suite = context.suites.add_or_update(suite)
    definition = context.validation_definitions.add(
        gx.ValidationDefinition(name=suite.name, data=batch_definition, suite=suite)
    )
    screen = definition.run(result_format="BOOLEAN_ONLY")
    failing_ids = {r.expectation_config.id for r in screen.results if not r.success}
    if not failing_ids:
        return suite, screen, None
    failing = context.suites.add_or_update(
        gx.ExpectationSuite(
            name=f"{suite.name}.failures",
            expectations=[e.configuration for e in suite.expectations if e.id in failing_ids],
        )
    )
    details = context.validation_definitions.add(
        gx.ValidationDefinition(name=failing.name, data=batch_definition, suite=failing)
    ).run(result_format=DETAIL_FORMAT)
    return suite, screen, details


def _context(results_dir: Path | None) -> AbstractDataContext:
    """An ephemeral context; with ``results_dir``, results and Data Docs are kept on disk.

    No usage statistics and no temporary Data Docs site (nothing leaves the process), and no
    progress bars in Dagster's logs.
    """
    import great_expectations as gx
    from great_expectations.data_context.types.base import (
        DataContextConfig,
        InMemoryStoreBackendDefaults,
        ProgressBarsConfig,
    )

    defaults = InMemoryStoreBackendDefaults(init_temp_docs_sites=False)
    config = DataContextConfig(
        store_backend_defaults=defaults,
        analytics_enabled=False,
        progress_bars=ProgressBarsConfig(globally=False),
    )
    if results_dir is not None:
        # Suites are kept on disk too: the Data Docs builder deletes the page of any suite its
        # store does not know, which would break the links of earlier runs.
        config.stores[defaults.expectations_store_name] = {
            "class_name": "ExpectationsStore",
            "store_backend": _filesystem(results_dir / "suites"),
        }
        config.stores[defaults.validation_results_store_name] = {
            "class_name": "ValidationResultsStore",
            "store_backend": _filesystem(results_dir / "validations"),
        }
        config.data_docs_sites = {
            DOCS_SITE: {
                "class_name": "SiteBuilder",
                "show_how_to_buttons": False,
                "store_backend": _filesystem(results_dir / "data_docs"),
                "site_index_builder": {"class_name": "DefaultSiteIndexBuilder"},
            }
        }
    return gx.get_context(mode="ephemeral", project_config=config)


def _filesystem(directory: Path) -> dict[str, str]:
    return {"class_name": "TupleFilesystemStoreBackend", "base_directory": str(directory)}


def _failed(
    result: ExpectationValidationResult, engine: sa.Engine, batch_query: str
) -> FailedExpectation:
    config = result.expectation_config
    kwargs = config.kwargs
    columns = _columns(kwargs, config.meta or {})
    details = result.result or {}
    severity = str(getattr(config.severity, "value", config.severity) or "critical")
    description = config.description or config.type.replace("_", " ")
    error = _error(result.exception_info)
    if error:
        return FailedExpectation(
            config.type,
            ", ".join(columns) or None,
            description,
            severity,
            None,
            None,
            error=error,
        )
    if "unexpected_rows_query" in kwargs:
        # GX reports only the count at SUMMARY level; fetch a few rows with a LIMIT query.
        rows = _sample_query_rows(engine, kwargs["unexpected_rows_query"], batch_query)
        return FailedExpectation(
            config.type,
            ", ".join(columns) or None,
            description,
            severity,
            details.get("observed_value"),
            None,
            sample_values=[tuple(row.values.values()) for row in rows],
            sample_rows=rows,
        )
    index_rows = details.get("partial_unexpected_index_list") or []
    sample_rows = [
        FailingRow(
            source_file=row.get(LINEAGE_COLUMNS[0]),
            line_number=row.get(LINEAGE_COLUMNS[1]),
            values={k: v for k, v in row.items() if k not in LINEAGE_COLUMNS},
        )
        for row in index_rows[:SAMPLE_SIZE]
        if isinstance(row, dict)
    ]
    return FailedExpectation(
        config.type,
        ", ".join(columns) or None,
        description,
        severity,
        details.get("unexpected_count"),
        details.get("unexpected_percent"),
        sample_values=list(details.get("partial_unexpected_list") or [])[:SAMPLE_SIZE],
        sample_rows=sample_rows,
    )


def _error(info: dict[str, Any] | None) -> str | None:
    """The message of an expectation that raised instead of evaluating, else None.

    GX puts a flat ``{raised_exception, exception_message, ...}`` here, or one such dict per
    metric that raised, keyed by the metric's id.
    """
    if not info:
        return None
    entries = [info] if "raised_exception" in info else list(info.values())
    messages = [
        str(entry.get("exception_message") or "unknown error").strip().splitlines()[0][:300]
        for entry in entries
        if isinstance(entry, dict) and entry.get("raised_exception", True)
    ]
    return "; ".join(dict.fromkeys(messages)) or None


def _columns(kwargs: dict[str, Any], meta: dict[str, Any]) -> list[str]:
    if "column" in kwargs:
        return [kwargs["column"]]
    if "column_A" in kwargs:
        return [kwargs["column_A"], kwargs["column_B"]]
    if "column_list" in kwargs:
        return list(kwargs["column_list"])
    return list(meta.get("columns", []))


def _sample_query_rows(engine: sa.Engine, query: str, batch_query: str) -> list[FailingRow]:
    import sqlalchemy as sa

    batch = f"({batch_query}) as batch"
    sql = f"select * from ({query.format(batch=batch)}) as unexpected limit {SAMPLE_SIZE}"
    with engine.connect() as conn:
        rows = conn.execute(sa.text(sql)).mappings().all()
    return [
        FailingRow(
            source_file=row.get(LINEAGE_COLUMNS[0]),
            line_number=row.get(LINEAGE_COLUMNS[1]),
            values={k: v for k, v in row.items() if k not in LINEAGE_COLUMNS},
        )
        for row in rows
    ]


def _quote(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _jsonable(value: Any) -> Any:
    if value is None or isinstance(value, str | int | float | bool):
        return value
    if isinstance(value, list | tuple):
        return [_jsonable(v) for v in value]
    return str(value)


def validate_all(
    database_url: str, schema: str = "raw", *, results_dir: str | Path | None = None
) -> dict[str, RawValidation]:
    """Every raw table with a suite, in ``SUITES`` order."""
    return {
        identifier: validate_raw_table(database_url, identifier, schema, results_dir=results_dir)
        for identifier in SUITES
    }


def _main() -> None:  # pragma: no cover - a manual check: python -m expectations.runner
    import sys

    from callshrink import db

    url = db.database_url()
    identifiers = sys.argv[1:] or list(SUITES)
    for identifier in identifiers:
        validation = validate_raw_table(url, identifier)
        print(validation.describe(), f"[{validation.seconds:.1f}s]")


if __name__ == "__main__":  # pragma: no cover
    _main()
