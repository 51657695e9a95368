"""The money metrics of the metrics layer: MetricFlow answers each by month and location, and
its figures are the answer key's (tests/answer_key.py), per month and location and in total.

Revenue to the cent (attributions.csv); conversion from the key's calls and their attributed
revenue (exact counts, six places); missed-call and after-hours shrink, and the shrink rate,
from the key's valued calls each at its conversion cell's value (tests/answer_key.Shrink),
within the slack the outcome counts' bar allows.

A new money metric is one more entry in KEY_FIGURES: its name and how the key gives it, by
month and location."""

from __future__ import annotations

import csv
from collections.abc import Callable
from decimal import Decimal
from pathlib import Path

import psycopg
import pytest

from tests.answer_key import (
    UNKNOWN,
    ZERO,
    Key,
    Shrink,
    cell_values,
    conversion_eligible,
    shrink_of,
    valued_calls,
)
from tests.conftest import PipelineRun
from tests.pipeline.test_metrics_layer import mf

GROUP_BY = ("metric_time__month", "location__location_id")
CENT = Decimal("0.01")
SIX_PLACES = Decimal("0.000001")

Cell = tuple[str, str]  # month (YYYY-MM-01), location_id ("" when none)


def _month(day: object) -> str:
    """The first day of the month of a date or an ISO date string."""
    return f"{str(day)[:7]}-01"


def _revenue(key: Key, attributed: bool | None) -> dict[Cell, Decimal]:
    """Net revenue (refunds subtracted) by revenue month and location; attributed only, the
    rest only, or all (None)."""
    cells: dict[Cell, Decimal] = {}
    for row in key.attributions():
        if attributed is not None and (row["rule"] != "unattributed") != attributed:
            continue
        amount = Decimal(row["amount_usd"])
        cell = (_month(row["date"]), "" if row["location_id"] == UNKNOWN else row["location_id"])
        cells[cell] = cells.get(cell, ZERO) + (
            -amount if row["record_type"] == "refund" else amount
        )
    return cells


def _by_cell(rows: list[dict]) -> dict[Cell, list[dict]]:
    cells: dict[Cell, list[dict]] = {}
    for row in rows:
        cells.setdefault((_month(row["day"]), row["location_id"]), []).append(row)
    return cells


def _conversion(calls: list[dict], value: bool) -> dict[Cell, Decimal]:
    """Conversion rate (or value per eligible call) by month and location of the call."""
    figures = {}
    for cell, rows in _by_cell(conversion_eligible(calls)).items():
        amounts = [Decimal(row["attributed_revenue_usd"]) for row in rows]
        converted = [amount for amount in amounts if amount > 0]
        numerator = sum(converted, ZERO) if value else Decimal(len(converted))
        figures[cell] = numerator / len(rows)
    return figures


def _shrink(calls: list[dict], cells: dict, category: str) -> dict[Cell, Shrink]:
    return {
        cell: shrink_of(rows, cells)
        for cell, rows in _by_cell(valued_calls(calls)[category]).items()
    }


class Expected:
    """A metric's figures by month and location from the key, and how far mf may be off."""

    def __init__(self, figures: dict[Cell, Decimal], slack: dict[Cell, Decimal] | None = None):
        self.figures, self.slack = figures, slack or {}


def _shrink_rate(key: Key, calls: list[dict], cells: dict) -> Expected:
    """shrink / (attributed + shrink), its slack from the shrink's (attributed is exact)."""
    shrink = _shrink(calls, cells, "missed_opportunity")
    attributed = _revenue(key, attributed=True)
    figures, slack = {}, {}
    for cell in shrink.keys() | attributed.keys():
        s = shrink[cell] if cell in shrink else shrink_of([], cells)
        a = attributed.get(cell, ZERO)
        if a + s.usd == 0:
            continue
        figures[cell] = s.usd / (a + s.usd)
        low = (s.usd - s.slack_usd) / (a + s.usd - s.slack_usd) if a + s.usd > s.slack_usd else 0
        high = (s.usd + s.slack_usd) / (a + s.usd + s.slack_usd)
        slack[cell] = max(figures[cell] - low, high - figures[cell])
    return Expected(figures, slack)


