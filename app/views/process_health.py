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

period = ui.sidebar_filters()

# metric: (tile, kind, the better way, help)
RATES = {
    "service_level": (
        f"Service level ({service_level_seconds} s)",
        "percent",
        "higher",
        "Answered within the threshold ÷ (answered + abandoned after it), PBX queue calls.",
    ),
    "average_speed_of_answer_seconds": (
        "Average speed of answer",
        "seconds",
        "lower",
        "Mean queue hold time of answered queue calls, ring time included.",
    ),
    "abandonment_rate": ("Abandonment rate", "percent", "lower", ""),
    "repeat_contact_rate_24h": ("Repeat contact rate (24 h)", "percent", "lower", ""),
    "repeat_contact_rate_7d": ("Repeat contact rate (7 d)", "percent", "lower", ""),
    "transfer_rate": ("Transfer rate", "percent", "lower", ""),
    "escalation_rate": ("Escalation rate", "percent", "lower", ""),
    "average_resolution_path_length": (
        "Resolution path (legs)",
        "number",
        "lower",
        "Legs per call: ring, queue, agent, transfer, escalation, voicemail.",
    ),
    "customer_effort_score": (
        "Customer effort score",
        "number",
        "lower",
        "Friction events per call: long waits, transfers, repeat contacts, abandon-and-retry.",
    ),
    "process_compliance_rate": (
        "Process compliance rate",
        "percent",
        "higher",
        "Calls that met every rule of the location's service standard.",
    ),
}
now, before = data.with_previous(data.metrics(*RATES), period)
rows = st.columns(5) + st.columns(5)
for where, (metric, (label, kind, better, note)) in zip(rows, RATES.items(), strict=True):
    ui.tile(
        where, label, now.get(metric), before.get(metric), period, kind, better=better, help=note
    )

by_location = ui.for_chart(
    data.figures(data.metrics(*RATES, by=("location__location_name",)), period)
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
    by_location[["location_name", *RATES]],
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
outcomes = [label for code, label in ui.LABELS["outcome"].items() if code is not None]
outcome_mix = data.metrics("inbound_calls", by=("location__location_name", "call__outcome"))
st.altair_chart(
    alt.Chart(ui.labelled(data.figures(outcome_mix, period), "outcome"))
    .mark_bar()
    .encode(
        x=alt.X(
            "inbound_calls:Q",
            stack="normalize",
            axis=alt.Axis(format="%", title="Share of inbound calls"),
        ),
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
            alt.Tooltip("inbound_calls:Q", title="Calls", format=","),
        ],
    )
    .transform_calculate(outcome_order=f"indexof({outcomes}, datum.outcome)"),
    width="stretch",
)

st.subheader("Missed opportunities by hour of day")
missed_by_hour = data.metrics(
    "missed_opportunities", by=("location__location_name", "call__hour_of_day")
)
st.altair_chart(
    alt.Chart(ui.for_chart(data.figures(missed_by_hour, period)))
    .mark_rect()
    .encode(
        x=alt.X("hour_of_day:O", title="Hour of day (local)", axis=alt.Axis(labelAngle=0)),
        y=alt.Y("location_name:N", title=None),
        color=alt.Color(
            "missed_opportunities:Q", title="Missed opportunities", scale=alt.Scale(scheme="reds")
        ),
        tooltip=[
            "location_name",
            "hour_of_day",
            "missed_opportunities",
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
    ui.download(by_location, f"process_health_{period.first_day}_{period.last_day}.csv")
