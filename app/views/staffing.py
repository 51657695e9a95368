"""Executive page: how many people, in which hours, would have kept the money. A location's
typical week as a heatmap of the staffing gap (agents needed by Erlang C or Erlang A minus the
agents on the phones, from the queue_log), the hours whose gap explains shrink, and what adding
agents to an hour would buy (marts.staffing_hours, marts.staffing_what_if, docs/staffing.md)."""

import altair as alt
import streamlit as st

from app import data, ui

service_level_seconds = data.dbt_var("service_level_seconds")
target_share = data.dbt_var("service_level_target_share")

st.title("Staffing")
st.caption(
    f"Agents needed to answer {ui.percent(target_share)} of calls within "
    f"{service_level_seconds} s, against the agents on the phones (queue members logged in "
    "and not paused), for each hour of a typical week: measured over the location's complete "
    "days in the warehouse, whatever days the sidebar picks. Calls per hour count new demand: "
    "a caller's retry after being left unanswered is left out, since with enough agents it "
    "would not have been made. The need is Erlang A's (which counts callers who give up) "
    "where enough callers abandon, else Erlang C's. Hours are the location's own."
)

locations = data.locations()
names = dict(zip(locations["location_id"], locations["location_name"], strict=True))
location_id = st.selectbox("Location", list(names), format_func=names.get, key="staffing_location")
hours = data.staffing_hours(location_id)
if not len(hours):
    st.info(
        f"{names[location_id]} has no PBX queue in the warehouse: without a queue_log there is "
        "no record of who was on the phones."
    )
    st.stop()
hours = hours.assign(
    weekday_name=[ui.weekday_name(day) for day in hours["iso_weekday"]],
    hour_label=[ui.hour_label(hour) for hour in hours["hour_of_day"]],
)
weeks = hours["days_measured"].max()
st.caption(f"{names[location_id]}: measured over {weeks} weeks.")
if hours["agents_on_phones"].isna().all():
    st.info(
        f"{names[location_id]}'s queue logs no member logins, logoffs or pauses (static members "
        "in queues.conf): who was on the phones is unknown, so there is no gap to show. The "
        "agents each hour needs are below."
    )
    st.dataframe(
        hours[["weekday_name", "hour_label", "calls_per_hour", "agents_needed", "needed_by"]],
        hide_index=True,
        width="stretch",
    )
    st.stop()

short = hours[hours["agent_gap"] > 0].sort_values(
    ["shrink_explained_per_week_usd", "agent_gap"], ascending=False
)
tiles = st.columns(2)
if len(short):
    worst = short.iloc[0]
    tiles[0].metric(
        "Hour the gap costs most",
        f"{worst['weekday_name']} {worst['hour_label']}",
        delta=f"{ui.dollars(worst['shrink_explained_per_week_usd'])} a week lost to staffing",
        delta_color="off",
        delta_arrow="off",
    )
    widest = hours.loc[hours["agent_gap"].astype(float).idxmax()]
    tiles[1].metric(
        "Widest gap",
        f"{widest['weekday_name']} {widest['hour_label']}",
        delta=f"{ui.number(widest['agents_on_phones'])} on the phones, "
        f"{widest['agents_needed']} needed",
        delta_color="off",
        delta_arrow="off",
    )
else:
    tiles[0].success("No hour of the week is short of the agents it needs.")

st.subheader("The gap, hour by hour")
st.altair_chart(
    alt.Chart(ui.for_chart(hours))
    .mark_rect()
    .encode(
        x=alt.X("hour_label:O", title="Hour of day (local)", axis=alt.Axis(labelAngle=-45)),
        y=alt.Y("weekday_name:N", title=None, sort=list(ui.WEEKDAYS)),
        color=alt.Color(
            "agent_gap:Q",
            title="Agents short",
            scale=alt.Scale(scheme="redblue", reverse=True, domainMid=0),
        ),
        tooltip=[
            alt.Tooltip("weekday_name:N", title="Weekday"),
            alt.Tooltip("hour_label:N", title="Hour"),
            alt.Tooltip("agent_gap:Q", title="Agents short", format=".2f"),
            alt.Tooltip("agents_on_phones:Q", title="On the phones", format=".2f"),
            alt.Tooltip("agents_needed:Q", title="Needed"),
            alt.Tooltip("calls_per_hour:Q", title="Calls per hour (new demand)", format=".1f"),
            alt.Tooltip("shrink_explained_per_week_usd:Q", title="Shrink a week", format="$,.2f"),
        ],
    ),
    width="stretch",
)

st.subheader("What more agents would buy")
what_if = data.staffing_what_if(location_id)
choices = st.columns(3)
weekday = choices[0].selectbox(
    "Weekday", sorted(set(what_if["iso_weekday"])), format_func=ui.weekday_name
)
of_day = what_if[what_if["iso_weekday"] == weekday]
default_hour = short[short["iso_weekday"] == weekday]["hour_of_day"]
hour_options = sorted(set(of_day["hour_of_day"]))
hour = choices[1].selectbox(
    "Hour",
    hour_options,
    index=hour_options.index(default_hour.iloc[0]) if len(default_hour) else 0,
    format_func=ui.hour_label,
)
rows = of_day[of_day["hour_of_day"] == hour].set_index("added_agents")
added = choices[2].slider("Add agents", 0, int(rows.index.max()), 1)
row, base = rows.loc[added], rows.loc[0]
result = st.columns(3)
result[0].metric(
    "Answered",
    ui.percent(row["answered_share"]),
    delta=f"from {ui.percent(base['answered_share'])} with {base['agents']} agents",
    delta_color="off",
    delta_arrow="off",
    help="Share of callers answered by Erlang A with the hour's calls, handle time and patience.",
)
result[1].metric("More calls answered a week", ui.number(row["more_answered_calls_per_week"], 1))
result[2].metric(
    "Worth a week",
    ui.dollars(row["value_per_week_usd"]),
    help="The more answered calls x the location's mean value of a missed call (the shrink's "
    "own valuation).",
)

with st.expander("Every hour's figures"):
    table = hours[
        [
            "weekday_name",
            "hour_label",
            "calls_per_hour",
            "handle_seconds",
            "patience_seconds",
            "agents_on_phones",
            "agents_needed_erlang_c",
            "agents_needed_erlang_a",
            "needed_by",
            "agent_gap",
            "shrink_explained_per_week_usd",
        ]
    ]
    st.dataframe(
        table,
        column_config={
            "weekday_name": "Weekday",
            "hour_label": "Hour",
            "calls_per_hour": "Calls per hour",
            "handle_seconds": "Handle time (s)",
            "patience_seconds": "Patience (s)",
            "agents_on_phones": "On the phones",
            "agents_needed_erlang_c": "Needed (Erlang C)",
            "agents_needed_erlang_a": "Needed (Erlang A)",
            "needed_by": "Need by",
            "agent_gap": "Agents short",
            "shrink_explained_per_week_usd": st.column_config.NumberColumn(
                "Shrink a week", format="dollar"
            ),
        },
        hide_index=True,
        width="stretch",
    )
    ui.download(table, f"staffing_{location_id}.csv")
