"""The job that materialises everything, its daily schedule and the landing-folder sensor."""

import hashlib
import os

import dagster as dg

from callshrink import settings

everything_job = dg.define_asset_job(
    "callshrink_all",
    selection=dg.AssetSelection.all(),
    description="Load new landing files, validate them, build and test every dbt model.",
)

daily_schedule = dg.ScheduleDefinition(
    name="callshrink_daily",
    job=everything_job,
    cron_schedule="0 5 * * *",
    description="Every day at 05:00: a full pass, in case a file arrived while the sensor was off.",
)


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
    fingerprint = landing_fingerprint()
    if fingerprint is None or fingerprint == context.cursor:
        return dg.SensorResult(skip_reason="no new or changed landing files")
    return dg.SensorResult(run_requests=[dg.RunRequest(run_key=fingerprint)], cursor=fingerprint)
