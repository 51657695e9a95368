"""Executive page: missed-call shrink, the revenue unanswered callers nobody got back to would
have brought, by location, day, hour of day and marketing source, with the conversion cells
that value it."""

import altair as alt
import pandas as pd
import streamlit as st

from app import data, ui
from callshrink import semantic

NO_CAMPAIGN = "(no campaign)"
UNTRACKED = "untracked"  # the marketing source of calls CallRail tracked none for

recovery_window_hours = data.dbt_var("recovery_window_hours")
min_calls_per_cell = data.dbt_var("min_calls_per_cell")
maturity_days = data.dbt_var("conversion_maturity_days")

st.title("Missed-call shrink")
st.caption(
    f"Each unanswered caller nobody reached within {recovery_window_hours} h (callback or a "
    "retry that connected) is valued once, at the first unanswered attempt: conversion rate × "
    "average converted value of answered callers of the same location, marketing source and "
    "caller type (the region's or the system's when the cell has fewer than "
    f"{min_calls_per_cell} calls), counting calls {maturity_days} days old or more (their "
    "sales have had time to arrive) once the data has enough of them; after-hours callers are "
    "valued alike, on their own line. Like "
    "attributed revenue, it counts sales whose records carry the caller's number. "
    "The range is 95 %: the rate's Wilson interval × the value's normal interval, low × low to "
    "high × high, summed over calls (on the wide side); days and hours are local."
)

period = ui.sidebar_filters()

# Per category: the metrics of its sum, low and high bounds, valued calls and calls without a
# high bound (models/marts/finance/missed_call_shrink.yml).
CATEGORY_METRICS = {
    "missed_opportunity": (
        "missed_call_shrink_usd",
        "missed_call_shrink_low_usd",
        "missed_call_shrink_high_usd",
        "valued_missed_opportunities",
        "missed_opportunities_without_high_bound",
    ),
    "after_hours": (
        "after_hours_shrink_usd",
        "after_hours_shrink_low_usd",
        "after_hours_shrink_high_usd",
        "valued_after_hours_calls",
        "after_hours_calls_without_high_bound",
    ),
}
SHRINK_METRICS = tuple(m for names in CATEGORY_METRICS.values() for m in names)
now, before = data.with_previous(
    data.metrics(*SHRINK_METRICS, "shrink_rate", "revenue_attributed_usd"), period
)


def _shrink_tile(tile, label: str, category: str, what: str, note: str = "") -> None:
    """A shrink figure with its change, and on hover its 95 % range and what it valued."""
    shrink, low, high, calls, unbounded = (now.get(m) for m in CATEGORY_METRICS[category])
    text = f"{ui.count(calls)} {what} valued. 95 % range {ui.dollar_range(low, high)}."
    if unbounded:
        text += (
            f" {ui.count(unbounded)} of the calls have no upper bound (fewer than 2 conversions "
            "in their cell): the high end leaves them out."
        )
    previous = before.get(CATEGORY_METRICS[category][0])
    ui.tile(tile, label, shrink, previous, period, "dollars", better="lower", help=text + note)
    tile.caption(f"95 % range {ui.dollar_range(low, high)}")


tiles = st.columns(5)
_shrink_tile(
    tiles[0], "Missed-call shrink", "missed_opportunity", "unrecovered missed opportunities"
)
_shrink_tile(
    tiles[1],
    "After-hours shrink",
    "after_hours",
    "unreached after-hours calls",
    " A line of its own: not part of the missed-call shrink or the shrink rate.",
)
ui.tile(
    tiles[2],
    "Shrink rate",
    now.get("shrink_rate"),
    before.get("shrink_rate"),
    period,
    "percent",
    better="lower",
    help="Missed-call shrink ÷ (attributed revenue + missed-call shrink), the same days and "
    "locations: revenue by its local day, shrink by the missed call's.",
)
ui.tile(
    tiles[3],
    "Attributed revenue",
    now.get("revenue_attributed_usd"),
    before.get("revenue_attributed_usd"),
    period,
    "dollars",
    help="Net revenue (refunds subtracted) attributed to calls, by its local day.",
)
by_source = data.figures(data.SHRINK_BY_MARKETING_SOURCE, period)
tracked = by_source[by_source["marketing_source"] != UNTRACKED]
if tracked["missed_call_shrink_usd"].gt(0).any():
    worst_source = tracked.loc[tracked["missed_call_shrink_usd"].astype(float).idxmax()]
    tiles[4].metric(
        "Worst marketing source",
        worst_source["marketing_source"],
        delta=f"{ui.dollars(worst_source['missed_call_shrink_usd'])} of shrink",
        delta_color="off",
        delta_arrow="off",
        help="The marketing source whose callers' missed opportunities cost the most (calls "
        f"CallRail tracked no source for, {UNTRACKED!r}, are left out of the choice: they are "
        "in the chart below).",
    )


