"""Great Expectations suites (expectations/) as blocking checks on every raw asset.

A failed check stops everything downstream of that raw table, and its metadata says which
expectation failed and on which rows. Results and Data Docs are written to
<CALLSHRINK_HOME>/great_expectations/ (data_docs/index.html).
"""

import dagster as dg

from callshrink import settings
from callshrink.ingest import RAW_TABLES, RawTable
from orchestration.defs.resources import WarehouseResource


def build_raw_check(table: RawTable) -> dg.AssetChecksDefinition:
    @dg.asset_check(
        asset=dg.AssetKey(list(table.asset_key)),
        name="great_expectations",
        blocking=True,
        description=f"Great Expectations suite raw.{table.identifier} (expectations/).",
    )
    def raw_check(warehouse: WarehouseResource) -> dg.AssetCheckResult:
        from expectations.runner import validate_raw_table  # GX is slow to import

        results = settings.home_dir() / "great_expectations"
        outcome = validate_raw_table(warehouse.url(), table.identifier, results_dir=results)
        return dg.AssetCheckResult(
            passed=outcome.success,
            metadata=outcome.as_metadata(),
            description=None if outcome.success else outcome.describe(),
        )

    return raw_check


raw_checks = [build_raw_check(table) for table in RAW_TABLES]
