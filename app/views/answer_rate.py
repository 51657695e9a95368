"""Executive page: answer rate by location, by day and by hour of day."""

import altair as alt
import streamlit as st

from app import data, ui

st.title("Answer rate")
st.caption(
    "Answered ÷ (answered + voicemail + abandoned + missed) inbound calls: open hours only, "
    "short abandons and spam left out. Days and hours are each location's local time."
)

filters = ui.sidebar_filters()
start, end, locations = filters.first_day, filters.last_day, filters.location_ids

by_location = data.answer_rate_by("location", start, end, locations)
total_answered = int(by_location["answered_calls"].sum())
total_eligible = int(by_location["eligible_calls"].sum())
tiles = st.columns(3)
tiles[0].metric(
    "Answer rate", f"{total_answered / total_eligible:.1%}" if total_eligible else "n/a"
)
tiles[1].metric("Inbound calls", f"{int(by_location['inbound_calls'].sum()):,}")
tiles[2].metric("Answered calls", f"{total_answered:,}")

rate_axis = alt.Axis(format="%", title="Answer rate")
st.subheader("By location")
st.altair_chart(
    alt.Chart(by_location)
    .mark_bar()
    .encode(
        x=alt.X("answer_rate:Q", axis=rate_axis, scale=alt.Scale(domain=[0, 1])),
        y=alt.Y("location_name:N", title=None, sort="-x"),
        tooltip=[
            "location_name",
            alt.Tooltip("answer_rate:Q", format=".1%"),
            "answered_calls",
            "eligible_calls",
            "inbound_calls",
        ],
    ),
    width="stretch",
)

st.subheader("By day")
by_day = data.answer_rate_by("day", start, end, locations)
st.altair_chart(
    alt.Chart(by_day)
    .mark_line(point=True)
    .encode(
        x=alt.X("day:T", title=None),
        y=alt.Y("answer_rate:Q", axis=rate_axis),
        color=alt.Color("location_name:N", title="Location"),
        tooltip=[
            "location_name",
            "day:T",
            alt.Tooltip("answer_rate:Q", format=".1%"),
            "answered_calls",
            "eligible_calls",
        ],
    ),
    width="stretch",
)

st.subheader("By hour of day")
by_hour = data.answer_rate_by("hour", start, end, locations)
st.altair_chart(
    alt.Chart(by_hour)
    .mark_rect()
    .encode(
        x=alt.X("hour_of_day:O", title="Hour of day (local)"),
        y=alt.Y("location_name:N", title=None),
        color=alt.Color(
            "answer_rate:Q",
            title="Answer rate",
            legend=alt.Legend(format="%"),
            scale=alt.Scale(scheme="redyellowgreen", domain=[0, 1]),
        ),
        tooltip=[
            "location_name",
            "hour_of_day",
            alt.Tooltip("answer_rate:Q", format=".1%"),
            "answered_calls",
            "eligible_calls",
        ],
    ),
    width="stretch",
)

with st.expander("The figures"):
    st.dataframe(
        by_location[
            [
                "location_id",
                "location_name",
                "inbound_calls",
                "answered_calls",
                "eligible_calls",
                "answer_rate",
            ]
        ],
        column_config={"answer_rate": st.column_config.NumberColumn(format="percent")},
        hide_index=True,
        width="stretch",
    )