def _by_category(frame: pd.DataFrame, keys: list[str]) -> pd.DataFrame:
    """A row per key and category with valued calls: shrink_usd, its bounds and valued_calls
    (the metrics' figures, one category at a time)."""
    parts = []
    for category, (shrink, low, high, calls, _) in CATEGORY_METRICS.items():
        part = frame[keys].assign(
            category=category,
            shrink_usd=frame[shrink],
            shrink_low_usd=frame[low],
            shrink_high_usd=frame[high],
            valued_calls=frame[calls],
        )
        parts.append(part[part["valued_calls"] > 0])
    return pd.concat(parts, ignore_index=True)


def _shrink_by(*items: str) -> pd.DataFrame:
    frame = data.figures(data.metrics(*SHRINK_METRICS, by=items), period)
    return _by_category(frame, [semantic.column_name(item) for item in items])


CATEGORY_LABELS = {"missed_opportunity": "Missed opportunity", "after_hours": "After hours"}
category_color = alt.Color(
    "category_label:N",
    title=None,
    sort=list(CATEGORY_LABELS.values()),
    scale=alt.Scale(domain=list(CATEGORY_LABELS.values()), range=["#e76f51", "#457b9d"]),
)
money_axis = alt.Axis(format="$,.0f", title="Expected shrink")


def _labelled(frame):
    frame = ui.for_chart(frame)
    frame["category_label"] = frame["category"].map(CATEGORY_LABELS)
    return frame


money_tooltips = [
    "category_label:N",
    alt.Tooltip("shrink_usd:Q", title="Expected shrink", format="$,.2f"),
    alt.Tooltip("shrink_low_usd:Q", title="Low", format="$,.2f"),
    alt.Tooltip("shrink_high_usd:Q", title="High", format="$,.2f"),
    alt.Tooltip("valued_calls:Q", title="Valued calls"),
]

st.subheader("By location")
st.caption("Bars: expected shrink; lines: its 95 % range.")
by_location = _labelled(_shrink_by("location__location_name"))
# One scale for both, so that the two lines compare at a glance.
highest = by_location["shrink_high_usd"].max() if len(by_location) else None
location_scale = alt.Scale(domain=[0, highest if highest and highest > 0 else 1])
location_columns = st.columns(2)
for column, (category, label) in zip(location_columns, CATEGORY_LABELS.items(), strict=True):
    rows = by_location[by_location["category"] == category]
    base = alt.Chart(rows).encode(
        y=alt.Y("location_name:N", title=None, sort=list(by_location["location_name"].unique())),
        tooltip=["location_name:N", *money_tooltips],
    )
    column.markdown(f"**{label}**")
    column.altair_chart(
        alt.layer(
            base.mark_bar(opacity=0.85).encode(
                x=alt.X("shrink_usd:Q", axis=money_axis, scale=location_scale),
                color=category_color.legend(None),
            ),
            base.mark_rule(strokeWidth=2, color="#222").encode(
                x="shrink_low_usd:Q", x2="shrink_high_usd:Q"
            ),
        ),
        width="stretch",
    )

st.subheader("By day")
st.altair_chart(
    alt.Chart(_labelled(_shrink_by("metric_time__day")))
    .mark_bar()
    .encode(
        x=alt.X("day:T", title=None, timeUnit="utcyearmonthdate"),
        y=alt.Y("shrink_usd:Q", axis=money_axis),
        color=category_color,
        order=alt.Order("category_order:Q"),
        tooltip=[alt.Tooltip("day:T", timeUnit="utcyearmonthdate"), *money_tooltips],
    )
    .transform_calculate(
        category_order=f"indexof({list(CATEGORY_LABELS.values())}, datum.category_label)"
    ),
    width="stretch",
)

