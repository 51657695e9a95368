"""Executive page: why the shrink was lost. Every dollar of missed-call shrink (after-hours
calls included) under the one root cause the warehouse's ordered rules give it, by location and
hour, with the calls behind each cause."""

from decimal import Decimal

import altair as alt
import pandas as pd
import streamlit as st

from app import data, ui

CAUSES = ("after_hours", "nobody_staffed", "all_busy", "rang_no_answer", "long_wait", "no_callback")
FIXES = {
    "after_hours": "opening hours or an answering service",
    "nobody_staffed": "someone on the phones in those hours",
    "all_busy": "more agents in those hours (see Staffing)",
    "rang_no_answer": "picking up: ring strategy and answering discipline",
    "long_wait": "a faster answer",
    "no_callback": "calling back within the recovery window (the callback list)",
}
BY_CAUSE = ("shrink_usd", "valued_missed_calls")

service_level_seconds = data.dbt_var("service_level_seconds")
recovery_window_hours = data.dbt_var("recovery_window_hours")

st.title("Why calls are lost")
st.caption(
    "Each dollar of shrink (missed opportunities and after-hours calls nobody got back to) "
    "is assigned to one cause, the first of these that holds: after hours; nobody on the "
    "phones (no queue member logged in and unpaused when the caller entered the queue); all "
    "agents busy (members logged in, none rung: each was on a call); rang, nobody picked up "
    "(a member's phone rang; without a PBX, the phone rang out); a long wait (hung up after "
    f"{service_level_seconds} s); else no callback within {recovery_window_hours} h. The "
    "dollars under a cause are what fixing it would recover. Hours are local."
)

period = ui.sidebar_filters()
by_cause = data.metrics(*BY_CAUSE, by=("shrink_call__cause",))
now, before = (
    data.figures(by_cause, span).set_index("cause") for span in (period, period.previous())
)


def _figure(frame: pd.DataFrame, cause: str, metric: str) -> object:
    return frame[metric].get(cause, 0)


tiles = st.columns(3)
for i, cause in enumerate(CAUSES):
    ui.tile(
        tiles[i % 3],
        ui.label("cause", cause),
        _figure(now, cause, "shrink_usd"),
        _figure(before, cause, "shrink_usd"),
        period,
        "dollars",
        better="lower",
        help=f"{ui.count(_figure(now, cause, 'valued_missed_calls'))} calls lost. "
        f"The fix: {FIXES[cause]}.",
    )

st.subheader("By hour of day")
by_hour = data.figures(
    data.metrics("shrink_usd", by=("shrink_call__cause", "call__hour_of_day")), period
)
if len(by_hour):
    chart = ui.for_chart(
        by_hour.assign(
            cause_label=[ui.label("cause", cause) for cause in by_hour["cause"]],
            hour_label=[ui.hour_label(hour) for hour in by_hour["hour_of_day"]],
        )
    )
    labels = [ui.label("cause", cause) for cause in CAUSES]
    st.altair_chart(
        alt.Chart(chart)
        .mark_bar()
        .encode(
            x=alt.X("hour_label:O", title="Hour of day (local)", axis=alt.Axis(labelAngle=-45)),
            y=alt.Y("shrink_usd:Q", title="Shrink", axis=alt.Axis(format="$,.0f")),
            color=alt.Color(
                "cause_label:N",
                title="Cause",
                sort=labels,
                scale=alt.Scale(domain=labels, scheme="tableau10"),
            ),
            tooltip=[
                alt.Tooltip("hour_label:N", title="Hour"),
                alt.Tooltip("cause_label:N", title="Cause"),
                alt.Tooltip("shrink_usd:Q", title="Shrink", format="$,.2f"),
            ],
        ),
        width="stretch",
    )
else:
    st.info("No shrink in these days.")

st.subheader("By location")
by_location = data.figures(
    data.metrics(*BY_CAUSE, by=("location__location_name", "shrink_call__cause")), period
)
if len(by_location):
    table = by_location.pivot(index="location_name", columns="cause", values="shrink_usd")
    table = table.reindex(columns=[c for c in CAUSES if c in table.columns])
    table = table.rename(columns=lambda cause: ui.label("cause", cause))
    # a cause that lost a location nothing is $0.00, not a blank
    table = table.fillna(Decimal(0)).map(ui.amount)
    table = table.reset_index().rename(columns={"location_name": "Location"})
    st.dataframe(
        table,
        column_config=ui.money_columns(*[c for c in table.columns if c != "Location"]),
        hide_index=True,
        width="stretch",
    )
    ui.download(table, f"shrink_by_cause_{period.first_day}_{period.last_day}.csv")

st.subheader("The calls behind a cause")
cause = st.selectbox(
    "Cause", CAUSES, format_func=lambda code: ui.label("cause", code), key="cause_calls"
)
calls = data.lost_calls_of_cause(period, cause)
st.caption(f"{len(calls):,} calls, newest first; each with the shrink it was valued at.")
st.dataframe(
    ui.labelled(calls, "outcome", "caller_type"),
    column_config={
        "started_at_local": st.column_config.DatetimeColumn(
            "Called at (local)", format="YYYY-MM-DD HH:mm"
        ),
        "location_name": "Location",
        "outcome": "Outcome",
        "marketing_source": "Source",
        "caller_type": "Caller",
        "expected_shrink_usd": st.column_config.NumberColumn("Shrink", format="dollar"),
        "call_id": "Call id",
    },
    hide_index=True,
    width="stretch",
)
ui.download(calls, f"lost_{cause}_{period.first_day}_{period.last_day}.csv")
