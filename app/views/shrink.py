"""Executive page: missed-call shrink, the revenue unanswered callers nobody got back to would
have brought, by location, day, hour of day and marketing source, with the conversion cells
that value it."""

import altair as alt
import streamlit as st

from app import data, ui

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

filters = ui.sidebar_filters()
span = (filters.first_day, filters.last_day, filters.location_ids)

summary = data.shrink_summary(*span)


def _shrink_tile(tile, label: str, prefix: str, what: str, note: str = "") -> None:
    """A shrink figure with its 95 % range under it and, on hover, what it valued."""
    low, high = summary[f"{prefix}_low_usd"], summary[f"{prefix}_high_usd"]
    text = f"{summary[f'{prefix}_calls']:,} {what} valued. 95 % range {ui.dollar_range(low, high)}."
    unbounded = summary[f"{prefix}_unbounded_calls"]
    if unbounded:
        text += (
            f" {unbounded:,} of the calls have no upper bound (fewer than 2 conversions in "
            "their cell): the high end leaves them out."
        )
    tile.metric(
        label,
        ui.dollars(summary[f"{prefix}_usd"]),
        delta=ui.dollar_range(low, high),
        delta_color="off",
        delta_arrow="off",
        help=text + note,
    )


tiles = st.columns(4)
_shrink_tile(
    tiles[0], "Missed-call shrink", "missed_call_shrink", "unrecovered missed opportunities"
)
_shrink_tile(
    tiles[1],
    "After-hours shrink",
    "after_hours_shrink",
    "unreached after-hours calls",
    " A line of its own: not part of the missed-call shrink or the shrink rate.",
)
tiles[2].metric(
    "Shrink rate",
    ui.percent(summary["shrink_rate"]),
    help="Missed-call shrink ÷ (attributed revenue + missed-call shrink), the same days and "
    "locations: revenue by its local day, shrink by the missed call's.",
)
tiles[3].metric(
    "Attributed revenue",
    ui.dollars(summary["revenue_attributed_usd"]),
    help="Net revenue (refunds subtracted) attributed to calls, by its local day.",
)

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
by_location = _labelled(data.shrink_by("location", *span))
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
    alt.Chart(_labelled(data.shrink_by("day", *span)))
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
by_hour = ui.for_chart(data.shrink_by_hour(*span))
shown = st.segmented_control(
    "Shrink shown",
    options=list(CATEGORY_LABELS),
    default="missed_opportunity",
    format_func=CATEGORY_LABELS.get,
    key="shrink_hour_category",
)
hour_column, calls_column = {
    "missed_opportunity": ("missed_call_shrink_usd", "missed_call_shrink_calls"),
    "after_hours": ("after_hours_shrink_usd", "after_hours_shrink_calls"),
}[shown or "missed_opportunity"]
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
            "hour_label",
            alt.Tooltip(f"{hour_column}:Q", title="Expected shrink", format="$,.2f"),
            alt.Tooltip(f"{calls_column}:Q", title="Valued calls"),
        ],
    ),
    width="stretch",
)

st.subheader("By marketing source")
by_source = _labelled(data.shrink_by("source", *span))
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
by_campaign = _labelled(data.shrink_by("campaign", *span))
by_campaign["campaign_label"] = (
    by_campaign["marketing_campaign"] + " · " + by_campaign["marketing_source"]
)
st.altair_chart(
    alt.Chart(by_campaign)
    .mark_bar()
    .encode(
        x=alt.X("shrink_usd:Q", axis=money_axis),
        y=alt.Y("campaign_label:N", title=None, sort="-x"),
        color=category_color,
        order=alt.Order("category_order:Q"),
        tooltip=["marketing_campaign:N", "marketing_source:N", *money_tooltips],
    )
    .transform_calculate(
        category_order=f"indexof({list(CATEGORY_LABELS.values())}, datum.category_label)"
    ),
    width="stretch",
)

with st.expander("The conversion cells behind the figures"):
    st.caption(
        "One row per cell (location × marketing source × caller type) that valued a call here. "
        "Calls, converted, rate and value are those of the level the cell used (fallback "
        "level): answered, non-repeat inbound calls, converted when revenue was attributed to "
        "them. Value per call = rate × average converted value, the shrink of one valued call."
    )
    st.dataframe(
        ui.cell_table(data.shrink_cells(*span)),
        column_config=ui.money_columns(*ui.CELL_MONEY),
        hide_index=True,
        width="stretch",
    )
