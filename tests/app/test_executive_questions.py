"""An executive's questions, each answered on its page with no arithmetic by the reader.

The expected answers are worked out here from the generator's answer key (tests/answer_key.py),
not from the marts the pages read, so a page that picked, sorted or compared wrongly, or a
figure behind it that is wrong, fails. Counts are held to the answer-key tests' bar (within
1 % of the key's count, rounded down: exact below 100 calls). The key has no estimate of
shrink: the shrink answers are the key's valued calls, each at its conversion cell's value
(tests/answer_key.Shrink).
"""

from __future__ import annotations

from collections import Counter
from datetime import date, timedelta
from decimal import Decimal

from streamlit.testing.v1 import AppTest

from callshrink.settings import PROJECT_DIR
from tests.answer_key import (
    ELIGIBLE,
    Shrink,
    answer_rate_range,
    inbound,
    shown_usd,
    shrink_of,
    valued_in,
)
from tests.conftest import PipelineRun
from tests.pipeline.test_call_model_answer_key import count_close

APP = str(PROJECT_DIR / "app" / "streamlit_app.py")
WEEKDAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
MISSED = "missed_opportunity"


def _page(name: str) -> AppTest:
    app = AppTest.from_file(APP, default_timeout=180).switch_page(f"views/{name}.py").run()
    assert not app.exception, app.exception
    return app


def _tiles(app: AppTest) -> dict[str, tuple[str, str]]:
    return {metric.label: (metric.value, metric.delta) for metric in app.metric}


def _shrink_by_location(key_calls, cells, first_day, last_day) -> dict[str, Shrink]:
    by_location: dict[str, list[dict]] = {}
    for row in valued_in(key_calls, MISSED, first_day, last_day):
        by_location.setdefault(row["location_id"], []).append(row)
    return {location: shrink_of(rows, cells) for location, rows in by_location.items()}


def test_the_systems_shrink_and_its_range(pipeline_run: PipelineRun, key_calls, cells):
    app = _page("scorecard")
    first_day, last_day = app.sidebar.date_input[0].value
    expected = shrink_of(valued_in(key_calls, MISSED, first_day, last_day), cells)
    assert expected.low_usd < expected.usd < expected.high_usd

    tiles = _tiles(app)
    assert expected.close(shown_usd(tiles["Missed-call shrink"][0])), (tiles, expected)
    assert expected.close(shown_usd(tiles["Shrink, low (95 %)"][0]), "low_usd"), tiles
    assert expected.close(shown_usd(tiles["Shrink, high (95 %)"][0]), "high_usd"), tiles


def test_the_worst_location_by_shrink(pipeline_run: PipelineRun, key, key_calls, cells):
    app = _page("scorecard")
    by_location = _shrink_by_location(key_calls, cells, *app.sidebar.date_input[0].value)
    worst = max(by_location, key=lambda location: by_location[location].usd)
    runner_up = max(s.usd for location, s in by_location.items() if location != worst)
    # the key's worst location stands out of the slack the counts' bar allows
    assert by_location[worst].usd - by_location[worst].slack_usd > runner_up
    name = key.locations()[worst]["location_name"]

    shown_name, delta = _tiles(app)["Worst location by shrink"]
    assert shown_name == name
    assert delta.endswith(" of shrink")
    assert by_location[worst].close(shown_usd(delta.removesuffix(" of shrink"))), delta
    scorecard = app.dataframe[0].value
    assert scorecard["Location"].iloc[0] == name, "the worst first"
    assert list(scorecard["Shrink"]) == sorted(scorecard["Shrink"], reverse=True)
    assert scorecard["Shrink"].dtype == "float64", "money sorts as numbers"


def _later_half(app: AppTest) -> tuple[tuple[date, date], tuple[date, date]]:
    """Chooses the later half of the page's days, so that the period before it holds calls
    too; returns the chosen days and the previous period of equal length."""
    first_day, last_day = app.sidebar.date_input[0].value
    days = (last_day - first_day).days // 2
    chosen = (last_day - timedelta(days=days), last_day)
    app.sidebar.date_input[0].set_value(chosen).run()
    assert not app.exception, app.exception
    return chosen, (chosen[0] - timedelta(days=days + 1), chosen[0] - timedelta(days=1))


