"""An executive's questions, each answered on its page with no arithmetic by the reader.

The expected answers are worked out here from the marts with SQL written from docs/metrics.md
(not through MetricFlow or app/), so a page that picked, sorted or compared wrongly fails.
"""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

from streamlit.testing.v1 import AppTest

from callshrink.settings import PROJECT_DIR
from tests.conftest import PipelineRun

APP = str(PROJECT_DIR / "app" / "streamlit_app.py")
WEEKDAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")


def _page(name: str) -> AppTest:
    app = AppTest.from_file(APP, default_timeout=180).switch_page(f"views/{name}.py").run()
    assert not app.exception, app.exception
    return app


def _tiles(app: AppTest) -> dict[str, tuple[str, str]]:
    return {metric.label: (metric.value, metric.delta) for metric in app.metric}


def _usd(amount: Decimal) -> str:
    return f"{'-' if amount < 0 else ''}${abs(amount):,.2f}"


def _shrink_by_location(conn, first_day, last_day) -> dict[str, Decimal]:
    """Missed-call shrink per location: the expected shrink of unrecovered missed
    opportunities (category missed_opportunity) valued on the period's local days."""
    return dict(
        conn.execute(
            "select location_id, sum(expected_shrink_usd) from marts.missed_call_shrink "
            "where category = 'missed_opportunity' and started_date between %s and %s "
            "group by location_id",
            (first_day, last_day),
        ).fetchall()
    )


def test_the_systems_shrink_and_its_range(pipeline_run: PipelineRun, conn):
    app = _page("scorecard")
    first_day, last_day = app.sidebar.date_input[0].value
    shrink, low, high = conn.execute(
        "select sum(expected_shrink_usd), sum(expected_shrink_low_usd), "
        "sum(expected_shrink_high_usd) from marts.missed_call_shrink "
        "where category = 'missed_opportunity' and started_date between %s and %s",
        (first_day, last_day),
    ).fetchone()
    assert low < shrink < high

    tiles = _tiles(app)
    assert tiles["Missed-call shrink"][0] == _usd(shrink)
    assert tiles["Shrink, low (95 %)"][0] == _usd(low)
    assert tiles["Shrink, high (95 %)"][0] == _usd(high)


def test_the_worst_location_by_shrink(pipeline_run: PipelineRun, conn):
    app = _page("scorecard")
    first_day, last_day = app.sidebar.date_input[0].value
    by_location = _shrink_by_location(conn, first_day, last_day)
    worst = max(by_location, key=by_location.get)
    (name,) = conn.execute(
        "select location_name from marts.locations where location_id = %s", (worst,)
    ).fetchone()

    assert _tiles(app)["Worst location by shrink"] == (
        name,
        f"{_usd(by_location[worst])} of shrink",
    )
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


def test_each_locations_change_against_the_previous_period(pipeline_run: PipelineRun, conn):
    app = _page("scorecard")
    chosen, before = _later_half(app)

    def answer_rates(first, last) -> dict[str, float]:
        rows = conn.execute(
            "select location_id, count(*) filter (where is_answered), "
            "count(*) filter (where is_answer_rate_eligible) from marts.calls "
            "where direction = 'inbound' and started_date between %s and %s "
            "group by location_id",
            (first, last),
        ).fetchall()
        return {location: answered / eligible for location, answered, eligible in rows}

    now, then = answer_rates(*chosen), answer_rates(*before)
    shrink_now = _shrink_by_location(conn, *chosen)
    shrink_then = _shrink_by_location(conn, *before)
    names = dict(conn.execute("select location_name, location_id from marts.locations"))
    scorecard = app.dataframe[0].value
    assert len(scorecard) == len(names)
    for _, row in scorecard.iterrows():
        location = names[row["Location"]]
        expected = (now[location] - then[location]) * 100  # percentage points
        assert abs(row["Answer rate change"] - expected) < 1e-9, location
        shrink_change = shrink_now.get(location, 0) - shrink_then.get(location, 0)
        assert row["Shrink change"] == float(shrink_change), location


