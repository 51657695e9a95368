"""The dbt project as Dagster assets: seeds, staging, intermediate and marts, tests as checks.

What happens around `dbt build`:
- it leaves out the dbt unit tests (they test the models' SQL on hand-made rows, whatever the
  data: the test suite runs them, tests/models/test_dbt_unit_tests.py);
- the raw tables whose Great Expectations check failed in this run are blocked: the models
  downstream of them (`--exclude source:<source>.<table>+`) keep what they held, the rest
  build, and the step then fails naming the check;
- one build at a time per warehouse: the step holds a Postgres advisory lock while dbt runs,
  so a second run (a schedule, a sensor, another `callshrink run`) waits for the first instead
  of colliding with its tables;
- dagster-dbt's resource is used without the two things it does before every build that
  callshrink has no use for (`DbtCli`, below);
- each build writes its dbt artifacts (run_results.json, compiled SQL, dbt.log) to a folder
  of its own, target/callshrink_dbt_assets-<run>-<hash>/; a daily schedule would fill the
  disk with them, so only the newest `CALLSHRINK_KEEP_DBT_RUNS` (default 10) are kept.
"""

import shutil
from collections.abc import Iterator, Sequence
from functools import cached_property
from pathlib import Path
from typing import Any

import dagster as dg
from dagster_dbt import DbtCliResource, DbtProject, dbt_assets
from dagster_dbt.compat import DBT_PYTHON_VERSION
from packaging.version import Version
from pydantic import Field

from callshrink import db
from callshrink.dbt import ensure_manifest, stage_reference, tool
from callshrink.settings import PROJECT_DIR
from orchestration.defs.quality import CHECK_NAME
from orchestration.defs.retention import kept_count

# pg_advisory_lock key of the dbt build (advisory locks are per database).
BUILD_LOCK = 0x63616C6C_73687231  # "callshr1"
KEEP_RUNS_VAR = "CALLSHRINK_KEEP_DBT_RUNS"
DEFAULT_KEEP_RUNS = 10

dbt_project = DbtProject(project_dir=PROJECT_DIR, profiles_dir=PROJECT_DIR)
ensure_manifest()


class DbtBuildConfig(dg.Config):
    full_refresh: bool = Field(
        default=False,
        description="Rebuild the incremental staging and call models from scratch "
        "(dbt --full-refresh).",
    )


@dbt_assets(manifest=dbt_project.manifest_path, project=dbt_project)
def callshrink_dbt_assets(
    context: dg.AssetExecutionContext, dbt: DbtCliResource, config: DbtBuildConfig
) -> Iterator[Any]:
    db.activate()  # exports the connection variables profiles.yml reads
    stage_reference()  # the reference CSVs of this run, as dbt's seed path
    blocked = _blocked_tables(context)
    keep = keep_runs()  # a bad setting fails before the build, not after
    args = ["build", "--full-refresh"] if config.full_refresh else ["build"]
    # unit tests check the SQL against hand-made rows, not the data: a run gains nothing from
    # them (make test runs them once; by hand, dbt test --select test_type:unit)
    args += ["--exclude-resource-type", "unit_test"]
    for source_table in blocked:
        args += ["--exclude", f"source:{source_table}+"]
    with db.connect(autocommit=True) as lock:  # held until dbt is done
        if not lock.execute("select pg_try_advisory_lock(%s)", (BUILD_LOCK,)).fetchone()[0]:
            context.log.warning("another run is building this warehouse: waiting for it to finish")
            lock.execute("select pg_advisory_lock(%s)", (BUILD_LOCK,))
        invocation = dbt.cli(args, context=context, raise_on_error=False)
        yield from invocation.stream()
    prune_run_folders(invocation.target_path.parent, keep, context.log)
    if not invocation.is_successful():
        raise dg.Failure(description="dbt build failed:\n" + "\n".join(_failed_nodes(invocation)))
    if blocked:
        raise dg.Failure(description=_blocked_message(blocked))


