"""The Streamlit app, run headless with Streamlit's AppTest on the pipeline's warehouse."""

from __future__ import annotations

import calendar
import json
from datetime import datetime, timedelta
from decimal import Decimal

import pandas as pd
import pytest
from psycopg.rows import dict_row
from streamlit.testing.v1 import AppTest

from app import data, ui
from callshrink import finance
from callshrink.settings import PROJECT_DIR
from tests.conftest import PipelineRun, offered_downloads

APP = str(PROJECT_DIR / "app" / "streamlit_app.py")


def _page(name: str) -> AppTest:
    app = AppTest.from_file(APP, default_timeout=120)
    return app.switch_page(f"views/{name}.py").run()


def test_the_app_opens_on_the_scorecard(pipeline_run: PipelineRun):
    app = AppTest.from_file(APP, default_timeout=120).run()

    assert not app.exception, app.exception
    assert app.title[0].value == "Scorecard"


def test_answer_rate_page_shows_the_warehouse_figures(pipeline_run: PipelineRun, conn):
    app = _page("answer_rate")

    assert not app.exception, app.exception
    assert app.title[0].value == "Answer rate"
    first_day, last_day = app.sidebar.date_input[0].value
    answered, eligible, inbound = conn.execute(
        "select count(*) filter (where is_answered), "
        "count(*) filter (where is_answer_rate_eligible), count(*) from marts.calls "
        "where direction = 'inbound' and started_date between %s and %s",
        (first_day, last_day),
    ).fetchone()
    tiles = {metric.label: metric.value for metric in app.metric}
    assert tiles == {
        "Answer rate": f"{answered / eligible:.1%}",
        "Inbound calls": f"{inbound:,}",
        "Answered calls": f"{answered:,}",
    }


def test_choosing_one_location_narrows_the_figures(pipeline_run: PipelineRun, conn):
    app = _page("answer_rate")
    first_day, last_day = app.sidebar.date_input[0].value
    app.sidebar.multiselect[0].set_value(["loc_02"]).run()

    assert not app.exception, app.exception
    (inbound,) = conn.execute(
        "select count(*) from marts.calls where direction = 'inbound' and location_id = 'loc_02' "
        "and started_date between %s and %s",
        (first_day, last_day),
    ).fetchone()
    tiles = {metric.label: metric.value for metric in app.metric}
    assert tiles["Inbound calls"] == f"{inbound:,}"


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


def test_process_health_page_shows_the_warehouse_figures(pipeline_run: PipelineRun, conn):
    app = _page("process_health")

    assert not app.exception, app.exception
    assert app.title[0].value == "Process health"
    first_day, last_day = app.sidebar.date_input[0].value
    # The metrics of models/marts/calls/calls.yml, numerator and denominator each, from the mart.
    f = (
        conn.cursor(row_factory=dict_row)
        .execute(
            "select "
            "sum(case when meets_service_level then 1 else 0 end) as met, "
            "sum(case when counts_in_service_level then 1 else 0 end) as in_service_level, "
            "avg(speed_of_answer_seconds) as speed, "
            "sum(case when outcome = 'abandoned' then 1 else 0 end) as abandoned, "
            "sum(case when outcome in ('answered', 'abandoned') then 1 else 0 end) "
            "as answered_or_abandoned, "
            "sum(case when is_repeat_24h then 1 else 0 end) as repeat_24h, "
            "sum(case when is_repeat_7d then 1 else 0 end) as repeat_7d, "
            "sum(case when is_answered and is_transferred then 1 else 0 end) as transferred, "
            "sum(case when is_answered and is_escalated then 1 else 0 end) as escalated, "
            "sum(case when is_answered then 1 else 0 end) as answered, "
            "sum(case when is_answer_rate_eligible then resolution_path_length else 0 end) "
            "as legs, "
            "sum(coalesce(customer_effort_events, 0)) as effort, "
            "sum(case when is_answer_rate_eligible then 1 else 0 end) as eligible, "
            "sum(case when is_compliant then 1 else 0 end) as compliant, "
            "sum(case when is_compliant is not null then 1 else 0 end) as compliance_eligible "
            "from marts.calls where started_date between %s and %s",
            (first_day, last_day),
        )
        .fetchone()
    )
    assert min(f["in_service_level"], f["answered"], f["eligible"], f["compliant"]) > 0

    tiles = {metric.label: metric.value for metric in app.metric}
    assert tiles == {
        "Service level (20 s)": _percent(f["met"], f["in_service_level"]),
        "Average speed of answer": f"{float(f['speed']):.1f} s",
        "Abandonment rate": _percent(f["abandoned"], f["answered_or_abandoned"]),
        "Repeat contact rate (24 h)": _percent(f["repeat_24h"], f["answered"]),
        "Repeat contact rate (7 d)": _percent(f["repeat_7d"], f["answered"]),
        "Transfer rate": _percent(f["transferred"], f["answered"]),
        "Escalation rate": _percent(f["escalated"], f["answered"]),
        "Resolution path (legs)": f"{f['legs'] / f['eligible']:.2f}",
        "Customer effort score": f"{f['effort'] / f['eligible']:.2f}",
        "Process compliance rate": _percent(f["compliant"], f["compliance_eligible"]),
    }


