"""The Streamlit app, run headless with Streamlit's AppTest on the pipeline's warehouse."""

from __future__ import annotations

from psycopg.rows import dict_row
from streamlit.testing.v1 import AppTest

from callshrink.settings import PROJECT_DIR
from tests.conftest import PipelineRun

APP = str(PROJECT_DIR / "app" / "streamlit_app.py")


def test_answer_rate_page_shows_the_warehouse_figures(pipeline_run: PipelineRun, conn):
    app = AppTest.from_file(APP, default_timeout=120).run()

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
    app = AppTest.from_file(APP, default_timeout=120).run()
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


def _page(name: str) -> AppTest:
    app = AppTest.from_file(APP, default_timeout=120)
    return app.switch_page(f"views/{name}.py").run()


def _percent(numerator: int, denominator: int) -> str:
    return f"{numerator / denominator:.1%}"


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
        "Average resolution path length": f"{f['legs'] / f['eligible']:.2f}",
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
