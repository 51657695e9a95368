"""The Streamlit app, run headless with Streamlit's AppTest on the pipeline's warehouse."""

from __future__ import annotations

import calendar
import csv
import io
import json
import statistics
from collections import Counter
from datetime import date, datetime, timedelta
from decimal import Decimal

import pandas as pd
import pytest
from streamlit.testing.v1 import AppTest

from app import data, ui
from callshrink import finance
from callshrink.settings import PROJECT_DIR
from tests.answer_key import (
    Key,
    answer_rate_counts,
    attributed_net,
    inbound,
    shown_count,
    shown_percent,
    shown_usd,
    shrink_of,
    valued_calls,
)
from tests.conftest import PipelineRun, offered_downloads
from tests.pipeline.test_call_model_answer_key import _close, count_close
from tests.pipeline.test_callback_list import callback_items, expected_list
from tests.pipeline.test_rates_answer_key import expected_counts

APP = str(PROJECT_DIR / "app" / "streamlit_app.py")


def _page(name: str) -> AppTest:
    app = AppTest.from_file(APP, default_timeout=120)
    return app.switch_page(f"views/{name}.py").run()


def test_the_app_opens_on_the_scorecard(pipeline_run: PipelineRun):
    app = AppTest.from_file(APP, default_timeout=120).run()

    assert not app.exception, app.exception
    assert app.title[0].value == "Scorecard"


def _whole_period(app: AppTest, key: Key) -> tuple:
    """The page's days: by default the newest 28, so every local day of the key's calls."""
    days = app.sidebar.date_input[0].value
    assert days == key.period()
    return days


def test_answer_rate_page_shows_the_answer_keys_figures(pipeline_run: PipelineRun, key, key_calls):
    app = _page("answer_rate")

    assert not app.exception, app.exception
    assert app.title[0].value == "Answer rate"
    answered, eligible, every = answer_rate_counts(inbound(key_calls, *_whole_period(app, key)))
    tiles = {metric.label: metric.value for metric in app.metric}
    assert set(tiles) == {"Answer rate", "Inbound calls", "Answered calls"}
    assert count_close(shown_count(tiles["Inbound calls"]), every), (tiles, every)
    assert count_close(shown_count(tiles["Answered calls"]), answered), (tiles, answered)
    # answered and eligible each within 1 %: their ratio within 2 %
    assert _close(shown_percent(tiles["Answer rate"]), answered / eligible, 0.02), tiles


def test_choosing_one_location_narrows_the_figures(pipeline_run: PipelineRun, key, key_calls):
    app = _page("answer_rate")
    everywhere = {metric.label: metric.value for metric in app.metric}
    app.sidebar.multiselect[0].set_value(["loc_02"]).run()

    assert not app.exception, app.exception
    answered, eligible, every = answer_rate_counts(
        inbound(key_calls, *_whole_period(app, key), {"loc_02"})
    )
    tiles = {metric.label: metric.value for metric in app.metric}
    assert tiles["Inbound calls"] != everywhere["Inbound calls"]
    assert count_close(shown_count(tiles["Inbound calls"]), every), (tiles, every)
    assert count_close(shown_count(tiles["Answered calls"]), answered), (tiles, answered)
    assert _close(shown_percent(tiles["Answer rate"]), answered / eligible, 0.02), tiles


def _percent(numerator: int, denominator: int) -> str:
    return f"{numerator / denominator:.1%}"


def test_filters_hold_from_page_to_page_and_live_in_the_url(pipeline_run: PipelineRun):
    app = _page("answer_rate")
    first_day, last_day = app.sidebar.date_input[0].value
    narrower = (first_day + timedelta(days=2), last_day - timedelta(days=1))
    app.sidebar.date_input[0].set_value(narrower).run()
    app.sidebar.multiselect[0].set_value(["loc_02"]).run()
    assert not app.exception, app.exception
    assert dict(app.query_params) == {
        "from": narrower[0].isoformat(),
        "to": narrower[1].isoformat(),
        "locations": "loc_02",
    }
    for page in ("process_health", "missed_calls", "shrink", "answer_rate"):
        app.switch_page(f"views/{page}.py").run()
        assert not app.exception, (page, app.exception)
        assert app.sidebar.date_input[0].value == narrower, page
        assert app.sidebar.multiselect[0].value == ["loc_02"], page


