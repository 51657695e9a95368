"""The raw tables as Dagster assets, one multi-asset loading them all. Asset keys equal dbt
source keys (<source>/<table>).

The step loads each table's new landing files on threads of its own (CALLSHRINK_LOAD_THREADS,
default 2), each with its own connection, and validates each table's new rows with its Great
Expectations suite (orchestration/defs/quality.py) as soon as that table is loaded, in the
step's own thread, while the other tables load: on two cores a load keeps the server busy
with COPY while the check of another runs its queries. A table that fails to load (or whose
check cannot run) is named when the step fails, after the others are loaded and checked; dbt,
downstream of every raw table, does not run then, as when each table had a step of its own."""

import os
import time
import uuid
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor, as_completed
from pathlib import Path

import dagster as dg

from callshrink.ingest import RAW_TABLES, RawTable, ensure_raw_schema, load_table
from callshrink.ingest.loader import TableLoadResult, finish_load, start_load
from callshrink.settings import whole_number_at_least_one
from orchestration.defs.quality import check_spec, raw_key, validate
from orchestration.defs.resources import LandingResource, WarehouseResource

# "1": hash every landing file, even one whose path, size and modification time say it was
# loaded before (`callshrink run --reread-files`)
REREAD_VAR = "CALLSHRINK_REREAD_FILES"
LOAD_THREADS_VAR = "CALLSHRINK_LOAD_THREADS"
DEFAULT_LOAD_THREADS = 2


def raw_spec(table: RawTable) -> dg.AssetSpec:
    return dg.AssetSpec(
        key=raw_key(table),
        group_name="raw",
        owners=["team:analytics-engineering"],
        description=(
            f"{table.description} Loaded from <landing>/{table.folder}; a file loaded before "
            "(same content, any name) is skipped, unread when its size and modification time "
            "are unchanged; unreadable lines go to raw._quarantine."
        ),
        kinds={"postgres"},
        skippable=True,  # a table that failed to load has no materialization; the step fails
    )


@dg.multi_asset(
    name="raw_tables",
    specs=[raw_spec(table) for table in RAW_TABLES],
    check_specs=[check_spec(table) for table in RAW_TABLES],
    can_subset=True,
)
def raw_tables(
    context: dg.AssetExecutionContext, warehouse: WarehouseResource, landing: LandingResource
) -> Iterator[dg.MaterializeResult]:
    folder = landing.path()
    # The run id is the load id: every raw row points back to the Dagster run that loaded it.
    load_id = uuid.UUID(context.run.run_id)
    url = warehouse.url()
    selected = [t for t in RAW_TABLES if raw_key(t) in context.selected_asset_keys]
    with warehouse.connect() as conn:
        ensure_raw_schema(conn)
        start_load(conn, folder, load_id)
    failed: dict[str, str] = {}  # the others are still loaded and checked
    with ThreadPoolExecutor(load_threads(), thread_name_prefix="callshrink-load") as pool:
        loads = {pool.submit(_load, warehouse, table, folder, load_id): table for table in selected}
        for done in as_completed(loads):
            table, result = loads[done], None
            try:
                result, seconds, notes = done.result()
                for note in notes:
                    context.log.warning(note)
                materialized = _materialized(context, table, folder, result, seconds, url)
            except Exception as error:
                step = "loading" if result is None else "checking"
                failed[table.identifier] = f"{step} failed: {error!r}"
                context.log.error(f"raw.{table.identifier}: {failed[table.identifier]}")
                continue
            yield materialized
    with warehouse.connect() as conn:
        finish_load(conn, load_id)
    if failed:
        raise dg.Failure(
            description="; ".join(f"raw.{name}: {why}" for name, why in sorted(failed.items()))
        )


def _load(
    warehouse: WarehouseResource, table: RawTable, folder: Path, load_id: uuid.UUID
) -> tuple[TableLoadResult, float, list[str]]:
    """One table's load, on a loading thread, with a connection of its own; the loader's
    notes are kept for the step's thread to log."""
    notes: list[str] = []
    started = time.perf_counter()
    with warehouse.connect() as conn:
        result = load_table(
            conn,
            table,
            folder,
            load_id,
            log=notes.append,
            reread=os.environ.get(REREAD_VAR) == "1",
        )
    return result, time.perf_counter() - started, notes


def _materialized(
    context: dg.AssetExecutionContext,
    table: RawTable,
    folder: Path,
    result: TableLoadResult,
    seconds: float,
    url: str,
) -> dg.MaterializeResult:
    meta = {**result.metadata(), "load_seconds": round(seconds, 2)}
    context.log.info(
        f"{table.identifier}: {meta['rows_loaded']} rows loaded, "
        f"{meta['rows_quarantined']} quarantined, "
        f"{meta['files_skipped_already_loaded']} files already loaded"
    )
    problems = [problem for f in result.files for problem in f.problems]
    return dg.MaterializeResult(
        asset_key=raw_key(table),
        metadata={
            **meta,
            "landing_folder": dg.MetadataValue.path(str(folder / table.folder)),
            "quarantined_lines": dg.MetadataValue.text("\n".join(problems)),
        },
        check_results=[validate(table, url)],
    )


def load_threads() -> int:
    """How many tables load at once: CALLSHRINK_LOAD_THREADS (default 2), a whole number of
    at least 1; anything else fails the step, naming the variable."""
    text = os.environ.get(LOAD_THREADS_VAR, "").strip()
    if not text:
        return DEFAULT_LOAD_THREADS
    threads = whole_number_at_least_one(text)
    if threads is None:
        raise dg.Failure(
            description=f"{LOAD_THREADS_VAR}={text!r}: give how many tables load at once, 1 or more"
        )
    return threads
