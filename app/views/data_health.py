"""Data health: whether each PBX and location is read right (callshrink doctor, as a page)."""

import altair as alt
import pandas as pd
import streamlit as st

from app import data

min_stitch_share = float(data.dbt_var("health_min_stitch_share"))

st.title("Data health")
st.caption(
    "Whether the warehouse reads each PBX and the location crosswalk right. CallRail forwards "
    "every tracked call to the PBX, so nearly every tracked call at a location with a PBX must "
    "be recognised as one call with its PBX record; a call no location claims, a PBX call "
    "with no dialled number or a channel nobody recognised mean the reference data does not "
    "describe the PBX yet. docs/pbx.md says what to set. The same report: `callshrink doctor`."
)

report = data.data_health()
tiles = st.columns(3)
tiles[0].metric(
    "Warnings",
    f"{len(report.warnings):,}",
    help="Findings that mean a figure may be wrong until the reference data is fixed.",
)
tiles[1].metric("PBX systems", f"{len({row['pbx_id'] for row in report.rows if row['pbx_id']}):,}")
tiles[2].metric(
    "Locations read", f"{len({row['location_id'] for row in report.rows if row['location_id']}):,}"
)

if not report.warnings:
    st.success("No problems found.")
for finding in report.findings:
    show = st.warning if finding.level == "warning" else st.info
    show(f"**{finding.pbx_id or 'No PBX'}**: {finding.message}")

rows = pd.DataFrame(report.rows)
rows["pbx_id"] = rows["pbx_id"].fillna("(no PBX)")
rows["location_id"] = rows["location_id"].fillna("(no location)")
for column in ("stitch_share", "unplaced_share", "undialled_share"):
    rows[column] = rows[column].astype("float64")

st.subheader("Tracked calls recognised at their PBX, by location")
located = rows[rows["stitch_share"].notna()]
if located.empty:
    st.info("No location has both CallRail and PBX calls yet.")
else:
    bars = (
        alt.Chart(located)
        .mark_bar()
        .encode(
            x=alt.X("stitch_share:Q", title="Stitched share", axis=alt.Axis(format="%")),
            y=alt.Y("location_id:N", title=None, sort="x"),
            color=alt.condition(
                alt.datum.stitch_share < min_stitch_share,
                alt.value("#e76f51"),
                alt.value("#2a9d8f"),
            ),
            tooltip=[
                "pbx_id",
                "location_id",
                alt.Tooltip("stitch_share:Q", format=".1%"),
                "tracked_inbound_calls",
                "stitched_inbound_calls",
            ],
        )
    )
    threshold = (
        alt.Chart(pd.DataFrame({"threshold": [min_stitch_share]}))
        .mark_rule(strokeDash=[4, 4])
        .encode(x="threshold:Q")
    )
    st.altair_chart(bars + threshold, width="stretch")

st.subheader("Per PBX and location")
st.dataframe(
    rows,
    hide_index=True,
    column_order=[
        "pbx_id",
        "location_id",
        "inbound_calls",
        "tracked_inbound_calls",
        "stitch_share",
        "pbx_inbound_calls",
        "unplaced_share",
        "undialled_share",
        "outbound_calls",
        "internal_calls",
        "consult_calls",
        "unknown_channel_calls",
        "long_calls",
        "quarantined_lines",
        "latin1_lines",
        "is_configured",
    ],
    column_config={
        "pbx_id": "PBX",
        "location_id": "Location",
        "inbound_calls": st.column_config.NumberColumn("Inbound"),
        "tracked_inbound_calls": st.column_config.NumberColumn("Tracked by CallRail"),
        "stitch_share": st.column_config.NumberColumn("Stitched", format="percent"),
        "pbx_inbound_calls": st.column_config.NumberColumn("PBX inbound"),
        "unplaced_share": st.column_config.NumberColumn("No location", format="percent"),
        "undialled_share": st.column_config.NumberColumn("No dialled number", format="percent"),
        "outbound_calls": st.column_config.NumberColumn("Outbound"),
        "internal_calls": st.column_config.NumberColumn("Internal"),
        "consult_calls": st.column_config.NumberColumn("Consult"),
        "unknown_channel_calls": st.column_config.NumberColumn("Unrecognised channels"),
        "long_calls": st.column_config.NumberColumn(
            "Long calls", help="Calls longer than the dbt var incremental_lookback_hours"
        ),
        "quarantined_lines": st.column_config.NumberColumn("Quarantined lines"),
        "latin1_lines": st.column_config.NumberColumn(
            "Read as Latin-1", help="Lines that were not UTF-8, for want of pbx_systems.encoding"
        ),
        "is_configured": st.column_config.CheckboxColumn("In pbx_systems"),
    },
)

st.subheader("What each PBX writes")
st.caption(
    "Channel names (without their per-call suffix) with the role the PBX's patterns give "
    "them, contexts (listed, never interpreted), and the dialled numbers and queues of its "
    "inbound calls with the location the crosswalk gives them."
)
names = pd.DataFrame(report.names)
if names.empty:
    st.info("No PBX data yet.")
else:
    kinds = {
        "channel": "Channels",
        "context": "Contexts",
        "dialled_number": "Dialled numbers",
        "queue": "Queues",
    }
    kind = st.segmented_control(
        "Show", options=list(kinds), format_func=kinds.get, default="channel"
    )
    shown = names[names["kind"] == (kind or "channel")]
    st.dataframe(
        shown,
        hide_index=True,
        column_order=[
            "pbx_id",
            "written_as",
            "channel_role",
            "location_id",
            "seen",
            "first_seen_date",
            "last_seen_date",
            "is_new",
        ],
        column_config={
            "pbx_id": "PBX",
            "written_as": "Written as",
            "channel_role": "Role",
            "location_id": "Location",
            "seen": st.column_config.NumberColumn("Seen"),
            "first_seen_date": st.column_config.DateColumn("First seen"),
            "last_seen_date": st.column_config.DateColumn("Last seen"),
            "is_new": st.column_config.CheckboxColumn("New"),
        },
    )
