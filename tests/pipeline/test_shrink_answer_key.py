"""Missed-call shrink against the generator's answer key, on half a year of six locations.

The answer key's lost_revenue.csv holds, per location and category, the buying intents whose
first call went unanswered and that never bought because nobody reached the caller within
24 h, valued at what their purchase would have brought: lost_attributable_usd, the part
whose records reach the caller's number (what attribution would have credited to the call,
the unit the shrink is measured in, docs/metrics.md: shrink rate = shrink / (attributed +
shrink)), and lost_usd, all of it. marts.missed_call_shrink estimates the first from what
the warehouse sees: each unrecovered unanswered call heading its chain is worth its
conversion cell's rate x average converted value.

Half a year, because both sides are samples. In four weeks a location loses 25 to 130 buyers:
which of its callers would have bought moves the truth by about 10 % (one standard deviation
at 100 buyers, from their number and the spread of tickets), and its conversion cells, on a
thousand or two mature calls, move the estimate by about as much; on the 28-day demo the
locations are off by -4 % to +103 %. In 26 weeks, over four seeds, the 48 location figures
are off by +3.0 % on average with a standard deviation of 5.1 %.

Asserted, for missed opportunities and after-hours calls apart: the system estimate within
5 % of the truth, each location's within 15 %, and the truth inside the reported interval,
an interval no wider than the data allows (below). The comparison table is printed.

How wide the interval may be, worked out from docs/metrics.md (Conversion cells: Wilson on the
rate, mean +- 1.96 sd / sqrt(k) on the converted value, low = rate low x value low, high =
rate high x value high; a total's bounds are the sums of its rows'). A row's bounds relative to
its value are (1 - a)(1 - b) and (1 + a)(1 + b), with a = 1.96 sqrt((1 - p) / k) for the rate
and b = 1.96 cv / sqrt(k) for the value, k the cell's conversions; a sum's are the weighted
means of its rows'. Tickets are lognormal (sigma 0.55, cv 0.59) and a deal is worth 4 tickets,
so the converted values' cv is about 1; bound it by 1.1. In 26 weeks a location's cells hold
5 to 10 thousand mature eligible calls; most of its valued calls fall in cells with 50 or more
conversions. At k = 50 and any p: a <= 1.96 / sqrt(50) = 0.277 and b <= 1.96 x 1.1 / sqrt(50)
= 0.305, so low >= 0.723 x 0.695 = 0.50 x estimate and high <= 1.277 x 1.305 = 1.67 x
estimate. Asserted: low >= 0.5 x estimate and high <= 1.7 x estimate everywhere; an interval
from 0 to any high, or a value interval of +- z sd (the tickets' spread, not the standard error
of their mean), fails it.
"""

from __future__ import annotations

import csv
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path

import psycopg
import pytest

from callshrink.generate import generate
from callshrink.pipeline import run_pipeline
from tests.conftest import own_database

DATABASE = "callshrink_shrink"
CATEGORIES = ("missed_opportunity", "after_hours")
SYSTEM_TOLERANCE = Decimal("0.05")
LOCATION_TOLERANCE = Decimal("0.15")
MIN_LOW_OVER_ESTIMATE = Decimal("0.5")  # worked out in the module's docstring
MAX_HIGH_OVER_ESTIMATE = Decimal("1.7")


@pytest.fixture(scope="module")
def half_year(server_url: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple]:
    """(answer key folder, warehouse URL) after the pipeline ran on 6 locations x 182 days."""
    tmp = tmp_path_factory.mktemp("shrink")
    with pytest.MonkeyPatch.context() as monkeypatch:
        for url in own_database(server_url, DATABASE, tmp, monkeypatch):
            out = tmp / "data"
            generate(out, locations=6, days=182, seed=7)
            monkeypatch.setenv("CALLSHRINK_LANDING_DIR", str(out / "landing"))
            monkeypatch.setenv("CALLSHRINK_REFERENCE_DIR", str(out / "reference"))
            result = run_pipeline(quiet=True)
            assert result.success, result.summary()
            yield out / "answer_key", url


