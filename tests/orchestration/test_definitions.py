"""The Dagster definitions load, and the graph joins raw assets to dbt without a translator."""

from __future__ import annotations

import dagster as dg
import pytest

from callshrink.ingest import RAW_TABLES


def test_definitions_load_with_raw_assets_checks_dbt_job_schedule_and_sensor():
    from orchestration.definitions import defs

    graph = defs.resolve_asset_graph()
    keys = {key.to_user_string() for key in graph.get_all_asset_keys()}
    for table in RAW_TABLES:
        assert "/".join(table.asset_key) in keys
    # dbt models are keyed <schema>/<model>, seeds reference/<seed>
    assert {"marts/calls", "staging/stg_asterisk__cdr", "reference/locations"} <= keys
    # each resolve_* raises when the name is unknown: what is asserted is what they resolve to
    job = defs.resolve_job_def("callshrink_all")
    assert {key.to_user_string() for key in job.asset_layer.executable_asset_keys} == {
        key.to_user_string() for key in graph.get_all_asset_keys() if graph.get(key).is_executable
    }
    schedule = defs.resolve_schedule_def("callshrink_daily")
    assert (schedule.cron_schedule, schedule.job_name) == ("0 5 * * *", "callshrink_all")
    sensor = defs.resolve_sensor_def("landing_folder_sensor")
    assert (sensor.job_name, sensor.minimum_interval_seconds) == ("callshrink_all", 60)


def test_staging_models_depend_on_the_raw_ingestion_assets():
    from orchestration.definitions import defs

    graph = defs.resolve_asset_graph()
    parents = graph.get(dg.AssetKey(["staging", "stg_asterisk__cdr"])).parent_keys
    assert dg.AssetKey(["asterisk", "cdr"]) in parents
    assert graph.get(dg.AssetKey(["asterisk", "cdr"])).is_materializable


def test_every_raw_asset_checks_its_table_with_great_expectations_in_the_loading_step():
    """The check is a spec of the raw assets' own step, so it has run before dbt starts; dbt
    blocks what is downstream of a failed one (tests/orchestration/test_blocked_source.py)."""
    from orchestration.definitions import defs

    specs = {
        (spec.asset_key, spec.name)
        for assets_def in defs.assets or []
        for spec in getattr(assets_def, "check_specs", [])
    }
    raw_keys = {dg.AssetKey(list(table.asset_key)) for table in RAW_TABLES}
    assert {(key, "great_expectations") for key in raw_keys} <= specs
    assert not defs.asset_checks  # no check runs in a step of its own, after dbt may start


def test_sensor_requests_a_run_only_when_landing_files_change(tmp_path, monkeypatch):
    from orchestration.defs.schedules import landing_folder_sensor

    monkeypatch.setenv("CALLSHRINK_LANDING_DIR", str(tmp_path))
    cdr = tmp_path / "pbx" / "pbx_east" / "cdr"
    cdr.mkdir(parents=True)
    (cdr / "a.csv").write_text("x")
    first = landing_folder_sensor(dg.build_sensor_context())
    assert len(first.run_requests) == 1
    again = landing_folder_sensor(dg.build_sensor_context(cursor=first.cursor))
    assert again.run_requests == []
    assert again.skip_reason.skip_message == "no new or changed landing files"
    (cdr / "b.csv").write_text("y")
    changed = landing_folder_sensor(dg.build_sensor_context(cursor=first.cursor))
    assert len(changed.run_requests) == 1


SOURCE_FOLDERS = (
    "tracking/callrail/, pbx/<pbx_id>/cdr/, pbx/<pbx_id>/queue_log/, pos/square/payments/, "
    "pos/square/refunds/, pos/square/customers/, crm/hubspot/contacts/, crm/hubspot/deals/"
)


def _unusable_landing(tmp_path, state: str):
    """A landing folder the sensor and the schedule cannot load from, and the problem named."""
    landing = tmp_path / "landing"
    if state == "missing":
        return landing, f"the landing folder {landing} does not exist"
    landing.mkdir()
    if state == "outside the source folders":
        (landing / "pbx").mkdir()
        (landing / "pbx" / "Master.csv").write_text("x")  # not below pbx/<pbx_id>/cdr/
    return landing, f"the landing folder {landing} holds no export files (none below " + (
        f"{SOURCE_FOLDERS})"
    )


@pytest.mark.parametrize("state", ["missing", "empty", "outside the source folders"])
def test_sensor_skips_naming_a_landing_folder_it_cannot_load_from(tmp_path, monkeypatch, state):
    from orchestration.defs.schedules import landing_folder_sensor

    landing, problem = _unusable_landing(tmp_path, state)
    monkeypatch.setenv("CALLSHRINK_LANDING_DIR", str(landing))
    result = landing_folder_sensor(dg.build_sensor_context())
    assert result.run_requests == []
    assert result.skip_reason.skip_message == (
        f"{problem} (CALLSHRINK_LANDING_DIR names the folder the sensor watches)"
    )
    assert result.cursor is None  # the folder's first files, once there, start a run


