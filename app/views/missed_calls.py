"""Missed calls: how many opportunities were missed, how many the business got back, how fast,
and the work list of callers still waiting for a call back."""

import altair as alt
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

filters = ui.sidebar_filters()
span = (filters.first_day, filters.last_day, filters.location_ids)

summary = data.recovery_summary(*span)
tiles = st.columns(5)
tiles[0].metric("Missed opportunities", ui.count(summary["missed_opportunities"]))
tiles[1].metric(
    "Recovered share",
    ui.percent(summary["callback_recovery_rate"]),
    help="Recovered missed opportunities ÷ missed opportunities.",
)
tiles[2].metric(
    "Median minutes to recovery", ui.number(summary["median_minutes_to_recovery"], 1, "min")
)
tiles[3].metric("Recovered by callback", ui.count(summary["recovered_by_callback"]))
tiles[4].metric("Recovered by retry", ui.count(summary["recovered_by_retry"]))

st.subheader("Recovered or not, by day")
st.caption(
    f"The latest {recovery_window_hours} h are still inside the recovery window: their calls "
    "may yet be recovered."
)
recovery_order = ["recovered by callback", "recovered by retry", "not recovered"]
st.altair_chart(
    alt.Chart(data.recovery_by_day(*span))
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
work_list = data.unrecovered_missed_calls(*span)
st.caption(
    f"{len(work_list):,} missed opportunities not recovered, the most recent first (times "
    "are each location's own). Callers' numbers are masked: country code and last four digits."
)
work_list = ui.labelled(work_list, "outcome")
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
st.download_button(
    "Download the work list (CSV)",
    data=work_list.to_csv(index=False),
    file_name=f"missed_calls_{filters.first_day}_{filters.last_day}.csv",
    mime="text/csv",
    on_click="ignore",
)
