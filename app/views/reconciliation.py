"""Finance page: a month's revenue reconciliation (source = attributed + unattributed, to the
cent, for payments, refunds and deals apart), the CSVs finance exports, and the closed months
whose figures changed after closing."""

from datetime import datetime, timedelta
from decimal import Decimal

import altair as alt
import pandas as pd
import streamlit as st

from app import data, ui
from callshrink import semantic
from callshrink.finance import FinanceError, parse_month
from callshrink.semantic import Period

RECORD_LABELS = {"payment": "Payments", "refund": "Refunds", "deal": "Deals"}
NO_LOCATION = "(no call placed)"
close_days = data.dbt_var("month_close_days")

st.title("Reconciliation")
st.caption(
    "Every completed Square payment and refund and every closed-won HubSpot deal of the month, "
    "by local day: source revenue = attributed to a call + unattributed, to the cent, for each "
    "record type apart. Refunds are positive amounts here: net revenue = payments − refunds + "
    "deals. Deals no call placed have no location. The figures and the CSVs are those of "
    "`callshrink export finance`."
)

months = data.revenue_months()
if not months:
    st.info("No revenue in the warehouse yet: run `callshrink run --landing DIR` first.")
    st.stop()


closed_months = set(data.closed_months())
# Finance reconciles closed months: the page opens on the newest one (months are newest first).
opening = next((i for i, month in enumerate(months) if month in closed_months), 0)


def _month_name(month: str) -> str:
    return f"{parse_month(month).first_day:%B %Y}"


def _month_label(month: str) -> str:
    return f"{_month_name(month)} ({'closed' if month in closed_months else 'open'})"


all_locations = data.locations()
names = dict(zip(all_locations["location_id"], all_locations["location_name"], strict=True))
UNPLACED = semantic.NO_LOCATION  # the picker's stand-in for deals no call placed
places = {**names, UNPLACED: NO_LOCATION}

with st.sidebar:
    month = st.selectbox(
        "Month",
        options=months,
        index=opening,
        format_func=_month_label,
        key="finance_month",
        help=f"A month closes {close_days} days after its last day; later changes to it are "
        "restatements. The page opens on the newest closed month.",
    )
    picked = st.multiselect(
        "Locations",
        options=list(places),
        default=list(places),
        format_func=places.get,
        key="finance_locations",
        help="Narrows the tiles, the chart and the tables; the CSVs are the whole month's.",
    )
if not picked:
    st.info("Pick at least one location.")
    st.stop()

try:
    tie_out = data.daily_tie_out(month)
except FinanceError as error:  # the month emptied since the list was read
    st.info(str(error))
    st.stop()

first_day = parse_month(month).first_day
next_month = (first_day + timedelta(days=32)).replace(day=1)
the_month = Period(first_day, next_month - timedelta(days=1), tuple(sorted(picked)))
days = tie_out[tie_out["row_type"] == "day"]
days = days[days["location_id"].fillna(UNPLACED).isin(picked)]
by_type = data.figures(data.REVENUE_BY_RECORD_TYPE, the_month).set_index("record_type")
net = data.totals(data.NET_REVENUE, the_month)


def _total(record_type: str, metric: str):
    """A figure of the record type's row of revenue_by_record_type (0: none in the month)."""
    if record_type not in by_type.index:
        return 0
    return by_type.loc[record_type, metric]


left_out = data.left_out_records(month)


def _download(where, label: str, level: str, what: str) -> None:
    """A download of the month's finance export at `level`, the file the CLI writes."""
    option = "" if level == "daily" else f" --level {level}"
    where.download_button(
        label,
        data=data.finance_csv(month, level),
        file_name=f"finance_{month}_{level}.csv",
        mime="text/csv",
        on_click="ignore",
        help=f"`callshrink export finance --month {month}{option}`: {what}",
    )


left_out_counts = left_out["record_type"].value_counts()


def tie_out_status(difference: Decimal) -> str:
    """The metric revenue_tie_out_difference_usd in words."""
    return "ties out" if difference == 0 else f"off by {ui.dollars(difference)}"


def _records(number: int) -> str:
    return f"{number:,} record{'' if number == 1 else 's'}"


