"""The job that materialises everything, its daily schedule and the landing-folder sensor."""

import hashlib
import os

import dagster as dg

from callshrink import settings
from callshrink.ingest.loader import landing_problem

everything_job = dg.define_asset_job(
    "callshrink_all",
    selection=dg.AssetSelection.all(),
    description="Load new landing files, validate them, build and test every dbt model.",
)


class LandingFolderUnusable(Exception):
    """The landing folder is missing or holds no export files: the schedule's tick fails."""


@dg.schedule(
    name="callshrink_daily",
    job=everything_job,
    cron_schedule="0 5 * * *",
    description="Every day at 05:00: a full pass, in case a file arrived while the sensor was off. "
    "A tick fails, naming the folder, when the landing folder is missing or holds no export files.",
)
def daily_schedule(context: dg.ScheduleEvaluationContext) -> dg.RunRequest:
    problem = landing_problem(settings.landing_dir())
    if problem:
        context.log.error(f"callshrink_daily: {problem}; no run started")
        raise LandingFolderUnusable(
            f"{problem}: no run started (CALLSHRINK_LANDING_DIR names the landing folder)"
        )
    return dg.RunRequest()


def landing_fingerprint() -> str | None:
    """A digest of every landing file's path, size and modification time; None when absent."""
    landing = settings.landing_dir()
    if not landing.is_dir():
        return None
    digest = hashlib.sha256()
    for path in sorted(p for p in landing.rglob("*") if p.is_file()):
        stat = path.stat()
        digest.update(f"{path.relative_to(landing)}|{stat.st_size}|{stat.st_mtime_ns}\n".encode())
    return digest.hexdigest()


@dg.sensor(
    job=everything_job,
    minimum_interval_seconds=60,
    # Running from the start only when a landing folder was named: a sensor watching the
    # default folder nobody fills would start runs that load nothing.
    default_status=(
        dg.DefaultSensorStatus.RUNNING
        if os.environ.get("CALLSHRINK_LANDING_DIR")
        else dg.DefaultSensorStatus.STOPPED
    ),
    description="Starts a run when files in the landing folder are added or changed (running "
    "from the start when CALLSHRINK_LANDING_DIR names the folder, else started in the UI).",
)
def landing_folder_sensor(context: dg.SensorEvaluationContext) -> dg.SensorResult:
    problem = landing_problem(settings.landing_dir())
    if problem:
        return dg.SensorResult(
            skip_reason=f"{problem} (CALLSHRINK_LANDING_DIR names the folder the sensor watches)"
        )
    fingerprint = landing_fingerprint()
    if fingerprint is None or fingerprint == context.cursor:
        return dg.SensorResult(skip_reason="no new or changed landing files")
    return dg.SensorResult(run_requests=[dg.RunRequest(run_key=fingerprint)], cursor=fingerprint)