def test_process_health_for_one_location(pipeline_run: PipelineRun, conn):
    app = _page("process_health")
    first_day, last_day = app.sidebar.date_input[0].value
    app.sidebar.multiselect[0].set_value(["loc_03"]).run()

    assert not app.exception, app.exception
    abandoned, answered_or_abandoned, compliant, compliance_eligible = conn.execute(
        "select count(*) filter (where outcome = 'abandoned'), "
        "count(*) filter (where outcome in ('answered', 'abandoned')), "
        "count(*) filter (where is_compliant), count(is_compliant) "
        "from marts.calls where location_id = 'loc_03' and started_date between %s and %s",
        (first_day, last_day),
    ).fetchone()
    tiles = {metric.label: metric.value for metric in app.metric}
    assert tiles["Abandonment rate"] == _percent(abandoned, answered_or_abandoned)
    assert tiles["Process compliance rate"] == _percent(compliant, compliance_eligible)
    by_location = app.dataframe[0].value
    assert list(by_location["location_name"]) == [
        conn.execute(
            "select location_name from marts.locations where location_id = 'loc_03'"
        ).fetchone()[0]
    ]


def test_missed_calls_page_shows_the_recovery_figures(pipeline_run: PipelineRun, conn):
    app = _page("missed_calls")

    assert not app.exception, app.exception
    assert app.title[0].value == "Missed calls"
    first_day, last_day = app.sidebar.date_input[0].value
    missed, recovered, callbacks, retries, median_minutes = conn.execute(
        "select sum(case when is_missed_opportunity then 1 else 0 end), "
        "sum(case when is_recovered then 1 else 0 end), "
        "count(*) filter (where recovered_by = 'callback'), "
        "count(*) filter (where recovered_by = 'retry'), "
        "percentile_cont(0.5) within group (order by minutes_to_recovery) "
        "from marts.calls where started_date between %s and %s",
        (first_day, last_day),
    ).fetchone()
    assert missed > recovered > 0 and callbacks > 0 and retries > 0

    tiles = {metric.label: metric.value for metric in app.metric}
    assert tiles == {
        "Missed opportunities": f"{missed:,}",
        "Recovered share": _percent(recovered, missed),
        "Median minutes to recovery": f"{median_minutes:,.1f} min",
        "Recovered by callback": f"{callbacks:,}",
        "Recovered by retry": f"{retries:,}",
    }


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

# The metrics of models/marts/finance/missed_call_shrink.yml and revenue_attributions.yml,
# written from the yml (not from app/data.py): sums over the marts, shrink_rate as its expr.
_SHRINK_FIGURES = """
with shrink as (
    select
        sum(case when category = 'missed_opportunity' then expected_shrink_usd else 0 end)
            as missed,
        sum(case when category = 'missed_opportunity' then expected_shrink_low_usd else 0 end)
            as missed_low,
        sum(case when category = 'missed_opportunity' then expected_shrink_high_usd else 0 end)
            as missed_high,
        sum(case when category = 'after_hours' then expected_shrink_usd else 0 end)
            as after_hours,
        sum(case when category = 'after_hours' then expected_shrink_low_usd else 0 end)
            as after_hours_low,
        sum(case when category = 'after_hours' then expected_shrink_high_usd else 0 end)
            as after_hours_high
    from marts.missed_call_shrink
    where started_date between %(first)s and %(last)s and location_id = any(%(locations)s)
),
revenue as (
    select sum(case when is_attributed then signed_amount_usd else 0 end) as attributed
    from marts.revenue_attributions
    where revenue_date between %(first)s and %(last)s and location_id = any(%(locations)s)
)
select shrink.*, revenue.attributed,
    shrink.missed / nullif(revenue.attributed + shrink.missed, 0) as shrink_rate
from shrink cross join revenue
"""


def _shrink_figures(conn, first_day, last_day, location_ids: list[str]) -> dict:
    return (
        conn.cursor(row_factory=dict_row)
        .execute(
            _SHRINK_FIGURES,
            {"first": first_day, "last": last_day, "locations": location_ids},
        )
        .fetchone()
    )


