"""Executive page: how well the phones are run, by location: speed, abandons, repeats,
transfers, effort, compliance, the outcome mix and when missed opportunities happen."""

import altair as alt
import streamlit as st

from app import data, ui

service_level_seconds = data.dbt_var("service_level_seconds")

st.title("Process health")
st.caption(
    f"Service level: answered within {service_level_seconds} s ÷ (answered + abandoned after "
    f"{service_level_seconds} s) queue calls. Abandonment: abandoned ÷ (answered + abandoned). "
    "Repeat contact, transfer and escalation rates are shares of answered calls; path length "
    "and customer effort are means per answer-rate eligible call. Days and hours are each "
    "location's local time."
)

filters = ui.sidebar_filters()
span = (filters.first_day, filters.last_day, filters.location_ids)

by_location = data.process_health_by_location(*span)
total = data.process_health_totals(by_location)

first_row = st.columns(5)
first_row[0].metric(
    f"Service level ({service_level_seconds} s)",
    ui.percent(total["service_level"]),
    help="Answered within the threshold ÷ (answered + abandoned after it), PBX queue calls.",
)
first_row[1].metric(
    "Average speed of answer",
    ui.number(total["average_speed_of_answer_seconds"], 1, "s"),
    help="Mean queue hold time of answered queue calls, ring time included.",
)
first_row[2].metric("Abandonment rate", ui.percent(total["abandonment_rate"]))
first_row[3].metric("Repeat contact rate (24 h)", ui.percent(total["repeat_contact_rate_24h"]))
first_row[4].metric("Repeat contact rate (7 d)", ui.percent(total["repeat_contact_rate_7d"]))
second_row = st.columns(5)
second_row[0].metric("Transfer rate", ui.percent(total["transfer_rate"]))
second_row[1].metric("Escalation rate", ui.percent(total["escalation_rate"]))
second_row[2].metric(
    "Average resolution path length",
    ui.number(total["average_resolution_path_length"]),
    help="Legs per call: ring, queue, agent, transfer, escalation, voicemail.",
)
second_row[3].metric(
    "Customer effort score",
    ui.number(total["customer_effort_score"]),
    help="Friction events per call: long waits, transfers, repeat contacts, abandon-and-retry.",
)
second_row[4].metric(
    "Process compliance rate",
    ui.percent(total["process_compliance_rate"]),
    help="Calls that met every rule of the location's service standard.",
)

RATE_LABELS = {
    "service_level": "Service level",
    "abandonment_rate": "Abandonment",
    "repeat_contact_rate_24h": "Repeat 24 h",
    "repeat_contact_rate_7d": "Repeat 7 d",
    "transfer_rate": "Transfer",
    "escalation_rate": "Escalation",
    "process_compliance_rate": "Compliance",
}
st.subheader("By location")
st.altair_chart(
    alt.Chart(by_location.rename(columns=RATE_LABELS))
    .transform_fold(list(RATE_LABELS.values()), as_=["measure", "rate"])
    .mark_bar()
    .encode(
        x=alt.X(
            "measure:N",
            title=None,
            sort=list(RATE_LABELS.values()),
            axis=alt.Axis(labelAngle=0),
        ),
        xOffset=alt.XOffset("location_name:N"),
        y=alt.Y("rate:Q", axis=alt.Axis(format="%", title=None)),
        color=alt.Color("location_name:N", title="Location"),
        tooltip=["location_name", "measure:N", alt.Tooltip("rate:Q", format=".1%")],
    ),
    width="stretch",
)
percent_column = st.column_config.NumberColumn(format="percent")
st.dataframe(
    by_location[["location_name", *data.PROCESS_HEALTH_RATES]],
    column_config={
        "location_name": "Location",
        "service_level": st.column_config.NumberColumn("Service level", format="percent"),
        "average_speed_of_answer_seconds": st.column_config.NumberColumn(
            "Avg speed of answer (s)", format="%.1f"
        ),
        "abandonment_rate": st.column_config.NumberColumn("Abandonment", format="percent"),
        "repeat_contact_rate_24h": st.column_config.NumberColumn("Repeat 24 h", format="percent"),
        "repeat_contact_rate_7d": st.column_config.NumberColumn("Repeat 7 d", format="percent"),
        "transfer_rate": st.column_config.NumberColumn("Transfer", format="percent"),
        "escalation_rate": st.column_config.NumberColumn("Escalation", format="percent"),
        "average_resolution_path_length": st.column_config.NumberColumn(
            "Path length", format="%.2f"
        ),
        "customer_effort_score": st.column_config.NumberColumn("Effort score", format="%.2f"),
        "process_compliance_rate": st.column_config.NumberColumn("Compliance", format="percent"),
    },
    hide_index=True,
    width="stretch",
)

st.subheader("Outcome mix")
outcomes = [ui.label("outcome", outcome) for outcome in data.OUTCOMES]
st.altair_chart(
    alt.Chart(ui.labelled(data.outcome_mix(*span), "outcome"))
    .mark_bar()
    .encode(
        x=alt.X("calls:Q", stack="normalize", axis=alt.Axis(format="%", title="Inbound calls")),
        y=alt.Y("location_name:N", title=None),
        color=alt.Color(
            "outcome:N",
            title="Outcome",
            sort=outcomes,
            scale=alt.Scale(domain=outcomes, scheme="tableau10"),
        ),
        order=alt.Order("outcome_order:Q"),
        tooltip=[
            alt.Tooltip("location_name:N", title="Location"),
            alt.Tooltip("outcome:N", title="Outcome"),
            alt.Tooltip("calls:Q", title="Calls", format=","),
            alt.Tooltip("share:Q", title="Share", format=".1%"),
        ],
    )
    .transform_calculate(outcome_order=f"indexof({outcomes}, datum.outcome)"),
    width="stretch",
)

st.subheader("Missed opportunities by hour of day")
st.altair_chart(
    alt.Chart(data.missed_opportunities_by_hour(*span))
    .mark_rect()
    .encode(
        x=alt.X("hour_of_day:O", title="Hour of day (local)", axis=alt.Axis(labelAngle=0)),
        y=alt.Y("location_name:N", title=None),
        color=alt.Color(
            "missed_opportunities:Q", title="Missed opportunities", scale=alt.Scale(scheme="reds")
        ),
        tooltip=[
            "location_name",
            "hour_label",
            "missed_opportunities",
            "eligible_calls",
            alt.Tooltip("missed_share:Q", title="Share of eligible calls", format=".1%"),
        ],
    ),
    width="stretch",
)

with st.expander("The figures"):
    st.dataframe(
        by_location,
        column_config={name: percent_column for name in RATE_LABELS},
        hide_index=True,
        width="stretch",
    )