st.subheader(f"{_month_label(month)} at a glance")
st.caption(
    "Refunds are negative here: they subtract from net revenue. The daily tie-out and the CSVs "
    "list them as positive amounts of record type refund, as `callshrink export finance` "
    "writes them."
)
PARTS = {  # part: (money metric, records metric)
    "source": ("revenue_source_usd", "revenue_records"),
    "attributed": ("revenue_attributed_usd", "attributed_revenue_records"),
    "unattributed": ("revenue_unattributed_usd", "unattributed_revenue_records"),
}
tiles = st.columns(4)
for column, (record_type, label) in zip(tiles, RECORD_LABELS.items(), strict=False):
    with column:
        for part, (money, records) in PARTS.items():
            st.metric(
                f"{label}: {part}",
                ui.dollars(_total(record_type, money)),
                delta=_records(int(_total(record_type, records))),
                delta_color="off",
                delta_arrow="off",
            )
        left_out_here = int(left_out_counts.get(record_type, 0))
        st.metric(
            f"{label}: tie-out",
            tie_out_status(_total(record_type, "revenue_tie_out_difference_usd")),
            delta=f"{_records(left_out_here)} left out" if left_out_here else None,
            delta_color="off",
            delta_arrow="off",
            help="Source = attributed + unattributed, to the cent, over the records the "
            "warehouse holds; records the loader kept in quarantine are left out (listed "
            "below).",
        )

with tiles[3]:
    for part, (money, _) in PARTS.items():
        st.metric(
            f"Net revenue: {part}",
            ui.dollars(net.get(money, 0)),
            help="Payments − refunds + deals." if part == "source" else None,
        )
    st.metric(
        "Net revenue: attributed share",
        ui.percent(net.get("attributed_revenue_share")),
        help="Net attributed ÷ net source.",
    )

if len(left_out):
    st.warning(
        f"{_records(len(left_out))} of this month's source files could not be loaded and are "
        "in none of these figures (the whole month's, whatever locations are picked): correct "
        "and deliver them again, then run. `callshrink quarantine` lists every line."
    )
    st.dataframe(
        left_out,
        hide_index=True,
        column_config={
            "record_type": "Record",
            "record_id": "Id",
            "record_month": st.column_config.DateColumn("Month", format="YYYY-MM"),
            "amount": st.column_config.NumberColumn("Amount", format="%.2f"),
            "currency": "Currency",
            "source_file": "File",
            "line_number": st.column_config.NumberColumn("Line"),
            "reason": "Why it was left out",
        },
    )
    _download(
        st,
        "Download the records left out (CSV)",
        "left_out",
        "the records above with their file, line and reason.",
    )

# --- by day -----------------------------------------------------------------------------------

st.subheader("Attributed and unattributed by day")
STATUS = {"revenue_attributed_usd": "Attributed", "revenue_unattributed_usd": "Unattributed"}
by_day = data.figures(data.REVENUE_BY_DAY, the_month).melt(
    id_vars=["day", "record_type"],
    value_vars=list(STATUS),
    var_name="status",
    value_name="amount_usd",
)
by_day["status"] = by_day["status"].map(STATUS)
by_day = ui.for_chart(by_day)
status_color = alt.Color(
    "status:N",
    title=None,
    sort=list(STATUS.values()),
    scale=alt.Scale(domain=list(STATUS.values()), range=["#2a9d8f", "#e9c46a"]),
)
chart_columns = st.columns(3)
for column, (record_type, label) in zip(chart_columns, RECORD_LABELS.items(), strict=True):
    column.markdown(f"**{label}**")
    column.altair_chart(
        alt.Chart(by_day[by_day["record_type"] == record_type])
        .mark_bar()
        .encode(
            x=alt.X("day:T", title=None, timeUnit="utcyearmonthdate"),
            y=alt.Y("amount_usd:Q", stack="zero", axis=alt.Axis(format="$,.0f", title=None)),
            color=status_color,
            order=alt.Order("status_order:Q"),
            tooltip=[
                alt.Tooltip("day:T", title="Day", timeUnit="utcyearmonthdate"),
                "status:N",
                alt.Tooltip("amount_usd:Q", title="Amount", format="$,.2f"),
            ],
        )
        .transform_calculate(status_order=f"indexof({list(STATUS.values())}, datum.status)"),
        width="stretch",
    )

# --- the tie-out table --------------------------------------------------------------------------