st.subheader("By hour of day")
by_hour = ui.for_chart(
    data.figures(
        data.metrics(*SHRINK_METRICS, by=("location__location_name", "call__hour_of_day")), period
    )
)
shown = st.segmented_control(
    "Shrink shown",
    options=list(CATEGORY_LABELS),
    default="missed_opportunity",
    format_func=CATEGORY_LABELS.get,
    key="shrink_hour_category",
)
hour_column, _, _, calls_column, _ = CATEGORY_METRICS[shown or "missed_opportunity"]
st.altair_chart(
    alt.Chart(by_hour)
    .mark_rect()
    .encode(
        x=alt.X("hour_of_day:O", title="Hour of day (local)", axis=alt.Axis(labelAngle=0)),
        y=alt.Y("location_name:N", title=None),
        color=alt.Color(
            f"{hour_column}:Q",
            title="Expected shrink",
            legend=alt.Legend(format="$,.0f"),
            scale=alt.Scale(scheme="reds"),
        ),
        tooltip=[
            "location_name",
            "hour_of_day",
            alt.Tooltip(f"{hour_column}:Q", title="Expected shrink", format="$,.2f"),
            alt.Tooltip(f"{calls_column}:Q", title="Valued calls"),
        ],
    ),
    width="stretch",
)

st.subheader("By marketing source")
by_source = _labelled(_by_category(by_source, ["marketing_source"]))
st.altair_chart(
    alt.Chart(by_source)
    .mark_bar()
    .encode(
        x=alt.X("shrink_usd:Q", axis=money_axis),
        y=alt.Y("marketing_source:N", title=None, sort="-x"),
        color=category_color,
        order=alt.Order("category_order:Q"),
        tooltip=["marketing_source:N", *money_tooltips],
    )
    .transform_calculate(
        category_order=f"indexof({list(CATEGORY_LABELS.values())}, datum.category_label)"
    ),
    width="stretch",
)

st.subheader("By campaign")
by_campaign = _shrink_by("call__marketing_source", "call__marketing_campaign")
by_campaign["marketing_campaign"] = by_campaign["marketing_campaign"].fillna(NO_CAMPAIGN)
by_campaign = _labelled(by_campaign)
by_campaign["campaign_label"] = (
    by_campaign["marketing_campaign"] + " · " + by_campaign["marketing_source"]
)
st.altair_chart(
    alt.Chart(by_campaign)
    .mark_bar()
    .encode(
        x=alt.X("shrink_usd:Q", axis=money_axis),
        y=alt.Y("campaign_label:N", title=None, sort="-x", axis=alt.Axis(labelLimit=400)),
        color=category_color,
        order=alt.Order("category_order:Q"),
        tooltip=["marketing_campaign:N", "marketing_source:N", *money_tooltips],
    )
    .transform_calculate(
        category_order=f"indexof({list(CATEGORY_LABELS.values())}, datum.category_label)"
    ),
    width="stretch",
)

# The cells that valued the calls here: their shrink from the metrics, their figures from
# marts.conversion_cells; the largest shrink first.
valued = data.figures(data.metrics(*SHRINK_METRICS, by=("shrink_call__cell_id",)), period)
cells = (
    data.conversion_cells()
    .merge(valued, on="cell_id")
    .sort_values(
        ["missed_call_shrink_usd", "after_hours_shrink_usd", "cell_id"],
        ascending=[False, False, True],
    )
)
with st.expander("The conversion cells behind the figures"):
    st.caption(
        "One row per cell (location × marketing source × caller type) that valued a call here. "
        "Calls, converted, rate and value are those of the level the cell used (fallback "
        "level): answered, non-repeat inbound calls, converted when revenue was attributed to "
        "them. Value per call = rate × average converted value, the shrink of one valued call."
    )
    cell_table = ui.cell_table(cells)
    st.dataframe(
        cell_table,
        column_config=ui.money_columns(*ui.CELL_MONEY),
        hide_index=True,
        width="stretch",
    )
    ui.download(cell_table, f"conversion_cells_{period.first_day}_{period.last_day}.csv")
