"""Executive page: when in the week calls are lost. Answer rate and missed-call shrink by weekday
and hour of day, in each location's local time, and the worst hours named."""

import altair as alt
import pandas as pd
import streamlit as st

from app import data, ui

# An hour of the week is named the worst only with at least this many answer-rate eligible
# calls in the period: a quiet hour with two calls and one missed says little.
MIN_CALLS = 20

st.title("Hours of the week")
st.caption(
    "Answer rate and missed-call shrink by the weekday and hour the call started, in each "
    "location's own time: a call at 9:15 in Denver and one at 9:15 in Boston are both in the "
    "9:00 hour. Hours the locations were closed show after-hours calls only, so they have no "
    "answer rate."
)

period = ui.sidebar_filters()
week = data.figures(data.WEEK_HEATMAP, period)
week = week.assign(
    weekday_name=[ui.weekday_name(day) for day in week["weekday"]],
    hour_label=[ui.hour_label(hour) for hour in week["hour_of_day"]],
)


def _hour_of_week(row: pd.Series) -> str:
    return f"{row['weekday_name']} {row['hour_label']}"


busy = week[week["answer_rate_eligible_calls"] >= MIN_CALLS]
tiles = st.columns(2)
if len(busy):
    worst = busy.loc[busy["answer_rate"].idxmin()]
    tiles[0].metric(
        "Worst hour by answer rate",
        _hour_of_week(worst),
        delta=f"{ui.percent(worst['answer_rate'])} answered of "
        f"{ui.count(worst['answer_rate_eligible_calls'])} calls",
        delta_color="off",
        delta_arrow="off",
        help=f"Of the hours of the week with at least {MIN_CALLS} answer-rate eligible calls.",
    )
if week["missed_call_shrink_usd"].gt(0).any():
    costliest = week.loc[week["missed_call_shrink_usd"].astype(float).idxmax()]
    tiles[1].metric(
        "Costliest hour by shrink",
        _hour_of_week(costliest),
        delta=f"{ui.dollars(costliest['missed_call_shrink_usd'])} of shrink",
        delta_color="off",
        delta_arrow="off",
    )

# the hours some location was open (after-hours calls have no answer rate and no shrink line)
chart_data = ui.for_chart(week[week["answer_rate_eligible_calls"] > 0])
weekday_axis = alt.Y("weekday_name:N", title=None, sort=list(ui.WEEKDAYS))
hour_axis = alt.X("hour_label:O", title="Hour of day (local)", axis=alt.Axis(labelAngle=-45))

WHEN = [
    alt.Tooltip("weekday_name:N", title="Weekday"),
    alt.Tooltip("hour_label:N", title="Hour"),
]


def _heatmap(title: str, color: alt.Color, *tooltips: alt.Tooltip) -> None:
    """A weekday x hour heatmap of chart_data coloured by one figure."""
    st.subheader(title)
    st.altair_chart(
        alt.Chart(chart_data)
        .mark_rect()
        .encode(x=hour_axis, y=weekday_axis, color=color, tooltip=[*WHEN, *tooltips]),
        width="stretch",
    )


_heatmap(
    "Answer rate",
    ui.answer_rate_color(),
    alt.Tooltip("answer_rate:Q", title="Answer rate", format=".1%"),
    alt.Tooltip("answered_calls:Q", title="Answered", format=","),
    alt.Tooltip("answer_rate_eligible_calls:Q", title="Eligible calls", format=","),
)
_heatmap(
    "Missed-call shrink",
    alt.Color(
        "missed_call_shrink_usd:Q",
        title="Shrink",
        legend=alt.Legend(format="$,.0f"),
        scale=alt.Scale(scheme="reds"),
    ),
    alt.Tooltip("missed_call_shrink_usd:Q", title="Shrink", format="$,.2f"),
    alt.Tooltip("missed_opportunities:Q", title="Missed opportunities", format=","),
)

with st.expander("The figures"):
    table = pd.DataFrame(
        {
            "Weekday": week["weekday_name"],
            "Hour": week["hour_label"],
            "Answer rate": week["answer_rate"],
            "Answered calls": week["answered_calls"].astype("Int64"),
            "Eligible calls": week["answer_rate_eligible_calls"].astype("Int64"),
            "Missed opportunities": week["missed_opportunities"].astype("Int64"),
            "Shrink": [ui.amount(value) for value in week["missed_call_shrink_usd"]],
        }
    )
    st.dataframe(
        table,
        column_config={
            "Answer rate": st.column_config.NumberColumn(format="percent"),
            **ui.money_columns("Shrink"),
        },
        hide_index=True,
        width="stretch",
    )
    ui.download(table, f"hours_of_the_week_{period.first_day}_{period.last_day}.csv")