def test_a_shared_url_opens_on_its_days_and_locations(pipeline_run: PipelineRun):
    opened = _page("answer_rate")
    first_day, _ = opened.sidebar.date_input[0].value
    shared = AppTest.from_file(APP, default_timeout=120)
    shared.query_params["from"] = (first_day + timedelta(days=1)).isoformat()
    shared.query_params["to"] = (first_day + timedelta(days=3)).isoformat()
    shared.query_params["locations"] = "loc_03,no_such_location"
    shared.switch_page("views/shrink.py").run()
    assert not shared.exception, shared.exception
    assert shared.sidebar.date_input[0].value == (
        first_day + timedelta(days=1),
        first_day + timedelta(days=3),
    )
    assert shared.sidebar.multiselect[0].value == ["loc_03"]  # an unknown id is dropped


@pytest.mark.parametrize("page", ["answer_rate", "process_health", "missed_calls", "shrink"])
def test_tables_show_labels_not_codes(pipeline_run: PipelineRun, page: str):
    """Outcomes, caller types and fallback levels are written for people (ui.LABELS)."""
    codes = {code for table in ui.LABELS.values() for code in table if code is not None}
    app = _page(page)

    assert not app.exception, app.exception
    assert app.dataframe, "the page shows a table"
    for frame in app.dataframe:
        texts = frame.value.select_dtypes(include="object")
        shown = {str(value) for column in texts for value in texts[column]}
        assert not shown & codes, (page, shown & codes)
        assert "None" not in shown, page
    if page == "missed_calls":
        outcomes = set(app.dataframe[0].value["outcome"])
        assert outcomes and outcomes <= set(ui.LABELS["outcome"].values())


def _rate_counts(key: Key, locations: set[str]) -> Counter:
    """Every rate's numerator and denominator at the locations, from the key alone
    (test_rates_answer_key.expected_counts, which the marts match exactly), with the repeat
    contacts of summary.json."""
    per_location = expected_counts(key.folder)
    summary = key.summary()["locations"]
    counts = Counter()
    for location in locations:
        counts.update(per_location[location])
        counts["repeat_24h"] += summary[location]["repeat_contacts_24h"]
        counts["repeat_7d"] += summary[location]["repeat_contacts_7d"]
    return counts


def test_process_health_page_shows_the_answer_keys_figures(pipeline_run: PipelineRun, key):
    app = _page("process_health")

    assert not app.exception, app.exception
    assert app.title[0].value == "Process health"
    _whole_period(app, key)
    k = _rate_counts(key, set(key.locations()))
    tiles = {metric.label: metric.value for metric in app.metric}
    # the counts behind each rate equal the key's exactly (test_rates_answer_key)
    compared = {t: v for t, v in tiles.items() if "Repeat" not in t and "legs" not in t}
    assert compared == {
        "Service level (20 s)": _percent(k["service_level_met_calls"], k["service_level_calls"]),
        "Average speed of answer": (
            f"{k['speed_of_answer_seconds_sum'] / k['speed_of_answer_calls']:.1f} s"
        ),
        "Abandonment rate": _percent(k["abandoned_calls"], k["answered_or_abandoned_calls"]),
        "Transfer rate": _percent(k["transferred_answered_calls"], k["answered_calls"]),
        "Escalation rate": _percent(k["escalated_answered_calls"], k["answered_calls"]),
        "Customer effort score": (
            f"{k['customer_effort_events'] / k['answer_rate_eligible_calls']:.2f}"
        ),
        "Process compliance rate": _percent(k["compliant_calls"], k["compliance_eligible_calls"]),
    }
    # repeat contacts within 2 % of the key's (test_call_model_answer_key)
    for window in ("24h", "7d"):
        shown = shown_percent(tiles[f"Repeat contact rate ({window[:-1]} {window[-1]})"])
        assert _close(shown, k[f"repeat_{window}"] / k["answered_calls"], 0.02), (window, tiles)
    # the key has no legs: a call has one at least (docs/metrics.md; the dbt unit tests of
    # int_call_legs count them by hand)
    assert float(tiles["Resolution path (legs)"]) >= 1.0


