"""One ingestion asset per raw table. Asset keys equal dbt source keys (<source>/<table>).

Each asset loads its new landing files, then validates the rows no passed check has seen with
its Great Expectations suite (orchestration/defs/quality.py) in the same step."""

import os
import time
import uuid

import dagster as dg

from callshrink.ingest import RAW_TABLES, RawTable, ensure_raw_schema, load_table
from callshrink.ingest.loader import finish_load, start_load
from orchestration.defs.quality import check_spec, validate
from orchestration.defs.resources import LandingResource, WarehouseResource

# "1": hash every landing file, even one whose path, size and modification time say it was
# loaded before (`callshrink run --reread-files`)
REREAD_VAR = "CALLSHRINK_REREAD_FILES"


def build_raw_asset(table: RawTable) -> dg.AssetsDefinition:
    @dg.asset(
        key=dg.AssetKey(list(table.asset_key)),
        name=None,
        group_name="raw",
        owners=["team:analytics-engineering"],
        description=(
            f"{table.description} Loaded from <landing>/{table.folder}; a file loaded before "
            "(same content, any name) is skipped, unread when its size and modification time "
            "are unchanged; unreadable lines go to raw._quarantine."
        ),
        kinds={"postgres"},
        check_specs=[check_spec(table)],
    )
    def raw_asset(
        context: dg.AssetExecutionContext,
        warehouse: WarehouseResource,
        landing: LandingResource,
    ) -> dg.MaterializeResult:
        folder = landing.path()
        # The run id is the load id: every raw row points back to the Dagster run that loaded it.
        load_id = uuid.UUID(context.run.run_id)
        started = time.perf_counter()
        with warehouse.connect() as conn:
            ensure_raw_schema(conn)
            start_load(conn, folder, load_id)
            result = load_table(
                conn,
                table,
                folder,
                load_id,
                log=context.log.warning,
                reread=os.environ.get(REREAD_VAR) == "1",
            )
            finish_load(conn, load_id)
        meta = {**result.metadata(), "load_seconds": round(time.perf_counter() - started, 2)}
        context.log.info(
            f"{table.identifier}: {meta['rows_loaded']} rows loaded, "
            f"{meta['rows_quarantined']} quarantined, "
            f"{meta['files_skipped_already_loaded']} files already loaded"
        )
        problems = [problem for f in result.files for problem in f.problems]
        return dg.MaterializeResult(
            metadata={
                **meta,
                "landing_folder": dg.MetadataValue.path(str(folder / table.folder)),
                "quarantined_lines": dg.MetadataValue.text("\n".join(problems)),
            },
            check_results=[validate(table, warehouse.url())],
        )

    return raw_asset


raw_assets = [build_raw_asset(table) for table in RAW_TABLES]
