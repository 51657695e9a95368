"""`callshrink run --reread-files` reaches the raw assets: a file the loader skipped unread (its
path, size and modification time unchanged since it was loaded) is read and hashed again."""

from __future__ import annotations

import os
from pathlib import Path
from types import SimpleNamespace

import dagster as dg
import pytest

from callshrink import cli, pipeline
from callshrink.ingest import loader as loader_module
from callshrink.ingest import table_by_key
from orchestration.defs.ingestion import REREAD_VAR, raw_tables
from orchestration.defs.resources import LandingResource, WarehouseResource
from tests.conftest import recreate_database
from tests.ingestion.hostile import event


def test_reread_files_makes_the_raw_asset_hash_a_file_it_skipped_unread(
    server_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    landing = tmp_path / "landing"
    queue_log = landing / "pbx" / "pbx_a" / "queue_log" / "queue_log"
    queue_log.parent.mkdir(parents=True)
    queue_log.write_text("\n".join(event(1772953200 + i) for i in range(3)) + "\n")
    (tmp_path / "reference").mkdir()
    monkeypatch.setenv(
        "CALLSHRINK_DATABASE_URL", recreate_database(server_url, "callshrink_reread")
    )
    monkeypatch.setenv("CALLSHRINK_LANDING_DIR", str(landing))
    monkeypatch.setenv("CALLSHRINK_HOME", str(tmp_path / "home"))
    monkeypatch.setenv("DAGSTER_HOME", str(tmp_path / "dagster"))
    monkeypatch.delenv(REREAD_VAR, raising=False)  # and put back as it was afterwards

    hashed: list[Path] = []
    real = loader_module._sha256
    monkeypatch.setattr(loader_module, "_sha256", lambda path: hashed.append(path) or real(path))
    key = dg.AssetKey(list(table_by_key("asterisk", "queue_log").asset_key))

    def materialize() -> None:
        resources = {"warehouse": WarehouseResource(), "landing": LandingResource()}
        assert dg.materialize([raw_tables], selection=[key], resources=resources).success

    materialize()
    materialize()
    assert hashed == [queue_log]  # read once: the second run skipped it unread

    # the command line sets what the assets read, before the pipeline starts
    seen: dict[str, str | None] = {}

    def run_pipeline(**_options) -> SimpleNamespace:
        seen["reread"] = os.environ.get(REREAD_VAR)
        return SimpleNamespace(success=True)

    monkeypatch.setattr(pipeline, "run_pipeline", run_pipeline)
    reference = str(tmp_path / "reference")
    assert cli.main(["run", "-q", "--landing", str(landing), "--reference", reference]) == 0
    assert seen["reread"] is None
    assert cli.main(["run", "-q", "--reread-files", "--reference", reference]) == 0
    assert seen["reread"] == "1"

    materialize()
    assert hashed == [queue_log, queue_log]
