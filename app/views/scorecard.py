"""Executive page: the business on one screen. The system's figures with their change against the
previous period, then one row per location, the worst first, and a drill-down from a location
to its days and to the calls of a day."""

import pandas as pd
import streamlit as st

from app import data, ui
from callshrink.semantic import Period

st.title("Scorecard")
st.caption(
    "Each figure with its change against the previous period of equal length. Shrink is the "
    "revenue of missed opportunities nobody got back to, with its 95 % range; docs/metrics.md "
    "defines every figure. Days are each location's local days."
)

period = ui.sidebar_filters()
now, before = data.with_previous(data.EXECUTIVE_SUMMARY, period)

first, second = st.columns(4), st.columns(4)
ui.tile(
    first[0],
    "Missed-call shrink",
    now.get("missed_call_shrink_usd"),
    before.get("missed_call_shrink_usd"),
    period,
    "dollars",
    better="lower",
    help="Expected revenue of the unrecovered missed opportunities.",
)
for where, bound, metric in (
    (first[1], "low", "missed_call_shrink_low_usd"),
    (first[2], "high", "missed_call_shrink_high_usd"),
):
    ui.tile(
        where,
        f"Shrink, {bound} (95 %)",
        now.get(metric),
        before.get(metric),
        period,
        "dollars",
        better="lower",
        help="The 95 % range of the missed-call shrink: low × low to high × high of each "
        "call's conversion rate and value, summed.",
    )
ui.tile(
    first[3],
    "Missed opportunities",
    now.get("missed_opportunities"),
    before.get("missed_opportunities"),
    period,
    better="lower",
)
ui.tile(
    second[0], "Answer rate", now.get("answer_rate"), before.get("answer_rate"), period, "percent"
)
ui.tile(
    second[1],
    "Recovery rate",
    now.get("callback_recovery_rate"),
    before.get("callback_recovery_rate"),
    period,
    "percent",
    help="Missed opportunities recovered by a callback or a retry that connected.",
)
ui.tile(
    second[2],
    "Service level",
    now.get("service_level"),
    before.get("service_level"),
    period,
    "percent",
    help="PBX queue calls answered within the service-level threshold.",
)

# --- one row per location, the worst first ----------------------------------------------------

SCORED = {  # metric: (column, kind)
    "missed_call_shrink_usd": ("Shrink", "dollars"),
    "answer_rate": ("Answer rate", "percent"),
    "missed_opportunities": ("Missed opportunities", "count"),
    "callback_recovery_rate": ("Recovery rate", "percent"),
    "service_level": ("Service level", "percent"),
}
RANGE = {"missed_call_shrink_low_usd": "Shrink low", "missed_call_shrink_high_usd": "Shrink high"}


def _by_location(span: Period) -> pd.DataFrame:
    """The saved query location_scorecard, a row per chosen location (in its id order)."""
    frame = data.figures(data.LOCATION_SCORECARD, span).set_index("location_id")
    return frame.reindex(list(period.location_ids))


current, previous = _by_location(period), _by_location(period.previous())
names = data.locations().set_index("location_id")["location_name"]
columns = {"Location": names.reindex(current.index)}
for metric, (column, kind) in SCORED.items():
    values = current[metric]
    columns[column] = [ui.amount(v) for v in values] if kind == "dollars" else values
    if metric == "missed_call_shrink_usd":
        columns.update({label: [ui.amount(v) for v in current[m]] for m, label in RANGE.items()})
    changes = [ui.difference(a, b, kind) for a, b in zip(values, previous[metric], strict=True)]
    columns[f"{column} change"] = [ui.amount(v) for v in changes] if kind == "dollars" else changes
scorecard = (
    pd.DataFrame(columns, index=current.index)
    .sort_values("Shrink", ascending=False, na_position="last")
    .rename_axis("location_id")
    .reset_index()
)

st.subheader("Locations, the worst first")
if len(scorecard):
    worst = scorecard["location_id"].iloc[0]
    st.metric(
        "Worst location by shrink",
        names[worst],
        delta=f"{ui.dollars(current.loc[worst, 'missed_call_shrink_usd'])} of shrink",
        delta_color="off",
        delta_arrow="off",
    )
st.caption(
    "Sorted by missed-call shrink, the largest first; click a column to sort by it. Each "
    "change is against the previous period of equal length (rates in percentage points)."
)
percent = st.column_config.NumberColumn(format="percent")
RATE_COLUMNS = {"Answer rate": percent, "Recovery rate": percent, "Service level": percent}
st.dataframe(
    scorecard.drop(columns="location_id"),
    column_config={
        **ui.money_columns("Shrink", *RANGE.values()),
        **{
            f"{column} change": ui.change_column(f"{column} change", kind)
            for column, kind in SCORED.values()
        },
        **RATE_COLUMNS,
    },
    hide_index=True,
    width="stretch",
)
ui.download(scorecard, f"scorecard_{period.first_day}_{period.last_day}.csv")

# --- drill-down: a location's days, a day's calls -------------------------------------------

st.subheader("Drill down")
location_id = st.selectbox(
    "Location",
    options=list(scorecard["location_id"]),
    format_func=names.get,
    key="drill_location",
    help="The locations in the scorecard's order, the worst first.",
)
if location_id is None:
    st.stop()
one_location = Period(period.first_day, period.last_day, (location_id,))
days = data.figures(data.LOCATION_DAYS, one_location).sort_values("day", ascending=False)
days_table = pd.DataFrame(
    {
        "Day": [value.date() for value in days["day"]],
        "Inbound calls": days["inbound_calls"].astype("Int64").to_numpy(),
        "Answer rate": days["answer_rate"].to_numpy(),
        "Missed opportunities": days["missed_opportunities"].astype("Int64").to_numpy(),
        "Recovery rate": days["callback_recovery_rate"].to_numpy(),
        "Service level": days["service_level"].to_numpy(),
        "Shrink": [ui.amount(value) for value in days["missed_call_shrink_usd"]],
    }
)
st.markdown(f"**{names[location_id]}, day by day** (the newest first)")
st.dataframe(
    days_table,
    column_config={**ui.money_columns("Shrink"), **RATE_COLUMNS},
    hide_index=True,
    width="stretch",
)
ui.download(days_table, f"{location_id}_days_{period.first_day}_{period.last_day}.csv")

day = st.selectbox("Day", options=list(days_table["Day"]), key="drill_day")
if day is None:
    st.stop()
calls = ui.labelled(data.calls_of_day(location_id, day), "outcome", "recovered_by")
st.markdown(f"**{names[location_id]}, the calls of {day:%A %B %-d, %Y}** (local times)")
st.dataframe(
    calls,
    column_config={
        "started_at_local": st.column_config.DatetimeColumn("Called at", format="HH:mm:ss"),
        "caller_masked": "Caller",
        "outcome": "Outcome",
        "is_missed_opportunity": st.column_config.CheckboxColumn("Missed opportunity"),
        "is_recovered": st.column_config.CheckboxColumn("Recovered"),
        "recovered_by": "Recovered by",
        "wait_seconds": st.column_config.NumberColumn("Waited (s)"),
        "talk_seconds": st.column_config.NumberColumn("Talked (s)"),
        "marketing_source": "Marketing source",
        "call_id": "Call id",
    },
    hide_index=True,
    width="stretch",
)
ui.download(calls, f"{location_id}_calls_{day}.csv")