def test_every_tile_compares_with_the_previous_period(pipeline_run: PipelineRun, conn):
    app = _page("answer_rate")
    chosen, before = _later_half(app)

    def inbound(first, last) -> int:
        return conn.execute(
            "select count(*) from marts.calls where direction = 'inbound' "
            "and started_date between %s and %s",
            (first, last),
        ).fetchone()[0]

    tiles = {metric.label: metric for metric in app.metric}
    assert tiles["Inbound calls"].delta == f"{inbound(*chosen) - inbound(*before):+,}"
    assert all(metric.delta for metric in app.metric), "each tile has its change"
    assert f"{before[0]:%b %-d}" in tiles["Inbound calls"].help


def test_the_worst_hour_of_the_week_by_answer_rate(pipeline_run: PipelineRun, conn):
    app = _page("week")
    first_day, last_day = app.sidebar.date_input[0].value
    hours = conn.execute(
        "select extract(isodow from started_at_local)::int, started_hour, "
        "count(*) filter (where is_answered), count(*) filter (where is_answer_rate_eligible) "
        "from marts.calls where direction = 'inbound' and started_date between %s and %s "
        "group by 1, 2 having count(*) filter (where is_answer_rate_eligible) >= 20",
        (first_day, last_day),
    ).fetchall()
    weekday, hour, answered, eligible = min(hours, key=lambda row: row[2] / row[3])

    assert _tiles(app)["Worst hour by answer rate"] == (
        f"{WEEKDAYS[weekday - 1]} {hour:02d}:00",
        f"{answered / eligible:.1%} answered of {eligible:,} calls",
    )


def test_the_worst_marketing_source(pipeline_run: PipelineRun, conn):
    app = _page("shrink")
    first_day, last_day = app.sidebar.date_input[0].value
    source, shrink = conn.execute(
        "select calls.marketing_source, sum(shrink.expected_shrink_usd) "
        "from marts.missed_call_shrink as shrink "
        "join marts.calls as calls using (call_id) "
        "where shrink.category = 'missed_opportunity' and calls.marketing_source <> 'untracked' "
        "and shrink.started_date between %s and %s "
        "group by 1 order by 2 desc limit 1",
        (first_day, last_day),
    ).fetchone()

    assert _tiles(app)["Worst marketing source"] == (source, f"{_usd(shrink)} of shrink")


def test_drill_down_from_a_location_to_its_days_and_calls(pipeline_run: PipelineRun, conn):
    app = _page("scorecard")
    first_day, last_day = app.sidebar.date_input[0].value
    location = app.selectbox(key="drill_location")
    assert (
        location.value
        == conn.execute(
            "select location_id from marts.missed_call_shrink "
            "where category = 'missed_opportunity' and started_date between %s and %s "
            "group by 1 order by sum(expected_shrink_usd) desc limit 1",
            (first_day, last_day),
        ).fetchone()[0]
    ), "it opens on the worst location"
    location.set_value("loc_02").run()
    assert not app.exception, app.exception

    days = app.dataframe[1].value
    per_day = dict(
        conn.execute(
            "select started_date, count(*) from marts.calls where direction = 'inbound' "
            "and location_id = 'loc_02' and started_date between %s and %s group by 1",
            (first_day, last_day),
        ).fetchall()
    )
    assert dict(zip(days["Day"], days["Inbound calls"], strict=True)) == per_day

    day = sorted(per_day)[0]
    app.selectbox(key="drill_day").set_value(day).run()
    assert not app.exception, app.exception
    calls = app.dataframe[2].value
    expected = [
        call_id
        for (call_id,) in conn.execute(
            "select call_id from marts.calls where direction = 'inbound' "
            "and location_id = 'loc_02' and started_date = %s order by started_at, call_id",
            (day,),
        )
    ]
    assert list(calls["call_id"]) == expected
    assert len(expected) == per_day[day]
