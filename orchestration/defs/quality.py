"""Great Expectations suites (expectations/) as checks on every raw asset.

Each raw table is validated as soon as it is loaded, in the step that loads the raw tables
(orchestration/defs/ingestion.py), so the check has finished before dbt starts: the rows of the
loads not validated before, the new rows and those of a load whose validation failed
(expectations/runner.py says why that is the whole table's verdict), or every current row when
CALLSHRINK_VALIDATE=all (`callshrink run --validate-all`). A failed check blocks only what is
downstream of that raw table: the dbt step leaves those models as they were and builds the
rest, then fails the run naming the check (orchestration/defs/dbt.py). The check's metadata
says which expectation failed and on which rows. Results and Data Docs are written to
<CALLSHRINK_HOME>/great_expectations/ (data_docs/index.html); the newest
CALLSHRINK_KEEP_VALIDATIONS (default 60) runs of each table's suite are kept there. Each check
renders its own pages; the index, which reads every stored result, is rebuilt once per run
after all of them (the asset `great_expectations/data_docs`).
"""

import os
from pathlib import Path

import dagster as dg

from callshrink import settings
from callshrink.ingest import RAW_TABLES, RawTable
from orchestration.defs.retention import kept_count

CHECK_NAME = "great_expectations"
VALIDATE_VAR = "CALLSHRINK_VALIDATE"  # "all": every current row; unset or "new": new loads
KEEP_VALIDATIONS_VAR = "CALLSHRINK_KEEP_VALIDATIONS"
DEFAULT_KEEP_VALIDATIONS = 60  # two months of daily runs


def raw_key(table: RawTable) -> dg.AssetKey:
    """The raw table's asset key, its dbt source's (<source>/<table>)."""
    return dg.AssetKey(list(table.asset_key))


def check_spec(table: RawTable) -> dg.AssetCheckSpec:
    return dg.AssetCheckSpec(
        CHECK_NAME,
        asset=raw_key(table),
        description=(
            f"Great Expectations suite raw.{table.identifier} (expectations/); a failure "
            "blocks the dbt models downstream of this table."
        ),
    )


def validate(table: RawTable, url: str) -> dg.AssetCheckResult:
    from expectations.runner import validate_raw_table  # GX is slow to import

    outcome = validate_raw_table(
        url,
        table.identifier,
        results_dir=results_dir(),
        new_loads_only=not validate_all(),
        keep_results=keep_validations(),
        build_index=False,  # once per run, by data_docs below
    )
    return dg.AssetCheckResult(
        check_name=CHECK_NAME,
        asset_key=raw_key(table),
        passed=outcome.success,
        metadata=outcome.as_metadata(),
        description=None if outcome.success else outcome.describe(),
    )


@dg.asset(
    key=dg.AssetKey(["great_expectations", "data_docs"]),
    deps=[raw_key(table) for table in RAW_TABLES],
    group_name="raw",
    owners=["team:analytics-engineering"],
    kinds={"html"},
    description="The Data Docs index of the raw tables' checks, rebuilt once after a run's "
    "checks (each check renders its own pages). It reads every stored result, about 1.3 s with "
    "two months of daily runs, so it is not rebuilt after each table's check.",
)
def data_docs() -> dg.MaterializeResult:
    from expectations.runner import build_docs_index  # GX is slow to import

    index = build_docs_index(results_dir())
    return dg.MaterializeResult(metadata={"index": dg.MetadataValue.path(index)} if index else {})


def results_dir() -> Path:
    return settings.home_dir() / "great_expectations"


def keep_validations() -> int:
    """How many runs of each table's suite to keep: CALLSHRINK_KEEP_VALIDATIONS, at least 1."""
    return kept_count(KEEP_VALIDATIONS_VAR, DEFAULT_KEEP_VALIDATIONS, "validation results")


def validate_all() -> bool:
    """Whether CALLSHRINK_VALIDATE asks for every current row; a value it does not know fails
    the check naming it rather than validating less than asked."""
    value = os.environ.get(VALIDATE_VAR, "new").strip().lower() or "new"
    if value not in ("all", "new"):
        raise dg.Failure(description=f"{VALIDATE_VAR}={value!r}: use 'all' or 'new' (default)")
    return value == "all"
