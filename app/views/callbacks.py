"""Call back: the callers to call back at a location now, the most valuable first, with their
numbers, for the staff who dial them. The list is restricted.callback_list (the one
`callshrink callbacks` writes), read on staff's own connection; the app's read-only role
never reads a number."""

import altair as alt
import pandas as pd
import streamlit as st

from app import data, ui
from callshrink import callbacks
from callshrink.settings import STAFF_DATABASE_URL_VAR, STAFF_ROLE, restricted_role

recovery_window_hours = data.dbt_var("recovery_window_hours")

st.title("Call back")
st.caption(
    "Callers whose voicemail, abandoned or missed call (open hours) came in the last "
    f"{recovery_window_hours} h and whom nobody has reached since (no answered retry, no "
    "callback they picked up), as of the newest call in the warehouse. Ranked by expected "
    "value: what such a call is worth (its conversion cell's value, as in the shrink) times "
    "the chance a callback still wins it back after the hours that have passed. The list "
    "refreshes with every `callshrink run`."
)

curve = data.recovery_curve()
first_hour = curve.iloc[0] if len(curve) else None
tiles = st.columns(3)
tiles[0].metric(
    "Recovered when called at once",
    ui.percent(None if first_hour is None else first_hour["recovery_chance"]),
    help="Of settled missed calls, the share recovered within the window: the chance at 0 h.",
)
newest = None if first_hour is None else first_hour["newest_call_at"]

staff_url = data.staff_url()
if staff_url is None:
    tiles[1].metric("Recovery window", f"{recovery_window_hours} h")
    st.info(
        "The list shows callers' numbers, so it is read on a connection of call-back staff, "
        "not the app's own read-only role. Set "
        f"`{STAFF_DATABASE_URL_VAR}` to the URL of a login role that is a member of "
        f"`{restricted_role()}` and restart the app, e.g. on your server:\n\n"
        f"`create role alice login password '...'; grant {restricted_role()} to alice;`\n\n"
        f"`export {STAFF_DATABASE_URL_VAR}=postgresql://alice:PASSWORD@HOST/DATABASE`\n\n"
        f"On the private server `callshrink app` sets it to its own `{STAFF_ROLE}` role. "
        "Until then this page shows no numbers (docs/privacy.md)."
    )
else:
    locations = data.locations()
    names = dict(zip(locations["location_id"], locations["location_name"], strict=True))
    location_id = st.selectbox(
        "Location",
        list(names),
        format_func=lambda location: f"{names[location]} ({location})",
        key="callback_location",
    )
    try:
        rows = data.callback_list(staff_url, location_id)
    except callbacks.CallbackError as error:
        st.info(f"No list to show: {error}.")
        st.stop()
    work_list = pd.DataFrame(rows, columns=list(callbacks.COLUMNS))
    tiles[1].metric("Callers to call back", ui.count(len(work_list)))
    tiles[2].metric(
        "As of (UTC)",
        "—" if newest is None else newest.strftime("%Y-%m-%d %H:%M"),
        help="The newest call in the warehouse.",
    )
    st.dataframe(
        ui.labelled(work_list, "outcome"),
        column_config={
            "rank": st.column_config.NumberColumn("#"),
            "caller_phone_e164": "Caller",
            "location_id": None,
            "latest_call_at_local": st.column_config.DatetimeColumn(
                "Last called (local)", format="YYYY-MM-DD HH:mm"
            ),
            "latest_call_at": None,
            "wait_seconds": st.column_config.NumberColumn("Waited (s)"),
            "attempts": st.column_config.NumberColumn("Attempts"),
            "outcome": "Outcome",
            "marketing_source": "Source",
            "hours_since_call": st.column_config.NumberColumn("Hours since", format="%.1f"),
            "recovery_chance": st.column_config.NumberColumn("Chance", format="percent"),
            "value_usd": st.column_config.NumberColumn("Call value", format="dollar"),
            "cell_id": None,
            "expected_value_usd": st.column_config.NumberColumn("Expected value", format="dollar"),
            "call_ids": "Calls",
            "listed_as_of": None,
        },
        hide_index=True,
        width="stretch",
    )
    ui.download(
        callbacks.csv_of(rows),
        f"callbacks_{location_id}.csv",
        "Download the list (CSV)",
    )

st.subheader("The chance a callback still recovers a missed call")
st.caption(
    "Per whole hour since the call: of the missed calls whose window has closed and that "
    "nobody had reached by then, the share recovered within the window (every location "
    "together)."
)
st.altair_chart(
    alt.Chart(ui.for_chart(curve))
    .mark_line(point=True)
    .encode(
        x=alt.X("hours_elapsed:Q", title="Hours since the missed call"),
        y=alt.Y("recovery_chance:Q", title="Recovered later", axis=alt.Axis(format="%")),
        tooltip=["hours_elapsed", "waiting_calls", "recovered_calls", "recovery_chance"],
    ),
    width="stretch",
)
