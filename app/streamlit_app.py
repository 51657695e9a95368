"""callshrink's app: `callshrink app` (or `streamlit run app/streamlit_app.py`)."""

import streamlit as st

st.set_page_config(page_title="callshrink", page_icon=":telephone_receiver:", layout="wide")

navigation = st.navigation(
    {
        "Executives": [
            st.Page(
                "views/scorecard.py", title="Scorecard", icon=":material/leaderboard:", default=True
            ),
            st.Page(
                "views/week.py", title="Hours of the week", icon=":material/calendar_view_week:"
            ),
            st.Page("views/answer_rate.py", title="Answer rate", icon=":material/call:"),
            st.Page(
                "views/process_health.py", title="Process health", icon=":material/monitor_heart:"
            ),
            st.Page("views/missed_calls.py", title="Missed calls", icon=":material/phone_missed:"),
            st.Page("views/shrink.py", title="Missed-call shrink", icon=":material/money_off:"),
            st.Page("views/causes.py", title="Why calls are lost", icon=":material/manage_search:"),
            st.Page("views/staffing.py", title="Staffing", icon=":material/groups:"),
            st.Page("views/drift.py", title="Process drift", icon=":material/timeline:"),
        ],
        "Staff": [
            st.Page("views/callbacks.py", title="Call back", icon=":material/phone_callback:"),
        ],
        "Finance": [
            st.Page("views/reconciliation.py", title="Reconciliation", icon=":material/balance:"),
        ],
        "Warehouse": [
            st.Page("views/data_health.py", title="Data health", icon=":material/troubleshoot:"),
        ],
    }
)
navigation.run()