def test_each_locations_change_against_the_previous_period(
    pipeline_run: PipelineRun, key, key_calls, cells
):
    app = _page("scorecard")
    chosen, before = _later_half(app)
    shrink_now = _shrink_by_location(key_calls, cells, *chosen)
    shrink_then = _shrink_by_location(key_calls, cells, *before)
    names = {row["location_name"]: loc for loc, row in key.locations().items()}
    scorecard = app.dataframe[0].value
    assert len(scorecard) == len(names)
    for _, row in scorecard.iterrows():
        location = names[row["Location"]]
        now_low, now_high = answer_rate_range(inbound(key_calls, *chosen, {location}))
        then_low, then_high = answer_rate_range(inbound(key_calls, *before, {location}))
        # percentage points, now minus then
        low, high = (now_low - then_high) * 100, (now_high - then_low) * 100
        assert low - 1e-9 <= row["Answer rate change"] <= high + 1e-9, (location, row, low, high)
        now, then = shrink_now[location], shrink_then[location]
        change = Decimal(str(row["Shrink change"])).quantize(Decimal("0.01"))
        assert abs(change - (now.usd - then.usd)) <= now.slack_usd + then.slack_usd, (
            location,
            change,
            now.usd - then.usd,
        )


def test_every_tile_compares_with_the_previous_period(pipeline_run: PipelineRun, key_calls):
    app = _page("answer_rate")
    chosen, before = _later_half(app)
    now, then = len(inbound(key_calls, *chosen)), len(inbound(key_calls, *before))

    tiles = {metric.label: metric for metric in app.metric}
    delta = int(tiles["Inbound calls"].delta.replace(",", ""))
    assert abs(delta - (now - then)) <= int(0.01 * now) + int(0.01 * then), (delta, now, then)
    assert all(metric.delta for metric in app.metric), "each tile has its change"
    assert f"{before[0]:%b %-d}" in tiles["Inbound calls"].help


def test_the_worst_hour_of_the_week_by_answer_rate(pipeline_run: PipelineRun, key_calls):
    app = _page("week")
    hours: dict[tuple[int, int], Counter] = {}
    for row in inbound(key_calls, *app.sidebar.date_input[0].value):
        cell = hours.setdefault((row["local"].isoweekday(), row["local"].hour), Counter())
        cell["answered"] += row["outcome"] == "answered"
        cell["eligible"] += row["outcome"] in ELIGIBLE
    # an hour of the week holds well under 100 calls: the counts' bar is exact there
    judged = {hour: c for hour, c in hours.items() if c["eligible"] >= 20}
    (weekday, hour), c = min(judged.items(), key=lambda kv: kv[1]["answered"] / kv[1]["eligible"])

    assert _tiles(app)["Worst hour by answer rate"] == (
        f"{WEEKDAYS[weekday - 1]} {hour:02d}:00",
        f"{c['answered'] / c['eligible']:.1%} answered of {c['eligible']:,} calls",
    )


def test_the_worst_marketing_source(pipeline_run: PipelineRun, key_calls, cells):
    app = _page("shrink")
    by_source: dict[str, list[dict]] = {}
    for row in valued_in(key_calls, MISSED, *app.sidebar.date_input[0].value):
        if row["source"]:  # untracked calls are no source
            by_source.setdefault(row["source"], []).append(row)
    shrink = {source: shrink_of(rows, cells) for source, rows in by_source.items()}
    worst = max(shrink, key=lambda source: shrink[source].usd)
    runner_up = max(s.usd for source, s in shrink.items() if source != worst)
    assert shrink[worst].usd - shrink[worst].slack_usd > runner_up

    shown, delta = _tiles(app)["Worst marketing source"]
    assert shown == worst
    assert shrink[worst].close(shown_usd(delta.removesuffix(" of shrink"))), delta


def test_drill_down_from_a_location_to_its_days_and_calls(
    pipeline_run: PipelineRun, key_calls, cells
):
    app = _page("scorecard")
    first_day, last_day = app.sidebar.date_input[0].value
    by_location = _shrink_by_location(key_calls, cells, first_day, last_day)
    location = app.selectbox(key="drill_location")
    assert location.value == max(by_location, key=lambda loc: by_location[loc].usd), (
        "it opens on the worst location"
    )
    location.set_value("loc_02").run()
    assert not app.exception, app.exception

    days = app.dataframe[1].value
    per_day = Counter(row["day"] for row in inbound(key_calls, first_day, last_day, {"loc_02"}))
    shown = dict(zip(days["Day"], days["Inbound calls"], strict=True))
    assert set(shown) == set(per_day)
    assert all(count_close(int(shown[day]), per_day[day]) for day in per_day), (shown, per_day)

    day = sorted(per_day)[0]
    app.selectbox(key="drill_day").set_value(day).run()
    assert not app.exception, app.exception
    calls = app.dataframe[2].value
    expected = [
        row["call_id"]
        for row in sorted(
            inbound(key_calls, day, day, {"loc_02"}), key=lambda r: (r["start"], r["call_id"])
        )
    ]
    # a day of one location: under 100 calls, so exactly the key's, in the order they started
    assert list(calls["call_id"]) == expected
