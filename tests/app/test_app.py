"""The Streamlit app, run headless with Streamlit's AppTest on the pipeline's warehouse."""

from __future__ import annotations

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
