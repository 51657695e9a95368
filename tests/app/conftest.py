"""The answer key of the suite's warehouse, for the app tests that compare pages with it."""

from __future__ import annotations

import psycopg
import pytest

from tests.answer_key import Key, cell_values
from tests.conftest import PipelineRun


@pytest.fixture(scope="module")
def key(pipeline_run: PipelineRun) -> Key:
    return Key(pipeline_run.out)


@pytest.fixture(scope="module")
def key_calls(key: Key) -> list[dict]:
    return key.calls()


@pytest.fixture(scope="module")
def cells(pipeline_run: PipelineRun, warehouse_url: str) -> dict:
    """The conversion cells' values (the one input of tests/answer_key.Shrink from the
    warehouse)."""
    with psycopg.connect(warehouse_url) as connection:
        return cell_values(connection)
