"""The metrics layer: MetricFlow validates and answers, and agrees with what the app shows."""

from __future__ import annotations

import csv
import os
import subprocess
from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest

from callshrink.dbt import tool
from callshrink.settings import PROJECT_DIR
from tests.conftest import PipelineRun


def mf(*args: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "DBT_PROFILES_DIR": str(PROJECT_DIR)}
    return subprocess.run(
        [tool("mf"), *args], cwd=PROJECT_DIR, env=env, capture_output=True, text=True, timeout=600
    )


def test_mf_validate_configs_passes(pipeline_run: PipelineRun):
    result = mf("validate-configs")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "ERRORS: 0" in result.stdout
    assert "• ERROR" not in result.stdout


@pytest.fixture(scope="module")
def answer_rate_by_day(pipeline_run: PipelineRun, tmp_path_factory) -> list[dict[str, str]]:
    out = Path(tmp_path_factory.mktemp("mf")) / "answer_rate.csv"
    result = mf(
        "query",
        "--metrics",
        "answer_rate,answered_calls,inbound_calls",
        "--group-by",
        "metric_time__day,location__location_id",
        "--csv",
        str(out),
    )
    assert result.returncode == 0, result.stdout + result.stderr
    with out.open() as handle:
        return list(csv.DictReader(handle))


def test_mf_query_answers_answer_rate_by_day_and_location(answer_rate_by_day, conn):
    locations = {row[0] for row in conn.execute("select location_id from marts.locations")}
    inbound = [row for row in answer_rate_by_day if float(row["inbound_calls"] or 0) > 0]
    # outbound callbacks carry no location yet, so they form a row of their own, with no inbound
    assert {row["location__location_id"] for row in inbound} == locations
    days = {row["metric_time__day"][:10] for row in answer_rate_by_day}
    assert len(days) >= 10
    rates = [Decimal(row["answer_rate"]) for row in answer_rate_by_day if row["answer_rate"]]
    assert all(0 <= rate <= 1 for rate in rates)
    assert any(rate > 0 for rate in rates)


def test_the_app_shows_the_metric_layers_figures(answer_rate_by_day, conn):
    from app import data

    data.answer_rate_by.clear()
    first_day, last_day = data.call_date_range()
    app_rows = data.answer_rate_by(
        "day", first_day, last_day, tuple(sorted(data.locations()["location_id"]))
    )
    app_figures = {
        (str(row.location_id), str(row.day)): (int(row.answered_calls), int(row.inbound_calls))
        for row in app_rows.itertuples()
    }
    mf_figures = {
        (row["location__location_id"], row["metric_time__day"][:10]): (
            int(float(row["answered_calls"] or 0)),
            int(float(row["inbound_calls"] or 0)),
        )
        for row in answer_rate_by_day
        if float(row["inbound_calls"] or 0) > 0
    }
    assert app_figures == mf_figures
    for row in app_rows.itertuples():
        mf_row = next(
            r
            for r in answer_rate_by_day
            if r["location__location_id"] == row.location_id
            and r["metric_time__day"][:10] == str(row.day)
        )
        if mf_row["answer_rate"]:
            assert abs(float(mf_row["answer_rate"]) - float(row.answer_rate)) < 1e-9
    assert isinstance(first_day, date)