def _usd(amount: Decimal) -> str:
    return f"{'-' if amount < 0 else ''}${abs(amount):,.2f}"


SHRINK_TILES = ("Missed-call shrink", "After-hours shrink", "Shrink rate", "Attributed revenue")


def _shrink_tiles(app: AppTest) -> dict[str, tuple[str, ...]]:
    """The four figures' tiles and the ranges written under the shrink tiles."""
    tiles = {metric.label: metric.value for metric in app.metric if metric.label in SHRINK_TILES}
    ranges = tuple(c.value for c in app.caption if c.value.startswith("95 % range"))
    return {**tiles, "ranges": ranges}


def _expected_shrink_tiles(f: dict) -> dict[str, tuple[str, ...]]:
    return {
        "Missed-call shrink": _usd(f["missed"]),
        "After-hours shrink": _usd(f["after_hours"]),
        "Shrink rate": f"{float(f['shrink_rate']):.1%}",
        "Attributed revenue": _usd(f["attributed"]),
        "ranges": (
            f"95 % range {_usd(f['missed_low'])} – {_usd(f['missed_high'])}",
            f"95 % range {_usd(f['after_hours_low'])} – {_usd(f['after_hours_high'])}",
        ),
    }


def test_shrink_page_shows_the_warehouse_figures(pipeline_run: PipelineRun, conn):
    app = _page("shrink")

    assert not app.exception, app.exception
    assert app.title[0].value == "Missed-call shrink"
    first_day, last_day = app.sidebar.date_input[0].value
    all_locations = [row[0] for row in conn.execute("select location_id from marts.locations")]
    f = _shrink_figures(conn, first_day, last_day, all_locations)
    assert min(f["missed"], f["after_hours"], f["attributed"]) > 0
    assert isinstance(f["missed"], Decimal)

    assert _shrink_tiles(app) == _expected_shrink_tiles(f)
    # After-hours shrink is its own line: the shrink rate has the missed-call shrink only.
    with_after_hours = (f["missed"] + f["after_hours"]) / (
        f["attributed"] + f["missed"] + f["after_hours"]
    )
    assert f"{float(with_after_hours):.1%}" != _shrink_tiles(app)["Shrink rate"]

    # The conversion cells behind the figures: every valued call is in exactly one row.
    cells = app.dataframe[0].value
    valued = conn.execute(
        "select count(*) filter (where category = 'missed_opportunity'), "
        "count(*) filter (where category = 'after_hours'), count(distinct cell_id) "
        "from marts.missed_call_shrink where started_date between %s and %s",
        (first_day, last_day),
    ).fetchone()
    assert (
        int(cells["Missed opportunities valued"].sum()),
        int(cells["After-hours calls valued"].sum()),
        len(cells),
    ) == valued
    assert cells["Cell"].is_unique
    # money columns are numbers (they sort, the CSV holds them), shown as dollars
    assert _dollar_columns(app.dataframe[0]) == set(ui.CELL_MONEY)
    assert all(cells[column].dtype == "float64" for column in ui.CELL_MONEY)


def test_shrink_for_one_location(pipeline_run: PipelineRun, conn):
    app = _page("shrink")
    first_day, last_day = app.sidebar.date_input[0].value
    everywhere = _shrink_tiles(app)
    app.sidebar.multiselect[0].set_value(["loc_02"]).run()

    assert not app.exception, app.exception
    f = _shrink_figures(conn, first_day, last_day, ["loc_02"])
    assert min(f["missed"], f["attributed"]) > 0
    tiles = _shrink_tiles(app)
    assert tiles == _expected_shrink_tiles(f)
    assert tiles["Missed-call shrink"] != everywhere["Missed-call shrink"]
    assert tiles["Attributed revenue"] != everywhere["Attributed revenue"]
    location_name = conn.execute(
        "select location_name from marts.locations where location_id = 'loc_02'"
    ).fetchone()[0]
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

# The tie-out of models/marts/finance/revenue_reconciliation.yml, summed from the mart (not from
# callshrink/finance.py) for one month, per record type.
_RECONCILIATION = """
select
    record_type,
    sum(source_records) as source_records,
    sum(attributed_records) as attributed_records,
    sum(source_usd) as source_usd,
    sum(attributed_usd) as attributed_usd,
    sum(unattributed_usd) as unattributed_usd
from marts.revenue_reconciliation
where date_trunc('month', revenue_date) = %s::date
group by record_type
"""


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


