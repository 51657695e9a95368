"""Executive page: answer rate by location, by day and by hour of day."""

import altair as alt
import streamlit as st

from app import data, ui

st.title("Answer rate")
st.caption(
    "Answered ÷ (answered + voicemail + abandoned + missed) inbound calls: open hours only, "
    "short abandons and spam left out. Days and hours are each location's local time."
)

period = ui.sidebar_filters()
COUNTS = ("answered_calls", "answer_rate_eligible_calls", "inbound_calls")
now, before = data.with_previous(data.metrics("answer_rate", *COUNTS), period)
tiles = st.columns(3)
ui.tile(
    tiles[0], "Answer rate", now.get("answer_rate"), before.get("answer_rate"), period, "percent"
)
ui.tile(tiles[1], "Inbound calls", now.get("inbound_calls"), before.get("inbound_calls"), period)
ui.tile(tiles[2], "Answered calls", now.get("answered_calls"), before.get("answered_calls"), period)


def _answer_rate_by(*items: str, counts: tuple[str, ...] = ()):
    """The answer rate (and `counts`) by location and `items`. The charts ask for the rate
    alone: MetricFlow reads the calls once per kind of metric, and a year is a million rows."""
    query = data.metrics("answer_rate", *counts, by=("location__location_name", *items))
    return ui.for_chart(data.figures(query, period))


by_location = _answer_rate_by("location__location_id", counts=COUNTS)
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
            "answer_rate_eligible_calls",
            "inbound_calls",
        ],
    ),
    width="stretch",
)

st.subheader("By day")
by_day = _answer_rate_by("metric_time__day")
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
        ],
    ),
    width="stretch",
)

st.subheader("By hour of day")
by_hour = _answer_rate_by("call__hour_of_day")
st.altair_chart(
    alt.Chart(by_hour)
    .mark_rect()
    .encode(
        x=alt.X("hour_of_day:O", title="Hour of day (local)"),
        y=alt.Y("location_name:N", title=None),
        color=ui.answer_rate_color(),
        tooltip=[
            "location_name",
            "hour_of_day",
            alt.Tooltip("answer_rate:Q", format=".1%"),
        ],
    ),
    width="stretch",
)

with st.expander("The figures"):
    figures = by_location[
        [
            "location_id",
            "location_name",
            "inbound_calls",
            "answered_calls",
            "answer_rate_eligible_calls",
            "answer_rate",
        ]
    ]
    st.dataframe(
        figures,
        column_config={"answer_rate": st.column_config.NumberColumn(format="percent")},
        hide_index=True,
        width="stretch",
    )
    ui.download(figures, f"answer_rate_{period.first_day}_{period.last_day}.csv")