def test_process_health_for_one_location(pipeline_run: PipelineRun, key):
    app = _page("process_health")
    app.sidebar.multiselect[0].set_value(["loc_03"]).run()

    assert not app.exception, app.exception
    k = _rate_counts(key, {"loc_03"})
    tiles = {metric.label: metric.value for metric in app.metric}
    assert tiles["Abandonment rate"] == _percent(
        k["abandoned_calls"], k["answered_or_abandoned_calls"]
    )
    assert tiles["Process compliance rate"] == _percent(
        k["compliant_calls"], k["compliance_eligible_calls"]
    )
    by_location = app.dataframe[0].value
    assert list(by_location["location_name"]) == [key.locations()["loc_03"]["location_name"]]


def test_missed_calls_page_shows_the_answer_keys_recovery_figures(
    pipeline_run: PipelineRun, key, key_calls
):
    app = _page("missed_calls")

    assert not app.exception, app.exception
    assert app.title[0].value == "Missed calls"
    missed = [
        row
        for row in inbound(key_calls, *_whole_period(app, key))
        if row["is_missed_opportunity"] == "true"
    ]
    by_key = {row["call_key"]: row for row in key_calls}
    recovering = {
        row["call_key"]: by_key[row["recovered_by_call_key"]]
        for row in missed
        if row["recovered_by_call_key"]
    }
    by = Counter(
        "callback" if later["direction"] == "outbound" else "retry" for later in recovering.values()
    )
    minutes = sorted(
        (later["start"] - by_key[call]["start"]).total_seconds() / 60
        for call, later in recovering.items()
    )
    assert len(missed) > len(recovering) > 0 and by["callback"] > 0 and by["retry"] > 0

    tiles = {metric.label: metric.value for metric in app.metric}
    assert set(tiles) == {
        "Missed opportunities",
        "Recovered share",
        "Median minutes to recovery",
        "Recovered by callback",
        "Recovered by retry",
    }
    # the bars of test_call_model_answer_key: missed opportunities and the median within 1 %,
    # recovered within 2 % (so their share within 3 %)
    assert count_close(shown_count(tiles["Missed opportunities"]), len(missed)), tiles
    assert _close(shown_percent(tiles["Recovered share"]), len(recovering) / len(missed), 0.03)
    median = float(tiles["Median minutes to recovery"].removesuffix(" min").replace(",", ""))
    assert _close(median, statistics.median(minutes), 0.01), (tiles, statistics.median(minutes))
    for how in ("callback", "retry"):
        assert _close(shown_count(tiles[f"Recovered by {how}"]), by[how], 0.02), (how, tiles, by)


def test_missed_calls_work_list_shows_no_full_phone_number(pipeline_run: PipelineRun, conn):
    app = _page("missed_calls")
    first_day, last_day = app.sidebar.date_input[0].value

    assert not app.exception, app.exception
    work_list = app.dataframe[0].value
    unrecovered = conn.execute(
        "select call_id, caller_phone_e164 from marts.calls "
        "join restricted.caller_numbers using (call_id, started_at) "
        "where is_missed_opportunity and is_recovered is not true "
        "and started_date between %s and %s order by started_at desc, call_id",
        (first_day, last_day),
    ).fetchall()
    assert list(work_list["call_id"]) == [call_id for call_id, _ in unrecovered]
    numbers = {phone for _, phone in unrecovered if phone}
    assert numbers, "the work list has callers with numbers"
    shown = work_list.astype(str).to_csv(index=False)
    assert not [number for number in numbers if number in shown or number[1:] in shown]
    with_number = sum(1 for _, phone in unrecovered if phone)
    masked = work_list["caller_masked"].dropna()
    assert len(masked) == with_number
    assert masked.str.fullmatch(r"\+\d\*+\d{4}").all()
    assert app.get("download_button"), "the work list can be downloaded"


# --- missed-call shrink -----------------------------------------------------------------------


def _usd(amount: Decimal) -> str:
    return f"{'-' if amount < 0 else ''}${abs(amount):,.2f}"


