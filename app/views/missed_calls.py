"""Missed calls: how many opportunities were missed, how many the business got back, how fast,
and the work list of callers still waiting for a call back."""

import altair as alt
import pandas as pd
import streamlit as st

from app import data, ui

recovery_window_hours = data.dbt_var("recovery_window_hours")

st.title("Missed calls")
st.caption(
    "A missed opportunity is a voicemail, abandoned or missed call in open hours. It is "
    f"recovered when a connected call with the same caller follows within "
    f"{recovery_window_hours} h: the business calling back, or the caller trying again. "
    "Days and times are each location's local time."
)

period = ui.sidebar_filters()
RECOVERY = (
    "missed_opportunities",
    "callback_recovery_rate",
    "median_minutes_to_recovery",
    "unrecovered_missed_opportunities",
)
now, before = data.with_previous(data.metrics(*RECOVERY), period)
tiles = st.columns(5)
ui.tile(
    tiles[0],
    "Missed opportunities",
    now.get("missed_opportunities"),
    before.get("missed_opportunities"),
    period,
    better="lower",
)
ui.tile(
    tiles[1],
    "Recovered share",
    now.get("callback_recovery_rate"),
    before.get("callback_recovery_rate"),
    period,
    "percent",
    help="Recovered missed opportunities ÷ missed opportunities.",
)
ui.tile(
    tiles[2],
    "Median minutes to recovery",
    now.get("median_minutes_to_recovery"),
    before.get("median_minutes_to_recovery"),
    period,
    "minutes",
    better="lower",
)
recovered_by = data.metrics("recovered_missed_opportunities", by=("call__recovered_by",))
now_by, before_by = (
    data.figures(recovered_by, span).set_index("recovered_by")["recovered_missed_opportunities"]
    for span in (period, period.previous())
)
for where, way in zip(tiles[3:], ("callback", "retry"), strict=True):
    ui.tile(where, f"Recovered by {way}", now_by.get(way, 0), before_by.get(way, 0), period)

st.subheader("Recovered or not, by day")
st.caption(
    f"The latest {recovery_window_hours} h are still inside the recovery window: their calls "
    "may yet be recovered."
)
recovery_order = ["recovered by callback", "recovered by retry", "not recovered"]
recovered = data.figures(
    data.metrics("recovered_missed_opportunities", by=("metric_time__day", "call__recovered_by")),
    period,
)
unrecovered = data.figures(
    data.metrics("unrecovered_missed_opportunities", by=("metric_time__day",)), period
)
by_day = pd.concat(
    [
        pd.DataFrame(
            {
                "day": recovered["day"],
                "recovery": [f"recovered by {way}" for way in recovered["recovered_by"]],
                "missed_opportunities": recovered["recovered_missed_opportunities"],
            }
        )[recovered["recovered_by"].notna()],
        pd.DataFrame(
            {
                "day": unrecovered["day"],
                "recovery": "not recovered",
                "missed_opportunities": unrecovered["unrecovered_missed_opportunities"],
            }
        ),
    ]
)
st.altair_chart(
    alt.Chart(ui.for_chart(by_day))
    .mark_bar()
    .encode(
        x=alt.X("day:T", title=None, timeUnit="utcyearmonthdate"),
        y=alt.Y("missed_opportunities:Q", title="Missed opportunities"),
        color=alt.Color(
            "recovery:N",
            title=None,
            sort=recovery_order,
            scale=alt.Scale(domain=recovery_order, range=["#2a9d8f", "#8ab17d", "#e76f51"]),
        ),
        order=alt.Order("recovery_order:Q"),
        tooltip=[
            alt.Tooltip("day:T", timeUnit="utcyearmonthdate"),
            "recovery",
            "missed_opportunities",
        ],
    )
    .transform_calculate(recovery_order=f"indexof({recovery_order}, datum.recovery)"),
    width="stretch",
)

st.subheader("Still to call back")
WORK_LIST_SHOWN = 1_000  # the newest rows on the page; the CSV holds every one


@st.cache_data(ttl=data.CACHE_SECONDS, show_spinner=False)
def _work_list_csv(period) -> str:
    return ui.labelled(data.unrecovered_missed_calls(period), "outcome").to_csv(index=False)


work_list = data.unrecovered_missed_calls(period)
shown = (
    ""
    if len(work_list) <= WORK_LIST_SHOWN
    else f" The newest {WORK_LIST_SHOWN:,} are shown; the CSV holds them all."
)
st.caption(
    f"{len(work_list):,} missed opportunities not recovered, the most recent first (times "
    "are each location's own). Callers' numbers are masked: country code and last four "
    f"digits.{shown}"
)
work_list = ui.labelled(work_list.head(WORK_LIST_SHOWN), "outcome")
st.dataframe(
    work_list,
    column_config={
        "caller_masked": "Caller",
        "location_name": "Location",
        "started_at_local": st.column_config.DatetimeColumn(
            "Called at (local)", format="YYYY-MM-DD HH:mm"
        ),
        "outcome": "Outcome",
        "wait_seconds": st.column_config.NumberColumn("Waited (s)"),
        "has_voicemail": st.column_config.CheckboxColumn("Voicemail"),
        "call_id": "Call id",
    },
    hide_index=True,
    width="stretch",
)
ui.download(
    _work_list_csv(period),
    f"missed_calls_{period.first_day}_{period.last_day}.csv",
    "Download the work list (CSV)",
)