def _shrink_figures(calls, cells, category) -> Expected:
    shrink = _shrink(calls, cells, category)
    return Expected(
        {c: s.usd for c, s in shrink.items()}, {c: s.slack_usd for c, s in shrink.items()}
    )


# metric -> how the key gives it by month and location: f(key, calls, cells) -> Expected
KEY_FIGURES: dict[str, Callable[[Key, list[dict], dict], Expected]] = {
    "revenue_source_usd": lambda key, calls, cells: Expected(_revenue(key, None)),
    "revenue_attributed_usd": lambda key, calls, cells: Expected(_revenue(key, True)),
    "revenue_unattributed_usd": lambda key, calls, cells: Expected(_revenue(key, False)),
    "missed_call_shrink_usd": lambda key, calls, cells: _shrink_figures(
        calls, cells, "missed_opportunity"
    ),
    "after_hours_shrink_usd": lambda key, calls, cells: _shrink_figures(
        calls, cells, "after_hours"
    ),
    "conversion_rate": lambda key, calls, cells: Expected(_conversion(calls, value=False)),
    "value_per_answered_call_usd": lambda key, calls, cells: Expected(_conversion(calls, True)),
    "shrink_rate": _shrink_rate,
}
MONEY_METRICS = tuple(KEY_FIGURES)
# rates are compared to six places, dollars to the cent
RATES = {"conversion_rate", "shrink_rate"}


def _cents(value: object, quantum: Decimal = CENT) -> Decimal:
    return Decimal(str(value or 0)).quantize(quantum)


def _quantum(metric: str) -> Decimal:
    return SIX_PLACES if metric in RATES else CENT


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
def key_inputs(pipeline_run: PipelineRun, warehouse_url: str) -> tuple[Key, list[dict], dict]:
    key = Key(pipeline_run.out)
    with psycopg.connect(warehouse_url) as conn:
        cells = cell_values(conn)  # the conversion cells' values (tests/answer_key.Shrink)
    return key, key.calls(), cells


def test_mf_answers_every_money_metric_by_month_and_location(money_by_month, conn):
    assert money_by_month
    assert set(money_by_month[0]) == {*GROUP_BY, *MONEY_METRICS}
    for metric in MONEY_METRICS:
        assert any(_cents(row[metric]) for row in money_by_month), metric
    locations = {row[0] for row in conn.execute("select location_id from marts.locations")}
    assert {row["location__location_id"] for row in money_by_month} >= locations
    assert len({row["metric_time__month"] for row in money_by_month}) == 2  # Feb and March


@pytest.mark.parametrize("metric", MONEY_METRICS)
def test_money_metric_equals_the_answer_key_per_month_location_and_total(
    metric, money_by_month, key_inputs
):
    quantum = _quantum(metric)
    figures = {
        (row["metric_time__month"][:10], row["location__location_id"]): _cents(row[metric], quantum)
        for row in money_by_month
        if row[metric]
    }
    expected = KEY_FIGURES[metric](*key_inputs)
    key_figures = {cell: _cents(v, quantum) for cell, v in expected.figures.items()}
    cells = {
        cell
        for cell in key_figures.keys() | figures.keys()
        if key_figures.get(cell) or figures.get(cell)
    }
    differing = {
        cell: (figures.get(cell, Decimal(0)), key_figures.get(cell, Decimal(0)))
        for cell in cells
        if abs(figures.get(cell, Decimal(0)) - key_figures.get(cell, Decimal(0)))
        > expected.slack.get(cell, Decimal(0))
    }
    assert differing == {}, f"{metric}: (mf, answer key) {differing}"
    assert sum(figures.values()) != 0


def test_the_money_metrics_tie_out(money_by_month):
    """source = attributed + unattributed, on every row of the metrics layer."""
    for row in money_by_month:
        assert _cents(row["revenue_source_usd"]) == _cents(row["revenue_attributed_usd"]) + _cents(
            row["revenue_unattributed_usd"]
        ), row