st.subheader("Totals")
TIE_OUT_MONEY = ui.money_columns("Source", "Attributed", "Unattributed")
kinds = [kind for kind in RECORD_LABELS if kind in by_type.index]
st.dataframe(
    pd.DataFrame(
        {
            "Record type": [RECORD_LABELS[kind] for kind in kinds],
            "Records": [int(_total(kind, "revenue_records")) for kind in kinds],
            "Attributed records": [
                int(_total(kind, "attributed_revenue_records")) for kind in kinds
            ],
            **{
                part.capitalize(): [ui.amount(_total(kind, money)) for kind in kinds]
                for part, (money, _) in PARTS.items()
            },
            "Tie-out": [
                tie_out_status(_total(kind, "revenue_tie_out_difference_usd")) for kind in kinds
            ],
        }
    ),
    column_config=TIE_OUT_MONEY,
    hide_index=True,
    width="stretch",
)

st.subheader("Daily tie-out")
st.caption(
    f"{len(days):,} rows of marts.revenue_reconciliation: per location, local day and record "
    "type (the UTC day for deals no call placed); refunds as positive amounts."
)
st.dataframe(
    pd.DataFrame(
        {
            "Location": [
                NO_LOCATION if location is None else names.get(location, location)
                for location in days["location_id"]
            ],
            "Day": list(days["revenue_date"]),
            "Record type": [RECORD_LABELS[kind] for kind in days["record_type"]],
            "Records": days["source_records"].astype("Int64").to_numpy(),
            "Attributed records": days["attributed_records"].astype("Int64").to_numpy(),
            "Source": [ui.amount(value) for value in days["source_usd"]],
            "Attributed": [ui.amount(value) for value in days["attributed_usd"]],
            "Unattributed": [ui.amount(value) for value in days["unattributed_usd"]],
        }
    ),
    column_config=TIE_OUT_MONEY,
    hide_index=True,
    width="stretch",
)

downloads = st.columns(2)
_download(
    downloads[0],
    "Download the daily tie-out (CSV)",
    "daily",
    "the rows above, then a total per record type.",
)
_download(
    downloads[1],
    "Download every record (CSV)",
    "records",
    "every revenue record with its attribution rule, call and source file and line.",
)

# --- restatements -------------------------------------------------------------------------------

st.subheader("Restatements")
everywhere = data.restatements()
st.caption(
    f"A month closes once the warehouse holds revenue {close_days} days past its last day; "
    "each later change to a closed month's figures (late data) is a row here, with the "
    "figures as closed and as now. "
    f"{len(closed_months):,} month{'' if len(closed_months) == 1 else 's'} closed; "
    f"{len(everywhere):,} restated row{'' if len(everywhere) == 1 else 's'} across "
    f"{everywhere['revenue_month'].nunique() if len(everywhere) else 0:,} of them."
)
if month not in closed_months:
    st.info(
        f"{_month_name(month)} is open: it closes once the warehouse holds revenue of "
        f"{data.closes_on(month):%Y-%m-%d}."
    )
restated = data.restatements(month)
if restated.empty:
    if everywhere.empty:
        st.success("No closed month changed after closing.")
    elif month in closed_months:
        st.success(f"{_month_name(month)} has not changed since it closed.")
else:
    RESTATED_MONEY = [
        (what, when, column)
        for what, prefix in (
            ("Source", "source"),
            ("Attributed", "attributed"),
            ("Unattributed", "unattributed"),
        )
        for when, column in (
            ("closed", f"closed_{prefix}_usd"),
            ("now", f"current_{prefix}_usd"),
            ("change", f"{prefix}_usd_change"),
        )
    ]

    def _when(value: datetime | None) -> str:
        return "" if value is None or pd.isna(value) else f"{value:%Y-%m-%d %H:%M}"

    st.dataframe(
        pd.DataFrame(
            {
                "Location": [
                    NO_LOCATION if location_id is None else (name or location_id)
                    for location_id, name in zip(
                        restated["location_id"], restated["location_name"], strict=True
                    )
                ],
                "Record type": [RECORD_LABELS[kind] for kind in restated["record_type"]],
                "Closed at": [_when(value) for value in restated["closed_at"]],
                "Restated at": [_when(value) for value in restated["restated_at"]],
                "Changes": restated["restatements"].astype("Int64").to_numpy(),
                "Records, closed": restated["closed_source_records"].astype("Int64").to_numpy(),
                "Records, now": restated["current_source_records"].astype("Int64").to_numpy(),
                **{
                    f"{what}, {when}": [ui.amount(value) for value in restated[column]]
                    for what, when, column in RESTATED_MONEY
                },
            }
        ),
        column_config=ui.money_columns(*(f"{what}, {when}" for what, when, _ in RESTATED_MONEY)),
        hide_index=True,
        width="stretch",
    )