def _tie_out(conn, month: str, record_type: str) -> tuple[str, str]:
    """The tie-out tile: its text, and under it the month's quarantined records of the type."""
    (left_out,) = conn.execute(
        "select count(*) from marts.revenue_left_out where record_month = %s and record_type = %s",
        (f"{month}-01", record_type),
    ).fetchone()
    return "ties out", f"{_records(left_out)} left out" if left_out else ""


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


def test_reconciliation_tiles_equal_the_mart(pipeline_run: PipelineRun, conn):
    app = _page("reconciliation")

    assert not app.exception, app.exception
    month = app.sidebar.selectbox[0].value
    by_type = {
        row["record_type"]: row
        for row in conn.cursor(row_factory=dict_row).execute(_RECONCILIATION, (f"{month}-01",))
    }
    assert set(by_type) == {"payment", "refund", "deal"}
    assert isinstance(by_type["payment"]["source_usd"], Decimal)

    expected = {}
    for record_type, label in (("payment", "Payments"), ("refund", "Refunds"), ("deal", "Deals")):
        f = by_type[record_type]
        assert f["source_usd"] == f["attributed_usd"] + f["unattributed_usd"]
        sign = -1 if record_type == "refund" else 1  # the tiles subtract refunds
        expected |= {
            f"{label}: source": (_usd(sign * f["source_usd"]), _records(f["source_records"])),
            f"{label}: attributed": (
                _usd(sign * f["attributed_usd"]),
                _records(f["attributed_records"]),
            ),
            f"{label}: unattributed": (
                _usd(sign * f["unattributed_usd"]),
                _records(f["source_records"] - f["attributed_records"]),
            ),
            f"{label}: tie-out": _tie_out(conn, month, record_type),
        }

    def net(column: str) -> Decimal:
        p, r, d = (by_type[kind][column] for kind in ("payment", "refund", "deal"))
        return p - r + d

    expected |= {
        "Net revenue: source": (_usd(net("source_usd")), ""),
        "Net revenue: attributed": (_usd(net("attributed_usd")), ""),
        "Net revenue: unattributed": (_usd(net("unattributed_usd")), ""),
        "Net revenue: attributed share": (
            f"{float(net('attributed_usd') / net('source_usd')):.1%}",
            "",
        ),
    }
    assert {metric.label: (metric.value, metric.delta) for metric in app.metric} == expected

    # The totals table says the same, and the daily table has a row per mart row.
    totals = _frame(app, "Source")
    assert list(totals["Source"]) == [
        float(sign * by_type[kind]["source_usd"])
        for kind, sign in (("payment", 1), ("refund", -1), ("deal", 1))
    ]
    assert list(totals["Tie-out"]) == ["ties out"] * 3
    assert totals["Source"].dtype == "float64"  # sorts as numbers
    tables = [frame for frame in app.dataframe if "Source" in frame.value.columns]
    assert all(
        _dollar_columns(frame) == {"Source", "Attributed", "Unattributed"} for frame in tables
    )
    (rows,) = conn.execute(
        "select count(*) from marts.revenue_reconciliation "
        "where date_trunc('month', revenue_date) = %s::date",
        (f"{month}-01",),
    ).fetchone()
    daily = _frame(app, "Day")
    assert len(daily) == rows


def test_reconciliation_csvs_are_the_finance_export(
    pipeline_run: PipelineRun, conn, tmp_path, monkeypatch
):
    offered = offered_downloads(monkeypatch)
    app = _page("reconciliation")

    assert not app.exception, app.exception
    month = app.sidebar.selectbox[0].value
    left_out = finance.left_out_rows(conn, finance.parse_month(month))
    levels = ("daily", "records", "left_out") if left_out else ("daily", "records")
    assert set(offered) == {f"finance_{month}_{level}.csv" for level in levels}
    for level in levels:
        exported = tmp_path / f"{level}.csv"
        rows = finance.export_month(conn, finance.parse_month(month), exported, level=level)
        assert rows > 0
        assert offered[f"finance_{month}_{level}.csv"] == exported.read_bytes(), level


def test_reconciliation_restatements_panel(pipeline_run: PipelineRun, conn):
    app = _page("reconciliation")

    assert not app.exception, app.exception
    # The months the page calls closed are those dbt closed (int_revenue_months_closed).
    closed = [
        month
        for (month,) in conn.execute(
            "select distinct to_char(revenue_month, 'YYYY-MM') "
            "from intermediate.int_revenue_months_closed order by 1"
        )
    ]
    assert data.closed_months() == closed
    (restated,) = conn.execute("select count(*) from marts.revenue_restatements").fetchone()
    caption = app.caption[-1].value
    assert f"{len(closed):,} month{'' if len(closed) == 1 else 's'} closed" in caption
    assert f"{restated:,} restated row" in caption
    if restated == 0:
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


