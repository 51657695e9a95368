"""Stored validation results do not pile up: only the newest runs of each table's suite stay,
with their Data Docs pages, so a daily schedule neither fills the disk nor slows the index."""

from __future__ import annotations

from pathlib import Path

import dagster as dg
import pytest

from expectations.runner import prune_results, validate_raw_table
from orchestration.defs.quality import KEEP_VALIDATIONS_VAR, keep_validations
from tests.expectations.test_suites import GOOD_ROWS, cdr


def runs_of(results: Path, *suite_folders: str) -> list[str]:
    """The run folders (their names: the run times) stored for a suite, oldest first."""
    folder = results.joinpath("validations", *suite_folders)
    return sorted(path.parent.name for path in folder.glob("*/*/*.json"))


def test_a_table_keeps_its_newest_runs_and_their_pages_only(
    raw_rows, gx_database_url, tmp_path: Path
) -> None:
    raw_rows("asterisk_cdr", [cdr()])
    raw_rows("square_refunds", GOOD_ROWS["square_refunds"])
    assert validate_raw_table(gx_database_url, "square_refunds", results_dir=tmp_path).success
    seen: list[str] = []
    for _ in range(3):
        validation = validate_raw_table(
            gx_database_url, "asterisk_cdr", results_dir=tmp_path, keep_results=2
        )
        assert validation.success
        seen = sorted({*seen, *runs_of(tmp_path, "raw", "asterisk_cdr")})

    assert len(seen) == 3
    assert runs_of(tmp_path, "raw", "asterisk_cdr") == seen[1:]  # the oldest run is gone
    pages = tmp_path / "data_docs" / "validations" / "raw" / "asterisk_cdr" / "__none__"
    assert sorted(path.name for path in pages.iterdir()) == seen[1:]
    index = (tmp_path / "data_docs" / "index.html").read_text()
    assert seen[0] not in index and seen[2] in index
    # another table's runs are its own to prune
    assert len(runs_of(tmp_path, "raw", "square_refunds")) == 1


def test_failure_details_are_pruned_like_the_runs_and_nothing_else_is(tmp_path: Path) -> None:
    def stored(*parts: str) -> Path:
        path = tmp_path.joinpath(*parts)
        path.mkdir(parents=True)
        path.joinpath("result").write_text("{}")
        return path

    times = [f"2026120{day}T060000.000000Z" for day in (1, 2, 3)]
    for root in ("validations", "data_docs/validations"):
        for time in times:
            stored(root, "raw", "asterisk_cdr", "__none__", time)
            stored(root, "raw", "asterisk_cdr", "failures", "__none__", time)
            stored(root, "raw", "square_refunds", "__none__", time)
    not_a_run = stored("validations", "raw", "asterisk_cdr", "__none__", "notes")

    assert prune_results(tmp_path, "asterisk_cdr", keep=1) == 4

    for root in ("validations", "data_docs/validations"):
        cdr_runs = tmp_path.joinpath(root, "raw", "asterisk_cdr")
        assert [p.name for p in cdr_runs.joinpath("__none__").iterdir() if p != not_a_run] == [
            times[2]
        ]
        assert [p.name for p in cdr_runs.joinpath("failures", "__none__").iterdir()] == [times[2]]
        refunds = tmp_path.joinpath(root, "raw", "square_refunds", "__none__")
        assert sorted(p.name for p in refunds.iterdir()) == times
    assert not_a_run.exists()


def test_sixty_runs_are_kept_by_default_and_a_bad_setting_names_the_variable(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv(KEEP_VALIDATIONS_VAR, raising=False)
    assert keep_validations() == 60
    monkeypatch.setenv(KEEP_VALIDATIONS_VAR, "7")
    assert keep_validations() == 7
    for text, message in (
        ("a week", "CALLSHRINK_KEEP_VALIDATIONS='a week' is not a whole number"),
        ("-1", "CALLSHRINK_KEEP_VALIDATIONS=-1: keep at least"),
    ):
        monkeypatch.setenv(KEEP_VALIDATIONS_VAR, text)
        with pytest.raises(dg.Failure, match=message):
            keep_validations()