@pytest.fixture(scope="module")
def truth(half_year: tuple) -> dict[tuple[str, str], tuple[Decimal, Decimal]]:
    """(attributable, all) lost revenue per (category, location_id) and (category, "system")."""
    answer_key: Path = half_year[0]
    lost: dict[tuple[str, str], tuple[Decimal, Decimal]] = {}
    with (answer_key / "lost_revenue.csv").open(newline="", encoding="utf-8") as fh:
        for row in csv.DictReader(fh):
            amounts = (Decimal(row["lost_attributable_usd"]), Decimal(row["lost_usd"]))
            lost[(row["category"], row["location_id"])] = amounts
            system = lost.get((row["category"], "system"), (Decimal(0), Decimal(0)))
            lost[(row["category"], "system")] = (
                system[0] + amounts[0],
                system[1] + amounts[1],
            )
    return lost


@pytest.fixture(scope="module")
def estimate(half_year: tuple) -> dict[tuple[str, str], tuple]:
    """(expected, low, high) shrink per (category, location_id) and (category, "system")."""
    with psycopg.connect(half_year[1]) as connection:
        rows = connection.execute(
            """
            select
                category,
                coalesce(location_id, 'system'),
                sum(expected_shrink_usd),
                sum(expected_shrink_low_usd),
                sum(expected_shrink_high_usd)
            from marts.missed_call_shrink
            group by grouping sets ((category, location_id), (category))
            """
        ).fetchall()
    return {(category, where): (est, low, high) for category, where, est, low, high in rows}


def _places(category: str, truth: dict) -> list[str]:
    return [*sorted({w for c, w in truth if c == category} - {"system"}), "system"]


def _table(category: str, truth: dict, estimate: dict) -> str:
    lines = [
        f"{category} (answer key: attributable, and all the lost buyers would have paid):",
        f"  {'where':<8}{'attributable':>14}{'all':>14}{'estimate':>14}{'diff':>8}"
        f"{'low':>14}{'high':>14}",
    ]
    for where in _places(category, truth):
        attributable, everything = truth[(category, where)]
        est, low, high = estimate.get((category, where), (Decimal(0), None, None))
        diff = f"{(est - attributable) / attributable:+.1%}" if attributable else "n/a"
        lines.append(
            f"  {where:<8}{attributable!s:>14}{everything!s:>14}{est!s:>14}{diff:>8}"
            f"{low!s:>14}{high!s:>14}"
        )
    return "\n".join(lines)


def test_shrink_is_exact_money(estimate: dict):
    """Amounts come back as decimals to the cent, never floats."""
    for est, low, _high in estimate.values():
        assert isinstance(est, Decimal) and est == est.quantize(Decimal("0.01"))
        assert low <= est


@pytest.mark.parametrize("category", CATEGORIES)
def test_shrink_is_within_5_percent_for_the_system_and_15_for_each_location(
    category: str, truth: dict, estimate: dict
):
    table = _table(category, truth, estimate)
    print(table)
    off = []
    for where in _places(category, truth):
        expected = truth[(category, where)][0]
        est = estimate.get((category, where), (Decimal(0),))[0]
        tolerance = SYSTEM_TOLERANCE if where == "system" else LOCATION_TOLERANCE
        if abs(est - expected) > tolerance * expected:
            off.append(where)
    assert not off, f"shrink estimate off by more than the tolerance at {off}\n{table}"


@pytest.mark.parametrize("category", CATEGORIES)
def test_true_lost_revenue_lies_within_the_reported_uncertainty(
    category: str, truth: dict, estimate: dict
):
    """The estimate comes with an interval (Wilson on the rate, normal on the mean value,
    their conservative product); the attributable truth lies inside it everywhere."""
    outside = []
    for where in _places(category, truth):
        expected = truth[(category, where)][0]
        _est, low, high = estimate.get((category, where), (Decimal(0), Decimal(0), Decimal(0)))
        if not low <= expected <= high:
            outside.append(where)
    table = _table(category, truth, estimate)
    assert not outside, f"true lost revenue outside the reported interval at {outside}\n{table}"


@pytest.mark.parametrize("category", CATEGORIES)
def test_the_reported_interval_is_no_wider_than_half_a_year_of_data_allows(
    category: str, truth: dict, estimate: dict
):
    """An interval wide enough always holds the truth: the one above may be no wider than cells
    of 50 conversions give (the module's docstring), at every location and for the system."""
    too_wide = []
    for where in _places(category, truth):
        est, low, high = estimate[(category, where)]
        assert est > 0, (category, where)
        if not (low >= MIN_LOW_OVER_ESTIMATE * est and high <= MAX_HIGH_OVER_ESTIMATE * est):
            too_wide.append(f"{where}: {low} - {high} around {est}")
    table = _table(category, truth, estimate)
    assert not too_wide, f"interval wider than the data allows at {too_wide}\n{table}"
