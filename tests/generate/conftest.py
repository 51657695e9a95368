"""Shared fixtures: one small data set (with defects) generated once per test session."""

from __future__ import annotations

from pathlib import Path

import pytest

from callshrink.generate import generate

SMALL = {"locations": 4, "days": 10, "seed": 11, "calls_per_location_day": 60.0}


@pytest.fixture(scope="session")
def small_out(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("gen_small")
    generate(out, defects=False, **SMALL)
    return out


@pytest.fixture(scope="session")
def defect_out(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("gen_defects")
    generate(out, defects=True, **SMALL)
    return out
