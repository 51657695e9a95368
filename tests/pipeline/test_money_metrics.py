"""The money metrics of the metrics layer: MetricFlow answers each by month and location, and
its figures equal the marts' to the cent, per month and location and in total.

A new money metric is one more entry in MONEY_METRICS: its name and the SQL of the same
figure over the marts, by month and location."""

from __future__ import annotations

import csv
from decimal import Decimal
from pathlib import Path

import psycopg
import pytest

from tests.conftest import PipelineRun
from tests.pipeline.test_metrics_layer import mf

GROUP_BY = ("metric_time__month", "location__location_id")
CENT = Decimal("0.01")


def _revenue(amount: str) -> str:
    return (
        "select date_trunc('month', revenue_date)::date, location_id, "
        f"sum({amount}) from marts.revenue_attributions group by 1, 2"
    )


def _shrink(category: str) -> str:
    return (
        "select date_trunc('month', started_date)::date, location_id, sum(expected_shrink_usd) "
        f"from marts.missed_call_shrink where category = '{category}' group by 1, 2"
    )


def _per_eligible_call(numerator: str) -> str:
    return (
        "select date_trunc('month', started_date)::date, location_id, "
        f"sum({numerator})::numeric / count(*) from marts.call_conversions group by 1, 2"
    )


SHRINK_RATE = f"""
    with shrink as ({_shrink("missed_opportunity")}),
    attributed as ({_revenue("signed_amount_usd * is_attributed::int")})
    select
        coalesce(shrink.date_trunc, attributed.date_trunc),
        coalesce(shrink.location_id, attributed.location_id),
        coalesce(shrink.sum, 0) / nullif(coalesce(attributed.sum, 0) + coalesce(shrink.sum, 0), 0)
    from shrink
    full outer join attributed
        on shrink.date_trunc = attributed.date_trunc
        and shrink.location_id is not distinct from attributed.location_id
"""

# metric -> SQL over the marts: (first day of the month, location_id, figure)
MONEY_METRICS = {
    "revenue_source_usd": _revenue("signed_amount_usd"),
    "revenue_attributed_usd": _revenue("signed_amount_usd * is_attributed::int"),
    "revenue_unattributed_usd": _revenue("signed_amount_usd * (not is_attributed)::int"),
    "missed_call_shrink_usd": _shrink("missed_opportunity"),
    "after_hours_shrink_usd": _shrink("after_hours"),
    "conversion_rate": _per_eligible_call("is_converted::int"),
    "value_per_answered_call_usd": _per_eligible_call("converted_value_usd"),
    "shrink_rate": SHRINK_RATE,
}
# rates are compared to six places, dollars to the cent
RATES = {"conversion_rate", "shrink_rate"}

Cell = tuple[str, str]  # month (YYYY-MM-DD), location_id ("" when none)


def _cents(value: object, quantum: Decimal = CENT) -> Decimal:
    return Decimal(str(value or 0)).quantize(quantum)


def _quantum(metric: str) -> Decimal:
    return Decimal("0.000001") if metric in RATES else CENT


@pytest.fixture(scope="module")
def money_by_month(pipeline_run: PipelineRun, tmp_path_factory) -> list[dict[str, str]]:
    out = Path(tmp_path_factory.mktemp("mf")) / "money.csv"
    result = mf(
        "query",
        "--metrics",
        ",".join(MONEY_METRICS),
        "--group-by",
        ",".join(GROUP_BY),
        "--csv",
        str(out),
    )
    assert result.returncode == 0, result.stdout + result.stderr
    with out.open() as handle:
        return list(csv.DictReader(handle))


@pytest.fixture(scope="module")
def mart_figures(pipeline_run: PipelineRun, warehouse_url: str) -> dict[str, dict[Cell, Decimal]]:
    with psycopg.connect(warehouse_url) as conn:
        return {
            metric: {
                (str(month), location or ""): _cents(value, _quantum(metric))
                for month, location, value in conn.execute(query).fetchall()
            }
            for metric, query in MONEY_METRICS.items()
        }


def test_mf_answers_every_money_metric_by_month_and_location(money_by_month, conn):
    assert money_by_month
    assert set(money_by_month[0]) == {*GROUP_BY, *MONEY_METRICS}
    for metric in MONEY_METRICS:
        assert any(_cents(row[metric]) for row in money_by_month), metric
    locations = {row[0] for row in conn.execute("select location_id from marts.locations")}
    assert {row["location__location_id"] for row in money_by_month} >= locations
    assert len({row["metric_time__month"] for row in money_by_month}) == 2  # Feb and March


@pytest.mark.parametrize("metric", MONEY_METRICS)
def test_money_metric_equals_the_marts_per_month_location_and_total(
    metric, money_by_month, mart_figures
):
    figures = {
        (row["metric_time__month"][:10], row["location__location_id"]): _cents(
            row[metric], _quantum(metric)
        )
        for row in money_by_month
    }
    expected = mart_figures[metric]
    cells = expected.keys() | figures.keys()
    differing = {
        cell: (figures.get(cell, Decimal(0)), expected.get(cell, Decimal(0)))
        for cell in cells
        if figures.get(cell, Decimal(0)) != expected.get(cell, Decimal(0))
    }
    assert differing == {}, f"{metric}: (mf, marts) {differing}"
    assert sum(figures.values()) == sum(expected.values()) != 0


def test_the_money_metrics_tie_out(money_by_month):
    """source = attributed + unattributed, on every row of the metrics layer."""
    for row in money_by_month:
        assert _cents(row["revenue_source_usd"]) == _cents(row["revenue_attributed_usd"]) + _cents(
            row["revenue_unattributed_usd"]
        ), row
