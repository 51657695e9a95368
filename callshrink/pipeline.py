"""Run every Dagster asset once, in this process, and summarise what happened."""

from __future__ import annotations

import datetime as dt
import os
import time
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from dagster import ExecuteInProcessResult

JOB_NAME = "callshrink_all"
DBT_STEP = "callshrink_dbt_assets"
RAW_STEP = "raw_tables"  # every raw table's load and check (orchestration/defs/ingestion.py)


@dataclass
class RawLoad:
    rows_loaded: int
    rows_quarantined: int
    files_skipped: int
    quarantined_lines: list[str]  # "file:line: reason", the first few per file
    seconds: float = 0.0  # loading the files
    check_seconds: float = 0.0  # its Great Expectations check


@dataclass
class PipelineResult:
    success: bool
    run_id: str
    seconds: float
    raw: dict[str, RawLoad] = field(default_factory=dict)  # by asset key, e.g. "asterisk/cdr"
    checks_passed: int = 0
    failed_checks: list[str] = field(default_factory=list)
    warned_checks: list[str] = field(default_factory=list)  # checks of severity warn that failed
    failed_steps: list[str] = field(default_factory=list)
    health: list[str] = field(default_factory=list)  # data health findings, one line each
    step_seconds: dict[str, float] = field(default_factory=dict)  # Dagster steps that succeeded

    def timing(self) -> str:
        """Where the run's time went: loading and the checks (each table's, summed: the tables
        load at once, so the raw step takes less), the dbt build, the rest."""
        loading = checks = 0.0
        for load in self.raw.values():
            loading += load.seconds
            checks += load.check_seconds
        build = self.step_seconds.get(DBT_STEP)
        parts = [f"loading {loading:.1f} s", f"checks {checks:.1f} s"]
        if RAW_STEP in self.step_seconds:  # both, several tables at once
            parts.append(f"raw step {self.step_seconds[RAW_STEP]:.1f} s")
        parts.append(
            f"dbt build {build:.1f} s" if build is not None else "dbt build did not finish"
        )
        return "time: " + ", ".join(parts) + f" (run {self.seconds:.1f} s)"

    def summary(self) -> str:
        lines = [f"{'raw table':<22}{'loaded':>10}{'quarantined':>13}{'files skipped':>15}"]
        for key, load in sorted(self.raw.items()):
            lines.append(
                f"{key:<22}{load.rows_loaded:>10}{load.rows_quarantined:>13}"
                f"{load.files_skipped:>15}"
            )
        for load in self.raw.values():
            lines += [f"  quarantined {problem}" for problem in load.quarantined_lines]
        lines.append(
            f"checks: {self.checks_passed} passed, {len(self.failed_checks)} failed, "
            f"{len(self.warned_checks)} warned"
        )
        lines += [f"  FAILED {check}" for check in self.failed_checks]
        lines += [f"  WARNING {check}" for check in self.warned_checks]
        lines += [f"  FAILED step {step}" for step in self.failed_steps]
        if self.health:
            lines.append("data health (`callshrink doctor` for the whole table):")
            lines += [f"  {finding}" for finding in self.health]
        lines.append(self.timing())
        state = "succeeded" if self.success else "FAILED"
        lines.append(f"run {self.run_id} {state} in {self.seconds:.1f} s")
        return "\n".join(lines)


def _precompile_metric_queries() -> None:
    """The app's metric queries compiled for the new semantic manifest, so that its first page
    after a build does not wait for MetricFlow (callshrink/semantic.py, precompile)."""
    from callshrink import semantic

    try:
        semantic.precompile()
    except semantic.MetricsLayerError as error:
        print(f"warning: the app's metric queries were not compiled: {error}")


