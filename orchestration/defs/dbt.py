"""The dbt project as Dagster assets: seeds, staging, intermediate and marts, tests as checks."""

from collections.abc import Iterator
from typing import Any

import dagster as dg
from dagster_dbt import DbtCliResource, DbtProject, dbt_assets
from pydantic import Field

from callshrink import db
from callshrink.dbt import ensure_manifest, stage_reference, tool
from callshrink.settings import PROJECT_DIR

dbt_project = DbtProject(project_dir=PROJECT_DIR, profiles_dir=PROJECT_DIR)
ensure_manifest()


class DbtBuildConfig(dg.Config):
    full_refresh: bool = Field(
        default=False,
        description="Rebuild the incremental call models from scratch (dbt --full-refresh).",
    )


@dbt_assets(manifest=dbt_project.manifest_path, project=dbt_project)
def callshrink_dbt_assets(
    context: dg.AssetExecutionContext, dbt: DbtCliResource, config: DbtBuildConfig
) -> Iterator[Any]:
    db.activate()  # exports the connection variables profiles.yml reads
    stage_reference()  # the reference CSVs of this run, as dbt's seed path
    args = ["build", "--full-refresh"] if config.full_refresh else ["build"]
    invocation = dbt.cli(args, context=context, raise_on_error=False)
    yield from invocation.stream()
    if not invocation.is_successful():
        raise dg.Failure(description="dbt build failed:\n" + "\n".join(_failed_nodes(invocation)))


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


# The dbt of this environment, so it works without the venv being activated.
dbt_resource = DbtCliResource(project_dir=dbt_project, dbt_executable=tool("dbt"))