SHRINK_TILES = ("Missed-call shrink", "After-hours shrink", "Shrink rate", "Attributed revenue")


def _shrink_tiles(app: AppTest) -> dict[str, tuple[str, ...]]:
    """The four figures' tiles and the ranges written under the shrink tiles."""
    tiles = {metric.label: metric.value for metric in app.metric if metric.label in SHRINK_TILES}
    ranges = tuple(c.value for c in app.caption if c.value.startswith("95 % range"))
    return {**tiles, "ranges": ranges}


def _check_shrink_figures(
    app: AppTest, key: Key, key_calls: list[dict], cells, locations: set[str]
):
    """The shrink page's figures for the locations against the key: attributed revenue to the
    cent; the calls valued per category within the counts' bar; each shrink and its range
    the key's valued calls at their cells' values (tests/answer_key.Shrink); the shrink rate
    the written formula over the key's attributed revenue and the shown shrink."""
    first_day, last_day = _whole_period(app, key)
    attributed = attributed_net(key.attributions(), first_day, last_day, locations)
    assert attributed > 0
    tiles = _shrink_tiles(app)
    missed, after_hours = (shown_usd(tiles[f"{c} shrink"]) for c in ("Missed-call", "After-hours"))
    assert missed > 0 and after_hours > 0
    assert tiles["Attributed revenue"] == _usd(attributed)
    # docs/metrics.md, Shrink rate: missed-call shrink / (attributed + missed-call shrink); the
    # after-hours shrink is not in it
    assert tiles["Shrink rate"] == f"{float(missed / (attributed + missed)):.1%}", tiles
    with_after_hours = (missed + after_hours) / (attributed + missed + after_hours)
    assert f"{float(with_after_hours):.1%}" != tiles["Shrink rate"]
    # the calls valued, per category, within 1 % of the key's count (the outcome counts' bar)
    valued = {
        category: [
            row
            for row in rows
            if row["location_id"] in locations and first_day <= row["day"] <= last_day
        ]
        for category, rows in valued_calls(key_calls).items()
    }
    table = app.dataframe[0].value
    for column, category in (
        ("Missed opportunities valued", "missed_opportunity"),
        ("After-hours calls valued", "after_hours"),
    ):
        assert count_close(int(table[column].sum()), len(valued[category])), (
            column,
            int(table[column].sum()),
            len(valued[category]),
        )
    for shown, line, category in zip(
        (missed, after_hours), tiles["ranges"], ("missed_opportunity", "after_hours"), strict=True
    ):
        expected = shrink_of(valued[category], cells)
        low, high = (shown_usd(t) for t in line.removeprefix("95 % range ").split(" – "))
        assert low < shown < high, line
        assert expected.close(shown), (category, shown, expected)
        assert expected.close(low, "low_usd") and expected.close(high, "high_usd"), line
    return tiles


def test_shrink_page_shows_the_answer_keys_valued_calls_and_revenue(
    pipeline_run: PipelineRun, key, key_calls, cells
):
    app = _page("shrink")

    assert not app.exception, app.exception
    assert app.title[0].value == "Missed-call shrink"
    _check_shrink_figures(app, key, key_calls, cells, set(key.locations()))
    cells = app.dataframe[0].value
    assert cells["Cell"].is_unique
    # money columns are numbers (they sort, the CSV holds them), shown as dollars
    assert _dollar_columns(app.dataframe[0]) == set(ui.CELL_MONEY)
    assert all(cells[column].dtype == "float64" for column in ui.CELL_MONEY)


def test_shrink_for_one_location(pipeline_run: PipelineRun, key, key_calls, cells):
    app = _page("shrink")
    everywhere = _shrink_tiles(app)
    app.sidebar.multiselect[0].set_value(["loc_02"]).run()

    assert not app.exception, app.exception
    tiles = _check_shrink_figures(app, key, key_calls, cells, {"loc_02"})
    assert tiles["Missed-call shrink"] != everywhere["Missed-call shrink"]
    location_name = key.locations()["loc_02"]["location_name"]
    assert app.dataframe[0].value["Cell"].str.startswith(f"{location_name} · ").all()


