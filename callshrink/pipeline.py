"""Run every Dagster asset once, in this process, and summarise what happened."""

from __future__ import annotations

import os
import time
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from dagster import ExecuteInProcessResult

JOB_NAME = "callshrink_all"


def run_pipeline(quiet: bool = False) -> bool:
    """Materialise everything (ingestion, checks, dbt build); print a summary; True on success."""
    import dagster as dg

    from orchestration.definitions import defs

    started = time.monotonic()
    job = defs.resolve_job_def(JOB_NAME)
    level = "WARNING" if quiet else "INFO"
    instance = dg.DagsterInstance.get() if os.environ.get("DAGSTER_HOME") else None
    result = job.execute_in_process(
        instance=instance,
        raise_on_error=False,
        run_config={"loggers": {"console": {"config": {"log_level": level}}}},
    )
    _print_summary(result, time.monotonic() - started)
    return result.success


def _print_summary(result: ExecuteInProcessResult, seconds: float) -> None:
    rows = []
    checks = []
    failures = []
    for event in result.all_events:
        if event.event_type_value == "ASSET_MATERIALIZATION":
            materialization = event.event_specific_data.materialization
            meta = materialization.metadata
            if "rows_loaded" in meta:
                rows.append((materialization.asset_key.to_user_string(), meta))
        elif event.event_type_value == "ASSET_CHECK_EVALUATION":
            evaluation = event.event_specific_data
            if evaluation.check_name == "great_expectations" or not evaluation.passed:
                checks.append(evaluation)
        elif event.event_type_value == "STEP_FAILURE":
            failures.append(event)
    print()
    if rows:
        print(f"{'raw table':<22}{'loaded':>10}{'quarantined':>13}{'files skipped':>15}")
        for key, meta in sorted(rows):
            print(
                f"{key:<22}{meta['rows_loaded'].value:>10}{meta['rows_quarantined'].value:>13}"
                f"{meta['files_skipped_already_loaded'].value:>15}"
            )
    for _, meta in sorted(rows):
        listed = meta["quarantined_lines"].value if "quarantined_lines" in meta else ""
        for problem in filter(None, listed.splitlines()):
            print(f"  quarantined {problem}")
    failed_checks = [c for c in checks if not c.passed]
    print(f"checks: {len(checks) - len(failed_checks)} passed, {len(failed_checks)} failed")
    for check in failed_checks:
        key = check.asset_key.to_user_string()
        print(f"  FAILED {key} {check.check_name}: {check.description}")
    for failure in failures:
        error = failure.event_specific_data.error
        message = error.message.strip().splitlines()[0] if error else "failed"
        print(f"  FAILED step {failure.step_key}: {message}")
    state = "succeeded" if result.success else "FAILED"
    print(f"run {result.run_id} {state} in {seconds:.1f} s")
