"""The Dagster definitions load, and the graph joins raw assets to dbt without a translator."""

from __future__ import annotations

import dagster as dg

from callshrink.ingest import RAW_TABLES


def test_definitions_load_with_raw_assets_checks_dbt_job_schedule_and_sensor():
    from orchestration.definitions import defs

    graph = defs.resolve_asset_graph()
    keys = {key.to_user_string() for key in graph.get_all_asset_keys()}
    for table in RAW_TABLES:
        assert "/".join(table.asset_key) in keys
    # dbt models are keyed <schema>/<model>, seeds reference/<seed>
    assert {"marts/calls", "staging/stg_asterisk__cdr", "reference/locations"} <= keys
    assert defs.resolve_job_def("callshrink_all") is not None
    assert defs.resolve_schedule_def("callshrink_daily").cron_schedule == "0 5 * * *"
    assert defs.resolve_sensor_def("landing_folder_sensor") is not None


def test_staging_models_depend_on_the_raw_ingestion_assets():
    from orchestration.definitions import defs

    graph = defs.resolve_asset_graph()
    parents = graph.get(dg.AssetKey(["staging", "stg_asterisk__cdr"])).parent_keys
    assert dg.AssetKey(["asterisk", "cdr"]) in parents
    assert graph.get(dg.AssetKey(["asterisk", "cdr"])).is_materializable


def test_every_raw_asset_checks_its_table_with_great_expectations_in_its_own_step():
    """The check is a spec of the raw asset itself, so it has run before dbt starts; dbt
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
    (tmp_path / "pbx").mkdir()
    (tmp_path / "pbx" / "a.csv").write_text("x")
    first = landing_folder_sensor(dg.build_sensor_context())
    assert len(first.run_requests) == 1
    again = landing_folder_sensor(dg.build_sensor_context(cursor=first.cursor))
    assert again.run_requests == [] or again.run_requests is None
    (tmp_path / "pbx" / "b.csv").write_text("y")
    changed = landing_folder_sensor(dg.build_sensor_context(cursor=first.cursor))
    assert len(changed.run_requests) == 1


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