def test_shrink_heatmap_shows_after_hours_on_request(pipeline_run: PipelineRun):
    app = _page("shrink")
    tiles = _shrink_tiles(app)
    (category,) = [
        group for group in app.get("button_group") if group.key == "shrink_hour_category"
    ]
    assert category.value == "missed_opportunity"
    category.set_value("after_hours").run()

    assert not app.exception, app.exception
    assert app.get("button_group")[0].value == "after_hours"
    assert _shrink_tiles(app) == tiles, "the heatmap's choice leaves the figures alone"


def test_dollars_are_formatted_from_decimal():
    assert ui.dollars(Decimal("1234567.8")) == "$1,234,567.80"
    assert ui.dollars(Decimal("-0.5")) == "-$0.50"
    assert ui.dollars(Decimal("0.005")) == "$0.01"
    assert ui.dollars(Decimal("2.675")) == "$2.68"  # a float 2.675 would round to 2.67
    assert ui.dollars(0) == "$0.00"
    assert ui.dollars(None) == "n/a"
    with pytest.raises(TypeError):
        ui.dollars(1.5)


# --- finance: reconciliation --------------------------------------------------------------------


def _records(number: int) -> str:
    return f"{number:,} record{'' if number == 1 else 's'}"


def _frame(app: AppTest, column: str) -> pd.DataFrame:
    """The page's first table with this column (a month with records left out lists them
    first)."""
    return next(frame.value for frame in app.dataframe if column in frame.value.columns)


def _dollar_columns(frame) -> set[str]:
    """The columns a table shows as dollars (its column_config, as the browser gets it)."""
    config = json.loads(frame.proto.columns or "{}")
    return {
        name
        for name, column in config.items()
        if column.get("type_config", {}).get("format") == "dollar"
    }


def _tie_out(key: Key, month: str, record_type: str) -> tuple[str, str]:
    """The tie-out tile: its text, and under it the month's records of the type the loader
    must keep out (the key's defects.json)."""
    left_out = len(key.rejected_revenue_lines(month).get(record_type, []))
    return "ties out", f"{_records(left_out)} left out" if left_out else ""


def _key_month(key: Key, month: str, locations=None) -> dict[str, list]:
    """Per record type, the month's [records, attributed records, source $, attributed $,
    unattributed $] in the key (at the locations, if given)."""
    totals: dict[str, list] = {}
    for (location, _, record_type), figures in key.daily_revenue(month).items():
        if locations is None or location in locations:
            total = totals.setdefault(record_type, [0, 0, Decimal(0), Decimal(0), Decimal(0)])
            for i, value in enumerate(figures):
                total[i] += value
    return totals


def test_reconciliation_page_renders_the_months_the_warehouse_holds(
    pipeline_run: PipelineRun, conn
):
    app = _page("reconciliation")

    assert not app.exception, app.exception
    assert app.title[0].value == "Reconciliation"
    months = [
        month
        for (month,) in conn.execute(
            "select distinct to_char(revenue_date, 'YYYY-MM') from marts.revenue_attributions "
            "order by 1 desc"
        )
    ]
    assert len(months) >= 2, "the fixture's revenue spans February and March"
    closed = set(data.closed_months())
    (picker,) = app.sidebar.selectbox
    assert list(picker.options) == [
        f"{calendar.month_name[int(month[5:])]} {month[:4]} "
        f"({'closed' if month in closed else 'open'})"
        for month in months
    ], "the newest month first"

    picker.set_value(months[0]).run()
    assert not app.exception, app.exception
    assert app.subheader[0].value.startswith(calendar.month_name[int(months[0][5:])])
    assert app.get("download_button"), "the month's CSVs can be downloaded"


