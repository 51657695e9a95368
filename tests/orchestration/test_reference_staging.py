"""A reference folder other than seeds/ is staged as dbt's seed path. The pipeline, the app and
the tests stage it from several threads and processes at once (the metric-parity test runs its
MetricFlow queries in a thread pool); a half-made copy or a copy removed under a reader failed
there once with FileExistsError."""

from __future__ import annotations

import os
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from callshrink import settings
from callshrink.dbt import SEED_PATH_VAR, stage_reference


def _reference(folder: Path, locations: str) -> Path:
    folder.mkdir(exist_ok=True)
    folder.joinpath("locations.csv").write_text(locations)
    folder.joinpath("business_hours.csv").write_text("location_id,day_of_week\nloc_01,1\n")
    return folder


def test_sixteen_threads_staging_at_once_all_get_one_whole_copy(tmp_path, monkeypatch):
    source = _reference(tmp_path / "reference", "location_id\nloc_01\n")
    monkeypatch.setenv("CALLSHRINK_REFERENCE_DIR", str(source))
    monkeypatch.setenv(SEED_PATH_VAR, os.environ.get(SEED_PATH_VAR, "seeds"))

    with ThreadPoolExecutor(max_workers=16) as pool:
        staged = list(pool.map(lambda _: stage_reference(), range(64)))

    assert len(set(staged)) == 1, staged
    copy = settings.PROJECT_DIR / staged[0]
    assert sorted(p.name for p in copy.iterdir()) == ["business_hours.csv", "locations.csv"]
    assert copy.joinpath("locations.csv").read_text() == "location_id\nloc_01\n"
    leftovers = [p.name for p in copy.parent.glob(".staging-*")]
    assert leftovers == [], f"temporary folders left behind: {leftovers}"


def test_a_changed_reference_gets_a_new_copy_and_the_old_one_goes(tmp_path, monkeypatch):
    source = _reference(tmp_path / "reference", "location_id\nloc_01\n")
    monkeypatch.setenv("CALLSHRINK_REFERENCE_DIR", str(source))
    monkeypatch.setenv(SEED_PATH_VAR, os.environ.get(SEED_PATH_VAR, "seeds"))

    first = settings.PROJECT_DIR / stage_reference()
    _reference(source, "location_id\nloc_01\nloc_02\n")
    second = settings.PROJECT_DIR / stage_reference()

    assert second != first
    assert second.joinpath("locations.csv").read_text() == "location_id\nloc_01\nloc_02\n"
    assert not first.exists(), "the copy of the older contents stays behind"
    assert os.environ[SEED_PATH_VAR] == str(second.relative_to(settings.PROJECT_DIR))