@pytest.mark.parametrize("state", ["missing", "empty", "outside the source folders"])
def test_schedule_tick_fails_naming_a_landing_folder_it_cannot_load_from(
    tmp_path, monkeypatch, capfd, state
):
    from orchestration.defs.schedules import daily_schedule

    landing, problem = _unusable_landing(tmp_path, state)
    monkeypatch.setenv("CALLSHRINK_LANDING_DIR", str(landing))
    with pytest.raises(dg.DagsterUserCodeExecutionError) as failed:
        daily_schedule.evaluate_tick(dg.build_schedule_context())
    assert str(failed.value) == "Error occurred during the evaluation of schedule callshrink_daily"
    assert str(failed.value.__cause__) == (
        f"{problem}: no run started (CALLSHRINK_LANDING_DIR names the landing folder)"
    )
    # and logs it, for the daemon's log
    assert (
        f"dagster - ERROR - callshrink_daily: {problem}; no run started\n" in capfd.readouterr().err
    )


def test_schedule_starts_a_run_when_the_landing_folder_has_files(tmp_path, monkeypatch):
    from orchestration.defs.schedules import daily_schedule

    deals = tmp_path / "crm" / "hubspot" / "deals"
    deals.mkdir(parents=True)
    (deals / "d.jsonl").write_text("{}\n")
    monkeypatch.setenv("CALLSHRINK_LANDING_DIR", str(tmp_path))
    tick = daily_schedule.evaluate_tick(dg.build_schedule_context())
    assert len(tick.run_requests) == 1
    assert tick.skip_message is None


def test_the_closed_month_snapshot_is_an_asset_between_its_model_and_the_restatements():
    """dbt build (the one dbt step) runs the snapshot after the closed months and before the
    restatement report, so Dagster shows it in the lineage."""
    from orchestration.definitions import defs

    graph = defs.resolve_asset_graph()
    snapshot = dg.AssetKey(["snapshots", "revenue_month_snapshots"])
    assert (
        dg.AssetKey(["intermediate", "int_revenue_months_closed"])
        in graph.get(snapshot).parent_keys
    )
    assert snapshot in graph.get(dg.AssetKey(["marts", "revenue_restatements"])).parent_keys


def test_assets_are_grouped_by_layer_with_owners_and_descriptions():
    from orchestration.definitions import defs

    graph = defs.resolve_asset_graph()
    expected = {
        "asterisk/cdr": "raw",
        "reference/locations": "reference",
        "staging/stg_asterisk__cdr": "staging",
        "intermediate/int_calls_stitched": "intermediate",
        "marts/calls": "marts",
        "restricted/caller_numbers": "restricted",
        "snapshots/revenue_month_snapshots": "intermediate",
    }
    nodes = {node.key.to_user_string(): node for node in graph.asset_nodes}
    assert {key: nodes[key].group_name for key in expected} == expected
    groups = {"raw", "reference", "staging", "intermediate", "marts", "restricted"}
    for key, node in nodes.items():
        if not node.is_materializable:
            continue
        assert node.group_name in groups, key
        assert node.owners == ["team:analytics-engineering"], key
        assert node.description, key


def test_the_landing_sensor_runs_from_the_start_only_when_a_landing_folder_is_named(monkeypatch):
    import importlib

    from orchestration.defs import schedules

    monkeypatch.delenv("CALLSHRINK_LANDING_DIR", raising=False)
    assert importlib.reload(schedules).landing_folder_sensor.default_status == (
        dg.DefaultSensorStatus.STOPPED
    )
    monkeypatch.setenv("CALLSHRINK_LANDING_DIR", "/srv/landing")
    assert importlib.reload(schedules).landing_folder_sensor.default_status == (
        dg.DefaultSensorStatus.RUNNING
    )
    monkeypatch.undo()
    importlib.reload(schedules)


def test_the_singular_dbt_tests_are_checks_of_the_mart_they_guard():
    """Each reads several models; its meta names the one it checks, so Dagster shows it as that
    asset's check instead of warning on every run."""
    from orchestration.definitions import defs

    checks = {key.to_user_string() for key in defs.resolve_asset_graph().asset_check_keys}
    assert {
        "marts/revenue_attributions:revenue_attributions_lose_nothing",
        "marts/revenue_reconciliation:revenue_reconciliation_totals_tie",
    } <= checks


def test_the_dbt_resource_knows_dbts_version_without_asking_and_loads_no_adapter(monkeypatch):
    """dagster-dbt runs `dbt --version` and loads dbt's adapter into this process before every
    build (about five seconds); callshrink's resource answers the version from the installed
    package, which must be the executable's, and skips the adapter it never uses."""
    import re
    import subprocess

    import dagster_dbt.core.resource as dagster_dbt_resource

    from callshrink.dbt import tool
    from orchestration.definitions import defs
    from orchestration.defs.dbt import dbt_project

    asked = subprocess.run([tool("dbt"), "--version"], capture_output=True, text=True, check=True)
    installed = re.search(r"installed: (\d+\.\d+\.\d+)", asked.stdout).group(1)

    def no_subprocess(*args, **kwargs):
        raise AssertionError(f"a subprocess was started: {args}")

    monkeypatch.setattr(dagster_dbt_resource, "check_output", no_subprocess)
    resource = type(defs.resources["dbt"])(project_dir=dbt_project, dbt_executable=tool("dbt"))
    assert str(resource._cli_version) == installed
    assert resource._initialize_dbt_core_adapter(["build"]) is None