def keep_runs() -> int:
    """How many runs' dbt folders to keep: CALLSHRINK_KEEP_DBT_RUNS, at least 1."""
    return kept_count(KEEP_RUNS_VAR, DEFAULT_KEEP_RUNS, "runs' dbt folders")


def prune_run_folders(target: Path, keep: int, log: Any = None) -> list[Path]:
    """Remove all but the `keep` newest per-run folders (callshrink_dbt_assets-*) in target/;
    the rest of target/ (manifest.json, partial_parse.msgpack, a hand run's files) stays.
    Returns the folders removed."""
    runs = sorted(
        (path for path in target.glob("callshrink_dbt_assets-*") if path.is_dir()),
        key=lambda path: path.stat().st_mtime,
        reverse=True,
    )
    removed = runs[keep:]
    for path in removed:
        shutil.rmtree(path, ignore_errors=True)
    if removed and log is not None:
        log.info(
            f"removed {len(removed)} older runs' dbt folders from {target} "
            f"(keeping the newest {keep}: {KEEP_RUNS_VAR})"
        )
    return removed


def _blocked_tables(context: dg.AssetExecutionContext) -> dict[str, str]:
    """The raw tables (as dbt sources, `square.payments`) whose Great Expectations check failed
    in this run, with the check's description."""
    blocked = {}
    for entry in context.instance.all_logs(
        context.run_id, of_type=dg.DagsterEventType.ASSET_CHECK_EVALUATION
    ):
        evaluation = entry.dagster_event.event_specific_data
        if evaluation.check_name == CHECK_NAME and not evaluation.passed:
            blocked[".".join(evaluation.asset_key.path)] = evaluation.description or ""
    return blocked


def _blocked_message(blocked: dict[str, str]) -> str:
    lines = [
        "dbt built everything but the models downstream of a raw table whose Great "
        "Expectations check failed; those keep what they held before this run:"
    ]
    for source_table, description in sorted(blocked.items()):
        lines.append(f"  {source_table}: {description}")
    lines.append(
        "Deliver a corrected file, or quarantine the rows (`callshrink quarantine --help`), "
        "and run again."
    )
    return "\n".join(lines)


def _failed_nodes(invocation: Any) -> list[str]:
    """Each failed model or test with the first line of its message, from run_results.json."""
    try:
        results = invocation.get_artifact("run_results.json")["results"]
    except (FileNotFoundError, KeyError):
        return ["(no run_results.json: see the dbt log above)"]
    return [
        f"  {result['unique_id']}: {_explain(result.get('message') or result['status'])}"
        for result in results
        if result["status"] in ("error", "fail")
    ]


def _explain(message: str) -> str:
    if "out of sync" in message:  # dbt's on_schema_change: fail
        return (
            "its columns changed since the table was built (a new callshrink version?): "
            "run `callshrink run --full-refresh` to rebuild the incremental models"
        )
    return message.strip()


class DbtCli(DbtCliResource):
    """dagster-dbt's resource, without what delayed the start of every build by 4.5 seconds.

    Before it starts dbt, ``DbtCliResource.cli`` runs ``dbt --version`` in a subprocess (to
    tell dbt Core from the Fusion engine; dbt then also asks PyPI for its latest release) and
    loads dbt's profile, project and adapter into this process: 6.9 seconds from the step's
    start to dbt's first log line on this project's machine, 2.3 without them. The adapter
    serves only ``fetch_row_counts``/``fetch_column_metadata``, which callshrink does not
    call, and the executable is this environment's dbt (``tool("dbt")``), whose version is
    that of the dbt-core package installed beside dagster-dbt. Both are private methods of
    dagster-dbt (pinned in requirements.lock): if a later version renames them, these
    overrides stop applying and builds start as slowly as before, nothing worse.
    """

    @cached_property
    def _cli_version(self) -> Version:
        return DBT_PYTHON_VERSION  # dbt-core is one of callshrink's requirements

    def _initialize_dbt_core_adapter(self, args: Sequence[str]) -> None:
        return None


# The dbt of this environment, so it works without the venv being activated.
dbt_resource = DbtCli(project_dir=dbt_project, dbt_executable=tool("dbt"))
