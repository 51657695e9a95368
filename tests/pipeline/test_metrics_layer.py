"""The metrics layer: MetricFlow validates and answers, and agrees with what the app shows."""

from __future__ import annotations

import csv
from decimal import Decimal
from pathlib import Path

import pytest

from tests.conftest import PipelineRun, mf


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


# Every call metric docs/metrics.md names (its semantic layer section, before the money metrics).
CALL_METRICS = (
    "inbound_calls",
    "answered_calls",
    "voicemail_calls",
    "abandoned_calls",
    "missed_calls",
    "short_abandon_calls",
    "after_hours_calls",
    "spam_calls",
    "missed_opportunities",
    "recovered_missed_opportunities",
    "answer_rate",
    "abandonment_rate",
    "service_level",
    "average_speed_of_answer_seconds",
    "repeat_contact_rate_24h",
    "repeat_contact_rate_7d",
    "transfer_rate",
    "escalation_rate",
    "average_resolution_path_length",
    "customer_effort_score",
    "process_compliance_rate",
    "callback_recovery_rate",
    "median_minutes_to_recovery",
)

# Each count metric, and the same count over marts.calls.
COUNTS = {
    "inbound_calls": "direction = 'inbound'",
    "answered_calls": "is_answered",
    "voicemail_calls": "outcome = 'voicemail'",
    "abandoned_calls": "outcome = 'abandoned'",
    "missed_calls": "outcome = 'missed'",
    "short_abandon_calls": "outcome = 'short_abandon'",
    "after_hours_calls": "outcome = 'after_hours'",
    "spam_calls": "outcome = 'spam'",
    "missed_opportunities": "is_missed_opportunity",
    "recovered_missed_opportunities": "is_recovered",
}


def _number(value: str) -> float:
    return float(value) if value else 0.0


@pytest.fixture(scope="module")
def every_call_metric(pipeline_run: PipelineRun, tmp_path_factory) -> list[dict[str, str]]:
    """Every call metric by day and location, in one mf query."""
    out = Path(tmp_path_factory.mktemp("mf")) / "every_call_metric.csv"
    result = mf(
        "query",
        "--metrics",
        ",".join(CALL_METRICS),
        "--group-by",
        "metric_time__day,location__location_id",
        "--csv",
        str(out),
    )
    assert result.returncode == 0, result.stdout + result.stderr
    with out.open() as handle:
        return list(csv.DictReader(handle))


def test_mf_answers_every_call_metric_by_day_and_location(every_call_metric, conn):
    assert every_call_metric
    columns = set(every_call_metric[0])
    assert columns == {"metric_time__day", "location__location_id", *CALL_METRICS}
    for metric in CALL_METRICS:  # each has a figure somewhere (the queue ones: PBX locations)
        assert any(row[metric] for row in every_call_metric), metric
    locations = {row[0] for row in conn.execute("select location_id from marts.locations")}
    assert {row["location__location_id"] for row in every_call_metric} == locations
    (days,) = conn.execute(
        "select count(distinct started_at_local::date) from marts.calls"
    ).fetchone()
    assert len({row["metric_time__day"] for row in every_call_metric}) == days


def test_the_count_metrics_add_up_to_the_calls_mart(every_call_metric, conn):
    select = ", ".join(f"count(*) filter (where {where})" for where in COUNTS.values())
    totals = dict(
        zip(COUNTS, conn.execute(f"select {select} from marts.calls").fetchone(), strict=True)
    )
    by_location = {
        location: dict(zip(COUNTS, counts, strict=True))
        for location, *counts in conn.execute(
            f"select location_id, {select} from marts.calls group by location_id"
        ).fetchall()
    }
    assert all(totals.values()), totals
    mf_totals = {
        metric: round(sum(_number(row[metric]) for row in every_call_metric)) for metric in COUNTS
    }
    assert mf_totals == totals
    for location, counts in by_location.items():
        rows = [r for r in every_call_metric if r["location__location_id"] == location]
        assert {m: round(sum(_number(r[m]) for r in rows)) for m in COUNTS} == counts, location


def test_a_ratio_for_one_location_day_matches_sql(every_call_metric, conn):
    # the busiest location-day of a PBX location (so that it has a service level too)
    row = max(
        (r for r in every_call_metric if r["service_level"]),
        key=lambda r: _number(r["inbound_calls"]),
    )
    location, day = row["location__location_id"], row["metric_time__day"][:10]
    answered, eligible, met, in_service_level = conn.execute(
        "select count(*) filter (where is_answered), "
        "count(*) filter (where is_answer_rate_eligible), "
        "count(*) filter (where meets_service_level), "
        "count(*) filter (where counts_in_service_level) "
        "from marts.calls where location_id = %s and started_at_local::date = %s",
        (location, day),
    ).fetchone()
    assert 0 < answered < eligible and 0 < met < in_service_level
    assert float(row["answer_rate"]) == pytest.approx(answered / eligible, abs=1e-12)
    assert float(row["service_level"]) == pytest.approx(met / in_service_level, abs=1e-12)


def test_mf_groups_by_week_region_source_caller_type_and_hour(pipeline_run: PipelineRun, tmp_path):
    dimensions = (
        "metric_time__week",
        "location__region",
        "call__marketing_source",
        "call__caller_type",
        "call__hour_of_day",
    )
    out = tmp_path / "by_dimensions.csv"
    result = mf(
        "query",
        "--metrics",
        "answer_rate,inbound_calls",
        "--group-by",
        ",".join(dimensions),
        "--csv",
        str(out),
    )
    assert result.returncode == 0, result.stdout + result.stderr
    with out.open() as handle:
        rows = list(csv.DictReader(handle))
    assert rows and set(dimensions) <= set(rows[0])
    assert {row["call__caller_type"] for row in rows if _number(row["inbound_calls"])} >= {
        "new",
        "returning",
    }
    assert len({row["call__hour_of_day"] for row in rows}) > 8
    assert len({row["metric_time__week"] for row in rows}) >= 2
    assert all(row["location__region"] for row in rows)
    assert any(0 < _number(row["answer_rate"]) < 1 for row in rows)