def test_reconciliation_tiles_show_the_answer_keys_month(pipeline_run: PipelineRun, key):
    app = _page("reconciliation")

    assert not app.exception, app.exception
    month = app.sidebar.selectbox[0].value
    by_type = _key_month(key, month)
    assert set(by_type) == {"payment", "refund", "deal"}

    expected = {}
    for record_type, label in (("payment", "Payments"), ("refund", "Refunds"), ("deal", "Deals")):
        records, attributed_records, source, attributed, unattributed = by_type[record_type]
        sign = -1 if record_type == "refund" else 1  # the tiles subtract refunds
        expected |= {
            f"{label}: source": (_usd(sign * source), _records(records)),
            f"{label}: attributed": (_usd(sign * attributed), _records(attributed_records)),
            f"{label}: unattributed": (
                _usd(sign * unattributed),
                _records(records - attributed_records),
            ),
            f"{label}: tie-out": _tie_out(key, month, record_type),
        }

    def net(column: int) -> Decimal:
        p, r, d = (by_type[kind][column] for kind in ("payment", "refund", "deal"))
        return p - r + d

    expected |= {
        "Net revenue: source": (_usd(net(2)), ""),
        "Net revenue: attributed": (_usd(net(3)), ""),
        "Net revenue: unattributed": (_usd(net(4)), ""),
        "Net revenue: attributed share": (f"{float(net(3) / net(2)):.1%}", ""),
    }
    assert {metric.label: (metric.value, metric.delta) for metric in app.metric} == expected

    # The totals table says the same, and the daily table has a row per location, day and
    # record type with records.
    totals = _frame(app, "Source")
    assert list(totals["Source"]) == [
        float(sign * by_type[kind][2])
        for kind, sign in (("payment", 1), ("refund", -1), ("deal", 1))
    ]
    assert list(totals["Tie-out"]) == ["ties out"] * 3
    assert totals["Source"].dtype == "float64"  # sorts as numbers
    tables = [frame for frame in app.dataframe if "Source" in frame.value.columns]
    assert all(
        _dollar_columns(frame) == {"Source", "Attributed", "Unattributed"} for frame in tables
    )
    assert len(_frame(app, "Day")) == len(key.daily_revenue(month))


def _csv_rows(content: bytes) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(content.decode())))


def test_reconciliation_csvs_hold_the_answer_keys_month(
    pipeline_run: PipelineRun, key, monkeypatch
):
    offered = offered_downloads(monkeypatch)
    app = _page("reconciliation")

    assert not app.exception, app.exception
    month = app.sidebar.selectbox[0].value
    rejected = key.rejected_revenue_lines(month)
    levels = ("daily", "records", "left_out") if rejected else ("daily", "records")
    assert set(offered) == {f"finance_{month}_{level}.csv" for level in levels}

    # daily: each location, day and record type of the key, to the cent
    daily = _csv_rows(offered[f"finance_{month}_daily.csv"])
    assert {
        (row["location_id"], row["revenue_date"], row["record_type"]): (
            int(row["source_records"]),
            int(row["attributed_records"]),
            Decimal(row["source_usd"]),
            Decimal(row["attributed_usd"]),
            Decimal(row["unattributed_usd"]),
        )
        for row in daily
        if row["row_type"] == "day"
    } == key.daily_revenue(month)
    # records: every record of the key's month, its amount and whether a call got it
    records = _csv_rows(offered[f"finance_{month}_records.csv"])
    assert sorted(
        (r["record_type"], r["record_id"], Decimal(r["amount_usd"]), r["is_attributed"] == "true")
        for r in records
    ) == sorted(
        (r["record_type"], r["record_id"], Decimal(r["amount_usd"]), r["rule"] != "unattributed")
        for r in key.attributions()
        if r["date"].startswith(month)
    )
    # left out: the key's rejected lines, by file and line
    if rejected:
        left_out = _csv_rows(offered[f"finance_{month}_left_out.csv"])
        assert sorted((r["source_file"], int(r["line_number"])) for r in left_out) == sorted(
            line for lines in rejected.values() for line in lines
        )


def test_reconciliation_restatements_panel(pipeline_run: PipelineRun, key):
    app = _page("reconciliation")

    assert not app.exception, app.exception
    # docs/metrics.md, Restatements: a month closes once the newest revenue day is
    # month_close_days (5) past its last day; the key's newest revenue day closes February
    # 2026 only. One pipeline run: nothing was restated after closing.
    newest = key.newest_revenue_day()
    assert newest == date(2026, 3, 5)
    caption = app.caption[-1].value
    assert "1 month closed" in caption
    assert "0 restated rows" in caption
    assert [note.value for note in app.success] == ["No closed month changed after closing."]