def test_reconciliation_for_one_location(pipeline_run: PipelineRun, conn, monkeypatch):
    offered = offered_downloads(monkeypatch)
    app = _page("reconciliation")
    month = app.sidebar.selectbox[0].value
    whole_month = dict(offered)
    offered.clear()
    app.sidebar.multiselect[0].set_value(["loc_02"]).run()

    assert not app.exception, app.exception
    f = (
        conn.cursor(row_factory=dict_row)
        .execute(
            "select sum(source_usd) as source_usd, sum(attributed_usd) as attributed_usd, "
            "sum(unattributed_usd) as unattributed_usd from marts.revenue_reconciliation "
            "where record_type = 'payment' and location_id = 'loc_02' "
            "and date_trunc('month', revenue_date) = %s::date",
            (f"{month}-01",),
        )
        .fetchone()
    )
    assert f["source_usd"] > 0
    tiles = {metric.label: metric.value for metric in app.metric}
    left_out = {metric.label: metric.delta for metric in app.metric}["Payments: tie-out"]
    assert (
        tiles["Payments: source"],
        tiles["Payments: attributed"],
        tiles["Payments: unattributed"],
        (tiles["Payments: tie-out"], left_out),
    ) == (
        _usd(f["source_usd"]),
        _usd(f["attributed_usd"]),
        _usd(f["unattributed_usd"]),
        _tie_out(conn, month, "payment"),
    )
    location_name = conn.execute(
        "select location_name from marts.locations where location_id = 'loc_02'"
    ).fetchone()[0]
    assert set(_frame(app, "Day")["Location"]) == {location_name}
    assert offered == whole_month, "the CSVs are the whole month's"


def test_data_health_page_shows_every_pbx_and_location(pipeline_run: PipelineRun, conn):
    app = _page("data_health")

    assert not app.exception, app.exception
    assert app.title[0].value == "Data health"
    # the session's demo data is read right: no warning box, the all-clear instead, and the
    # lines its defects put in quarantine as a notice
    assert not app.warning
    assert [box.value for box in app.success] == ["No problems found."]
    assert any("quarantine" in box.value for box in app.info)
    table = app.dataframe[0].value
    rows = conn.execute(
        "select coalesce(pbx_id, '(no PBX)'), coalesce(location_id, '(no location)'), "
        "inbound_calls, internal_calls from marts.data_health order by 1, 2"
    ).fetchall()
    columns = ("pbx_id", "location_id", "inbound_calls", "internal_calls")
    shown = sorted(zip(*(table[column] for column in columns), strict=True))
    assert shown == sorted(rows)
    assert {"pbx_east", "pbx_west", "(no PBX)"} <= set(table["pbx_id"])
    channels = app.dataframe[1].value
    assert set(channels["channel_role"]) >= {"trunk", "phone", "local"}


# --- call back (staff) ----------------------------------------------------------------------------


def test_call_back_page_lists_callers_on_a_staff_connection(
    pipeline_run: PipelineRun, conn, staff_url: str, monkeypatch: pytest.MonkeyPatch
):
    from callshrink import callbacks

    monkeypatch.setenv("CALLSHRINK_STAFF_DATABASE_URL", staff_url)
    offered = offered_downloads(monkeypatch)
    app = _page("callbacks")
    app.selectbox[0].set_value("loc_04").run()

    assert not app.exception, app.exception
    assert app.title[0].value == "Call back"
    expected = callbacks.list_as_of(conn, None, "loc_04")
    assert expected, "loc_04 has callers to call back as of the newest call"
    shown = app.dataframe[0].value
    assert list(zip(shown["caller_phone_e164"], shown["attempts"], strict=True)) == [
        (row[1], row[6]) for row in expected
    ]
    tiles = {metric.label: metric.value for metric in app.metric}
    assert tiles["Callers to call back"] == f"{len(expected):,}"
    assert offered["callbacks_loc_04.csv"] == callbacks.csv_of(expected).encode()


def test_call_back_page_without_a_staff_connection_shows_no_list(pipeline_run: PipelineRun):
    app = _page("callbacks")

    assert not app.exception, app.exception
    assert "CALLSHRINK_STAFF_DATABASE_URL" in app.info[0].value
    assert not app.dataframe and not app.selectbox
    tiles = {metric.label: metric.value for metric in app.metric}
    assert tiles["Recovered when called at once"].endswith("%")
