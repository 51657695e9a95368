"""run_bench.py's longest path of a dbt build, on a build small enough to follow by hand."""

from __future__ import annotations

import sys
from datetime import datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "benchmarks"))
from run_bench import longest_path

START = datetime(2026, 3, 27, 6, 0, 0)


def _result(unique_id: str, started: float, ended: float) -> dict:
    def at(seconds: float) -> str:
        return (START + timedelta(seconds=seconds)).isoformat() + "Z"

    return {
        "unique_id": unique_id,
        "timing": [
            {"name": "compile", "started_at": at(started), "completed_at": at(started)},
            {"name": "execute", "started_at": at(started), "completed_at": at(ended)},
        ],
    }


def test_the_path_runs_back_through_what_each_node_waited_for_longest():
    # seed s (0-1) and its test (1-2); model a reads the seed (2-6); model b stands alone
    # (0-7); a's two tests (6-6.5, then 6.6-8 on a thread freed late); model c reads a and b
    # (8-12). c waited for a's slower test (8), not b (7) nor a itself (6); that test for a,
    # not for its sibling, which ended before it started; a for the seed's test.
    results = [
        _result("seed.p.s", 0, 1),
        _result("test.p.unique_s", 1, 2),
        _result("model.p.a", 2, 6),
        _result("model.p.b", 0, 7),
        _result("test.p.not_null_a", 6, 6.5),
        _result("test.p.unique_a", 6.6, 8),
        _result("model.p.c", 8, 12),
        {"unique_id": "model.p.skipped", "timing": []},
    ]
    parent_map = {
        "seed.p.s": [],
        "test.p.unique_s": ["seed.p.s"],
        "model.p.a": ["seed.p.s"],
        "model.p.b": [],
        "test.p.not_null_a": ["model.p.a"],
        "test.p.unique_a": ["model.p.a"],
        "model.p.c": ["model.p.a", "model.p.b", "model.p.skipped"],
    }
    assert longest_path(results, parent_map) == [
        ("seed.p.s", 0.0, 1.0),
        ("test.p.unique_s", 1.0, 2.0),
        ("model.p.a", 2.0, 6.0),
        ("test.p.unique_a", 6.6, 8.0),
        ("model.p.c", 8.0, 12.0),
    ]


def test_a_build_that_ran_nothing_has_no_path():
    assert longest_path([{"unique_id": "model.p.a", "timing": []}], {"model.p.a": []}) == []
