"""The dbt project as Dagster assets: seeds, staging, intermediate and marts, tests as checks."""

from collections.abc import Iterator
from typing import Any

import dagster as dg
from dagster_dbt import DbtCliResource, DbtProject, dbt_assets

from callshrink import db
from callshrink.dbt import ensure_manifest, stage_reference, tool
from callshrink.settings import PROJECT_DIR

dbt_project = DbtProject(project_dir=PROJECT_DIR, profiles_dir=PROJECT_DIR)
ensure_manifest()


@dbt_assets(manifest=dbt_project.manifest_path, project=dbt_project)
def callshrink_dbt_assets(context: dg.AssetExecutionContext, dbt: DbtCliResource) -> Iterator[Any]:
    db.activate()  # exports the connection variables profiles.yml reads
    stage_reference()  # the reference CSVs of this run, as dbt's seed path
    yield from dbt.cli(["build"], context=context).stream()


# The dbt of this environment, so it works without the venv being activated.
dbt_resource = DbtCliResource(project_dir=dbt_project, dbt_executable=tool("dbt"))
