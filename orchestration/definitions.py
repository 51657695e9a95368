"""Everything Dagster knows about callshrink: `dagster dev` (or `callshrink dev`) loads this."""

import dagster as dg

from orchestration.defs.alerts import process_alerts
from orchestration.defs.dbt import callshrink_dbt_assets, dbt_resource
from orchestration.defs.ingestion import raw_tables
from orchestration.defs.quality import data_docs
from orchestration.defs.resources import LandingResource, WarehouseResource
from orchestration.defs.schedules import daily_schedule, everything_job, landing_folder_sensor

defs = dg.Definitions(
    assets=[raw_tables, data_docs, callshrink_dbt_assets, process_alerts],
    jobs=[everything_job],
    schedules=[daily_schedule],
    sensors=[landing_folder_sensor],
    resources={
        "warehouse": WarehouseResource(),
        "landing": LandingResource(),
        "dbt": dbt_resource,
    },
)
