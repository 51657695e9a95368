"""callshrink.semantic: MetricFlow's SQL for the app, kept per semantic manifest."""

from __future__ import annotations

import json
import shutil
from datetime import date

import pytest

from callshrink import semantic
from callshrink.dbt import SEMANTIC_MANIFEST
from callshrink.semantic import MetricQuery, Period
from tests.conftest import PipelineRun

ASKED = MetricQuery(metrics=("answer_rate",), group_by=("call__weekday",))


@pytest.fixture
def manifest(pipeline_run: PipelineRun, tmp_path):
    """A copy of the suite's semantic manifest, with a store of its own beside it."""
    path = tmp_path / "semantic_manifest.json"
    shutil.copy2(SEMANTIC_MANIFEST, path)
    return path


def test_the_sql_binds_the_period_and_names_no_database(manifest):
    sql = semantic.compiled_sql(ASKED, manifest)

    for parameter in ("%(first_day)s", "%(last_day)s", "%(location_ids)s"):
        assert parameter in sql
    database = json.loads(manifest.read_text())["semantic_models"][0]["node_relation"]
    assert database["database"] and f'"{database["database"]}".' not in sql
    assert '"marts"."calls"' in sql


def test_a_new_manifest_gets_the_queries_asked_before_compiled_at_once(manifest):
    semantic.compiled_sql(ASKED, manifest)
    saved = [q["name"] for q in json.loads(manifest.read_text())["saved_queries"]]
    assert semantic.precompile(manifest) == len(saved), "the saved queries, once"
    assert semantic.precompile(manifest) == 0, "nothing left to compile"

    manifest.write_text(manifest.read_text() + "\n")  # dbt wrote a new manifest
    assert semantic.precompile(manifest) == len(saved) + 1, "the query asked and each saved one"
    key, queries = semantic._store(manifest)
    assert key and queries[semantic._query_key(ASKED)] == semantic.compiled_sql(ASKED, manifest)


def test_the_app_reads_the_same_figures_from_the_stored_sql(manifest, conn):
    period = Period(date(2000, 1, 1), date(2100, 1, 1), ("loc_01", "loc_02"))
    first = semantic.run(conn, ASKED, period, manifest)
    semantic._compiled.cache_clear()  # a new process: the SQL comes from the store
    assert semantic.run(conn, ASKED, period, manifest).equals(first)
    assert len(first) == 7 and set(first["weekday"]) == set(range(1, 8))


def test_a_missing_manifest_says_what_to_run(tmp_path):
    with pytest.raises(semantic.MetricsLayerError, match="callshrink run"):
        semantic.compiled_sql(ASKED, tmp_path / "semantic_manifest.json")


def test_a_query_the_new_manifest_cannot_answer_leaves_the_store(manifest):
    gone = MetricQuery(metrics=("no_such_metric",))
    key, _ = semantic._store(manifest)
    semantic._write_store(manifest, "an older manifest", {semantic._query_key(gone): "select 1"})
    semantic.compiled_sql(ASKED, manifest)

    saved = [q["name"] for q in json.loads(manifest.read_text())["saved_queries"]]
    assert semantic.precompile(manifest) == len(saved), "the others compile all the same"
    _, queries = semantic._store(manifest)
    assert semantic._query_key(gone) not in queries
    assert semantic._query_key(ASKED) in queries
    assert key is None, "the copy's store starts empty"