def test_reconciliation_opens_on_the_newest_closed_month(pipeline_run: PipelineRun, conn):
    newest_closed, newest = conn.execute(
        "select (select to_char(max(revenue_month), 'YYYY-MM') "
        "from intermediate.int_revenue_months_closed), "
        "(select to_char(max(revenue_date), 'YYYY-MM') from marts.revenue_attributions)"
    ).fetchone()
    assert newest_closed is not None and newest_closed < newest, "an open month follows it"
    app = _page("reconciliation")

    assert not app.exception, app.exception
    picker = app.sidebar.selectbox[0]
    assert picker.value == newest_closed
    assert picker.options[0].endswith("(open)")  # the newest month, open, is listed first
    assert any(option.endswith("(closed)") for option in picker.options)


def test_reconciliation_shows_a_restated_month(pipeline_run: PipelineRun, conn, monkeypatch):
    # The row of revenue_restatements.yml's unit test, as the mart would hold it for the month
    # shown: its figures as closed and as now, each formatted from the Decimals.
    month = conn.execute(
        "select to_char(max(revenue_date), 'YYYY-MM') from marts.revenue_attributions"
    ).fetchone()[0]
    location_name = conn.execute(
        "select location_name from marts.locations where location_id = 'loc_01'"
    ).fetchone()[0]
    restated = pd.DataFrame(
        [
            {
                "location_id": "loc_01",
                "revenue_month": finance.parse_month(month).first_day,
                "record_type": "payment",
                "closed_at": datetime(2026, 3, 6, 5),
                "restated_at": datetime(2026, 3, 12, 5),
                "restatements": 2,
                "closed_source_records": Decimal(4),
                "current_source_records": Decimal(6),
                "closed_source_usd": Decimal("100.00"),
                "current_source_usd": Decimal("112.50"),
                "source_usd_change": Decimal("12.50"),
                "closed_attributed_usd": Decimal("70.00"),
                "current_attributed_usd": Decimal("72.50"),
                "attributed_usd_change": Decimal("2.50"),
                "closed_unattributed_usd": Decimal("30.00"),
                "current_unattributed_usd": Decimal("40.00"),
                "unattributed_usd_change": Decimal("10.00"),
                "location_name": location_name,
            }
        ]
    )
    monkeypatch.setattr(data, "restatements", lambda month=None: restated)
    app = _page("reconciliation")

    assert not app.exception, app.exception
    assert "1 restated row across 1 of them" in app.caption[-1].value
    assert not app.success, "a month changed after closing"
    (row,) = app.dataframe[-1].value.to_dict("records")
    assert row["Location"] == location_name
    assert row["Record type"] == "Payments"
    assert (row["Closed at"], row["Restated at"], row["Changes"]) == (
        "2026-03-06 05:00",
        "2026-03-12 05:00",
        2,
    )
    # money is a number column (it sorts, the CSV holds numbers), shown as dollars
    assert (row["Source, closed"], row["Source, now"], row["Source, change"]) == (
        100.00,
        112.50,
        12.50,
    )
    assert row["Unattributed, change"] == 10.00
    assert _dollar_columns(app.dataframe[-1]) >= {"Source, closed", "Unattributed, change"}


def test_reconciliation_for_one_location(pipeline_run: PipelineRun, key, monkeypatch):
    offered = offered_downloads(monkeypatch)
    app = _page("reconciliation")
    month = app.sidebar.selectbox[0].value
    whole_month = dict(offered)
    offered.clear()
    app.sidebar.multiselect[0].set_value(["loc_02"]).run()

    assert not app.exception, app.exception
    _, _, source, attributed, unattributed = _key_month(key, month, {"loc_02"})["payment"]
    assert source > 0
    tiles = {metric.label: metric.value for metric in app.metric}
    left_out = {metric.label: metric.delta for metric in app.metric}["Payments: tie-out"]
    assert (
        tiles["Payments: source"],
        tiles["Payments: attributed"],
        tiles["Payments: unattributed"],
        (tiles["Payments: tie-out"], left_out),
    ) == (_usd(source), _usd(attributed), _usd(unattributed), _tie_out(key, month, "payment"))
    location_name = key.locations()["loc_02"]["location_name"]
    assert set(_frame(app, "Day")["Location"]) == {location_name}
    assert offered == whole_month, "the CSVs are the whole month's"


