"""Executive page: has a location's process moved? Each KPI's control chart (a day's value
against its weekday's centre line and 3-sigma limits from a fixed baseline), the signals the
Western Electric and Nelson rules raised, newest first, and the calls of a signal's day
(marts.process_control_points, marts.process_signals; docs/metrics.md, Process control)."""

import altair as alt
import streamlit as st

from app import data, ui

KPIS = {
    "answer_rate": "Answer rate",
    "repeat_contact_rate_24h": "Repeat contact (24 h)",
    "transfer_rate": "Transfer rate",
    "escalation_rate": "Escalation rate",
    "customer_effort_score": "Customer effort per call",
    "average_speed_of_answer_seconds": "Average speed of answer (s)",
    "mean_minutes_to_recovery": "Minutes to recovery (mean)",
    "recovery_rate": "Recovery rate",
    "missed_call_shrink_usd": "Missed-call shrink ($ a day)",
}
baseline_days = data.dbt_var("process_control_baseline_days")

st.title("Process drift")
st.caption(
    "A signal says a location's process moved, before the monthly figure shows it: each day's "
    "value is judged against its own weekday's centre line and limits, set once from the "
    f"location's first {baseline_days} complete days (the baseline) and never moved by the "
    "days they judge. Rules by default: a point beyond 3 sigma (every chart); 2 of 3 beyond 2 "
    "sigma on one side (rates). Days with too few calls, and the baseline itself, are shown "
    "but not judged. A jump in the day's missed-call shrink is a signal like any other."
)

period = ui.sidebar_filters()
now, before = data.with_previous(data.metrics("process_signals"), period)
tiles = st.columns(2)
ui.tile(
    tiles[0],
    "Signals",
    now.get("process_signals", 0),
    before.get("process_signals", 0),
    period,
    better="lower",
    help="Rules that fired on a location's KPI on a day of the period.",
)

signals = data.process_signals(period)
st.subheader("Signals, newest first")
if len(signals):
    st.dataframe(
        signals.assign(kpi=[KPIS.get(kpi, kpi) for kpi in signals["kpi"]]).drop(
            columns=["location_id"]
        ),
        column_config={
            "signal_date": st.column_config.DateColumn("Day"),
            "location_name": "Location",
            "kpi": "KPI",
            "rule_name": "Rule",
            "direction": "Direction",
            "point_value": st.column_config.NumberColumn("Value", format="%.3f"),
            "centre_line": st.column_config.NumberColumn("Centre", format="%.3f"),
            "lcl_3": st.column_config.NumberColumn("Lower limit", format="%.3f"),
            "ucl_3": st.column_config.NumberColumn("Upper limit", format="%.3f"),
            "n": st.column_config.NumberColumn("Calls"),
        },
        hide_index=True,
        width="stretch",
    )
    ui.download(signals, f"process_signals_{period.first_day}_{period.last_day}.csv")
    days = list(dict.fromkeys(zip(signals["location_id"], signals["signal_date"], strict=True)))
    names = dict(zip(signals["location_id"], signals["location_name"], strict=True))
    chosen = st.selectbox(
        "The calls of a signal's day",
        days,
        format_func=lambda key: f"{names[key[0]]}, {key[1]}",
        key="drift_day",
    )
    calls = data.calls_of_day(*chosen)
    st.dataframe(
        ui.labelled(calls, "outcome", "recovered_by"),
        column_config={
            "started_at_local": st.column_config.DatetimeColumn(
                "Called at (local)", format="HH:mm:ss"
            ),
            "caller_masked": "Caller",
            "outcome": "Outcome",
            "call_id": "Call id",
        },
        hide_index=True,
        width="stretch",
    )
else:
    st.info("No signal in these days and locations.")

st.subheader("Control chart")
locations = data.locations()
location_names = dict(zip(locations["location_id"], locations["location_name"], strict=True))
picks = st.columns(2)
location_id = picks[0].selectbox(
    "Location", list(location_names), format_func=location_names.get, key="drift_location"
)
kpi = picks[1].selectbox("KPI", list(KPIS), format_func=KPIS.get, key="drift_kpi")
chart = data.control_chart(location_id, kpi)
if not len(chart):
    st.info("No points for this location and KPI yet.")
else:
    frame = ui.for_chart(chart)
    x = alt.X("started_date:T", title=None)
    base = alt.Chart(frame)
    limits = base.mark_line(interpolate="step-after", strokeDash=[4, 3], color="#9a9a9a").encode(
        x=x, y="ucl_3:Q"
    ) + base.mark_line(interpolate="step-after", strokeDash=[4, 3], color="#9a9a9a").encode(
        x=x, y="lcl_3:Q"
    )
    centre = base.mark_line(interpolate="step-after", color="#6c8ebf").encode(
        x=x, y="centre_line:Q"
    )
    values = base.mark_line(point=True, color="#1f3b73").encode(
        x=x,
        y=alt.Y("point_value:Q", title=KPIS[kpi]),
        tooltip=[
            alt.Tooltip("started_date:T", title="Day"),
            alt.Tooltip("point_value:Q", title="Value", format=".3f"),
            alt.Tooltip("n:Q", title="Calls"),
            alt.Tooltip("phase:N", title="Phase"),
            alt.Tooltip("rules:N", title="Rules fired"),
        ],
    )
    fired = (
        base.transform_filter("datum.rules != null")
        .mark_point(size=140, filled=True, color="#d62728")
        .encode(x=x, y="point_value:Q")
    )
    st.altair_chart(limits + centre + values + fired, width="stretch")
    st.caption(
        "Dashed: the 3-sigma limits of each day (they widen on days with fewer calls); "
        "blue: its weekday's centre line; red: a day a rule fired on."
    )
