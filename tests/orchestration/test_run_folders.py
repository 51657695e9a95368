"""Each dbt build of a run writes target/callshrink_dbt_assets-<run>-<hash>/; only the newest
CALLSHRINK_KEEP_DBT_RUNS (default 10) stay, so a daily schedule does not fill the disk.
(The pipeline test test_running_again_over_the_same_files_changes_nothing checks it on a real
run's folder.)"""

from __future__ import annotations

import os

import dagster as dg
import pytest

from orchestration.defs.dbt import DEFAULT_KEEP_RUNS, keep_runs, prune_run_folders


def test_the_newest_runs_stay_and_nothing_else_in_target_is_touched(tmp_path):
    target = tmp_path / "target"
    target.mkdir()
    for age in range(8):  # run_0 is the newest
        folder = target / f"callshrink_dbt_assets-run{age}-abc"
        folder.mkdir()
        folder.joinpath("run_results.json").write_text("{}")
        os.utime(folder, (1_700_000_000 - age * 86_400,) * 2)
    target.joinpath("manifest.json").write_text("{}")
    target.joinpath("partial_parse.msgpack").write_bytes(b"x")
    target.joinpath("compiled").mkdir()

    removed = prune_run_folders(target, keep=3)

    assert sorted(path.name for path in removed) == [
        f"callshrink_dbt_assets-run{age}-abc" for age in range(3, 8)
    ]
    assert sorted(path.name for path in target.iterdir()) == [
        "callshrink_dbt_assets-run0-abc",
        "callshrink_dbt_assets-run1-abc",
        "callshrink_dbt_assets-run2-abc",
        "compiled",
        "manifest.json",
        "partial_parse.msgpack",
    ]
    assert prune_run_folders(target, keep=3) == []


def test_keep_is_ten_by_default_and_a_bad_setting_names_the_variable(monkeypatch):
    monkeypatch.delenv("CALLSHRINK_KEEP_DBT_RUNS", raising=False)
    assert keep_runs() == DEFAULT_KEEP_RUNS == 10
    monkeypatch.setenv("CALLSHRINK_KEEP_DBT_RUNS", "4")
    assert keep_runs() == 4
    for text, message in (
        ("four", "CALLSHRINK_KEEP_DBT_RUNS='four' is not a whole number"),
        ("0", "CALLSHRINK_KEEP_DBT_RUNS=0: keep at least"),
    ):
        monkeypatch.setenv("CALLSHRINK_KEEP_DBT_RUNS", text)
        with pytest.raises(dg.Failure, match=message):
            keep_runs()