def test_data_health_page_shows_every_pbx_and_location(pipeline_run: PipelineRun, key):
    app = _page("data_health")

    assert not app.exception, app.exception
    assert app.title[0].value == "Data health"
    # the session's demo data is read right: no warning box, the all-clear instead, and the
    # lines its defects put in quarantine as a notice
    assert not app.warning
    assert [box.value for box in app.success] == ["No problems found."]
    assert any("quarantine" in box.value for box in app.info)
    # a row per PBX and location of the key's reference (a location without one: "(no PBX)"),
    # with the key's inbound calls (the outcome counts' bar) and the key's internal calls
    table = app.dataframe[0].value
    pbx_of = key.pbx_of()
    summary = key.summary()["locations"]
    internal = Counter(
        row["pbx_id"] for row in key.table("pbx_internal_calls.csv") if row["kind"] == "internal"
    )
    shown = {
        (pbx, location): (inbound_calls, internal_calls)
        for pbx, location, inbound_calls, internal_calls in zip(
            *(table[c] for c in ("pbx_id", "location_id", "inbound_calls", "internal_calls")),
            strict=True,
        )
    }
    # staff calling each other is no location's call (docs/pbx.md): a row of each PBX's own
    no_location = {(pbx, "(no location)") for pbx in pbx_of.values()}
    assert set(shown) == {(pbx_of.get(loc, "(no PBX)"), loc) for loc in summary} | no_location
    for (_, location), (inbound_calls, _) in shown.items():
        expected = summary[location]["inbound_calls"] if location in summary else 0
        assert count_close(int(inbound_calls), expected), (location, inbound_calls, expected)
    for pbx in set(pbx_of.values()):
        shown_internal = sum(int(i) for (p, _), (_, i) in shown.items() if p == pbx)
        assert shown_internal == internal[pbx], (pbx, shown_internal, internal[pbx])
    assert {"pbx_east", "pbx_west", "(no PBX)"} <= set(table["pbx_id"])
    channels = app.dataframe[1].value
    assert set(channels["channel_role"]) >= {"trunk", "phone", "local"}


# --- call back (staff) ----------------------------------------------------------------------------


def test_call_back_page_lists_the_answer_keys_callers_on_a_staff_connection(
    pipeline_run: PipelineRun, staff_url: str, monkeypatch: pytest.MonkeyPatch, key_calls
):
    monkeypatch.setenv("CALLSHRINK_STAFF_DATABASE_URL", staff_url)
    offered = offered_downloads(monkeypatch)
    app = _page("callbacks")
    app.selectbox[0].set_value("loc_04").run()

    assert not app.exception, app.exception
    assert app.title[0].value == "Call back"
    # The list as of the newest call, worked out from the key's calls.csv by the written
    # definition (tests/pipeline/test_callback_list.py, which checks the clocks' offset)
    items = callback_items(key_calls)
    newest = max(row["start"] for row in key_calls)
    expected = Counter(
        {
            caller: attempts
            for (caller, location), attempts in expected_list(items, newest).items()
            if location == "loc_04"
        }
    )
    assert expected, "loc_04 has callers to call back as of the newest call"
    shown = app.dataframe[0].value
    listed = list(zip(shown["caller_phone_e164"], shown["attempts"], strict=True))
    assert Counter(dict(listed)) == expected and len(listed) == len(expected)
    tiles = {metric.label: metric.value for metric in app.metric}
    assert tiles["Callers to call back"] == f"{len(expected):,}"
    download = _csv_rows(offered["callbacks_loc_04.csv"])
    assert [(row["caller_phone_e164"], int(row["attempts"])) for row in download] == listed


def test_call_back_page_without_a_staff_connection_shows_no_list(pipeline_run: PipelineRun):
    app = _page("callbacks")

    assert not app.exception, app.exception
    assert "CALLSHRINK_STAFF_DATABASE_URL" in app.info[0].value
    assert not app.dataframe and not app.selectbox
    tiles = {metric.label: metric.value for metric in app.metric}
    assert tiles["Recovered when called at once"].endswith("%")