def run_pipeline(quiet: bool = False, full_refresh: bool = False) -> PipelineResult:
    """Materialise everything (ingestion, checks, dbt build) and print a summary.

    full_refresh rebuilds the incremental models (staging, calls, revenue) from scratch
    instead of building the records and days a run touched (needed after a model's columns
    change, or for a changed reference such as a pbx_systems time zone)."""
    import dagster as dg

    from callshrink.dbt import ensure_manifest
    from orchestration.definitions import defs

    ensure_manifest()  # target/ names this warehouse, for mf and the app (defs may be older)
    started = time.monotonic()
    job = defs.resolve_job_def(JOB_NAME)
    instance = dg.DagsterInstance.get() if os.environ.get("DAGSTER_HOME") else None
    level = "WARNING" if quiet else "INFO"
    outcome = job.execute_in_process(
        instance=instance,
        raise_on_error=False,
        run_config={
            "loggers": {"console": {"config": {"log_level": level}}},
            "ops": {"callshrink_dbt_assets": {"config": {"full_refresh": full_refresh}}},
        },
    )
    result = _collect(outcome, time.monotonic() - started)
    result.health = _health_findings()
    _precompile_metric_queries()
    print("\n" + result.summary())
    return result


def _health_findings() -> list[str]:
    """The data health findings of the warehouse as built (none if its marts are missing)."""
    from callshrink import db, health

    with db.connect(autocommit=True) as conn:
        try:
            return [finding.line() for finding in health.read(conn).findings]
        except health.HealthUnavailable:
            return []


def _collect(outcome: ExecuteInProcessResult, seconds: float) -> PipelineResult:
    import dagster as dg

    result = PipelineResult(outcome.success, outcome.run_id, seconds)
    check_seconds: dict[str, float] = {}
    for event in outcome.all_events:
        kind = event.event_type_value
        if kind == "ASSET_MATERIALIZATION":
            materialization = event.event_specific_data.materialization
            meta = materialization.metadata
            if "rows_loaded" in meta:
                result.raw[materialization.asset_key.to_user_string()] = RawLoad(
                    rows_loaded=meta["rows_loaded"].value,
                    rows_quarantined=meta["rows_quarantined"].value,
                    files_skipped=meta["files_skipped_already_loaded"].value,
                    quarantined_lines=list(
                        filter(None, meta["quarantined_lines"].value.split("\n"))
                    ),
                    seconds=meta["load_seconds"].value if "load_seconds" in meta else 0.0,
                )
        elif kind == "ASSET_CHECK_EVALUATION":
            evaluation = event.event_specific_data
            if "seconds" in evaluation.metadata:
                key = evaluation.asset_key.to_user_string()
                check_seconds[key] = (
                    check_seconds.get(key, 0.0) + evaluation.metadata["seconds"].value
                )
            if evaluation.passed:
                result.checks_passed += 1
            else:
                key = evaluation.asset_key.to_user_string()
                line = f"{key} {evaluation.check_name}: {evaluation.description or ''}".strip()
                if evaluation.severity == dg.AssetCheckSeverity.WARN:
                    result.warned_checks.append(line)
                else:
                    result.failed_checks.append(line)
        elif kind == "STEP_SUCCESS":
            duration = dt.timedelta(milliseconds=event.event_specific_data.duration_ms)
            result.step_seconds[event.step_key] = duration.total_seconds()
        elif kind == "STEP_FAILURE":
            error = event.event_specific_data.error
            result.failed_steps.append(f"{event.step_key}: {_failure_text(error)}")
    for key, spent in check_seconds.items():
        if key in result.raw:
            result.raw[key].check_seconds = spent
    return result


def _failure_text(error: object) -> str:
    """A step's failure for the summary: the dbt step's description in full (each failed model
    and test, or the raw tables whose failed check blocked their models), else the error's
    first line."""
    if error is None:
        return "failed"
    for cause in (error, getattr(error, "cause", None)):
        message = getattr(cause, "message", "") or ""
        for start in ("dbt build failed", "dbt built everything but"):
            if start in message:
                return message[message.index(start) :].strip()
    return error.message.strip().splitlines()[0]
