"""What the pages share: the sidebar of days and locations, and how figures are written."""

from __future__ import annotations

import math
from datetime import date, timedelta
from decimal import ROUND_HALF_UP, Decimal

import altair as alt
import pandas as pd
import streamlit as st

from app import data
from callshrink.semantic import Period

DEFAULT_DAYS = 28


# The filters live in the URL (?from=2026-03-01&to=2026-03-28&locations=loc_01,loc_02), so a
# view can be shared, and in the session, so they hold from page to page. A widget's own state
# is dropped when a page does not draw it, so the choice is kept under KEPT_KEY (no widget's)
# and given back to the widgets on every page.
KEPT_KEY = "callshrink_filters"
DAYS_WIDGET, LOCATIONS_WIDGET = "filter_days", "filter_locations"


def _keep() -> None:
    st.session_state[KEPT_KEY] = (
        tuple(st.session_state[DAYS_WIDGET]),
        list(st.session_state[LOCATIONS_WIDGET]),
    )


def _from_url(first_day: date, last_day: date, names: dict[str, str]) -> tuple | None:
    """The days and locations the URL names, when they are valid for this warehouse."""
    params = st.query_params
    try:
        start = date.fromisoformat(params["from"])
        end = date.fromisoformat(params["to"])
    except (KeyError, ValueError):
        return None
    if not first_day <= start <= end <= last_day:
        return None
    picked = [i for i in params.get("locations", "").split(",") if i in names]
    return (start, end), picked or list(names)


def sidebar_filters() -> Period:
    """The sidebar's days and locations; stops the page with a hint when nothing can be shown.

    They come from the session (the last page's), else the URL, else the last four weeks with
    calls and every location; the URL is kept in step with them.
    """
    span = data.call_date_range()
    if span is None:
        st.info("No calls in the warehouse yet: run `callshrink run --landing DIR` first.")
        st.stop()

    all_locations = data.locations()
    names = dict(zip(all_locations["location_id"], all_locations["location_name"], strict=True))
    first_day, last_day = span
    kept = st.session_state.get(KEPT_KEY) or _from_url(first_day, last_day, names)
    if kept is None:
        kept = (
            (max(first_day, last_day - timedelta(days=DEFAULT_DAYS - 1)), last_day),
            list(names),
        )
    days, locations = kept
    st.session_state[DAYS_WIDGET] = tuple(min(max(day, first_day), last_day) for day in days)
    st.session_state[LOCATIONS_WIDGET] = [i for i in locations if i in names]
    with st.sidebar:
        chosen = st.date_input(
            "Days", min_value=first_day, max_value=last_day, key=DAYS_WIDGET, on_change=_keep
        )
        picked = st.multiselect(
            "Locations",
            options=list(names),
            format_func=names.get,
            key=LOCATIONS_WIDGET,
            on_change=_keep,
        )
    _keep()

    if not isinstance(chosen, tuple) or len(chosen) != 2 or not picked:
        st.info("Pick a start and end day and at least one location.")
        st.stop()
    start, end = chosen
    filters = Period(start, end, tuple(sorted(picked)))
    st.query_params.update(
        {
            "from": start.isoformat(),
            "to": end.isoformat(),
            "locations": ",".join(filters.location_ids),
        }
    )
    return filters


WEEKDAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")  # ISO weekday 1..7


def weekday_name(iso_weekday: object) -> str:
    return WEEKDAYS[int(iso_weekday) - 1]


def hour_label(hour: object) -> str:
    return f"{int(hour):02d}:00"


# What the pages show for the warehouse's codes (docs/metrics.md defines each).
LABELS: dict[str, dict[str | None, str]] = {
    "outcome": {
        "answered": "Answered",
        "voicemail": "Voicemail",
        "abandoned": "Abandoned",
        "missed": "Missed (rang out)",
        "short_abandon": "Short abandon",
        "after_hours": "After hours",
        "spam": "Spam",
        None: "No outcome",
    },
    "recovered_by": {"callback": "Callback", "retry": "Caller retried", None: ""},
    "caller_type": {"new": "New", "returning": "Returning", "unknown": "Unknown", None: "Unknown"},
    "cause": {
        "after_hours": "After hours",
        "nobody_staffed": "Nobody on the phones",
        "all_busy": "All agents busy",
        "rang_no_answer": "Rang, nobody picked up",
        "long_wait": "Long wait",
        "no_callback": "No callback",
        None: "Unknown",
    },
    "fallback_level": {
        "location": "Location",
        "region": "Region",
        "system_source": "All locations, same source",
        "system": "All locations",
        None: "n/a",
    },
}


def label(kind: str, code: str | None) -> str:
    """The label of a code; a code the table does not know is shown as it is."""
    if code is not None and not isinstance(code, str) and _missing(code):
        code = None
    return LABELS[kind].get(code, code)


def labelled(frame: pd.DataFrame, *kinds: str) -> pd.DataFrame:
    """A copy with these code columns shown as their labels."""
    frame = frame.copy()
    for kind in kinds:
        frame[kind] = [label(kind, code) for code in frame[kind]]
    return frame


def _missing(value: object) -> bool:
    if value is None:
        return True
    try:
        return math.isnan(float(value))  # NaN and pandas' NA
    except TypeError:
        return True


def percent(value: object) -> str:
    """0.8123 -> "81.2%"; "n/a" when the rate has no denominator."""
    return "n/a" if _missing(value) else f"{float(value):.1%}"


def number(value: object, digits: int = 2, unit: str = "") -> str:
    """A mean or median: 2.345 -> "2.35", with a unit when given ("21.6 s")."""
    if _missing(value):
        return "n/a"
    return f"{float(value):,.{digits}f}" + (f" {unit}" if unit else "")


def count(value: object) -> str:
    return "n/a" if _missing(value) else f"{int(value):,}"


CENT = Decimal("0.01")


def _cents(value: Decimal | int) -> Decimal:
    """Money rounded half-up to the cent, from the Decimal itself; a float is refused, since it
    may already have lost a cent."""
    if isinstance(value, float):
        raise TypeError("money is formatted from Decimal, not float")
    return Decimal(value).quantize(CENT, rounding=ROUND_HALF_UP)


def dollars(value: Decimal | int | None) -> str:
    """Exact money: Decimal("1234567.8") -> "$1,234,567.80", negative as "-$12.00"."""
    if value is None:
        return "n/a"
    cents = _cents(value)
    return f"{'-' if cents < 0 else ''}${abs(cents):,.2f}"


def amount(value: Decimal | None) -> float | None:
    """Money for a table's number column (it sorts, and its CSV holds the number): rounded to
    the cent as a Decimal first, so the float shows the cent the Decimal holds."""
    if value is None or _missing(value):
        return None
    return float(_cents(value))


def money_columns(*labels: str) -> dict:
    """column_config for money columns: numbers shown as dollars and cents."""
    return {label: st.column_config.NumberColumn(label, format="dollar") for label in labels}


def dollar_range(low: Decimal | None, high: Decimal | None) -> str:
    """ "$1,200.00 – $3,400.50" """
    return f"{dollars(low)} – {dollars(high)}"


def answer_rate_color() -> alt.Color:
    """A heatmap's colour for the answer rate: red at 0 %, green at 100 %."""
    return alt.Color(
        "answer_rate:Q",
        title="Answer rate",
        legend=alt.Legend(format="%"),
        scale=alt.Scale(scheme="redyellowgreen", domain=[0, 1]),
    )


def for_chart(frame: pd.DataFrame) -> pd.DataFrame:
    """A copy for Vega-Lite: Decimal columns as floats (charts draw, they do not add up money;
    the figures shown as text are formatted from the Decimals)."""
    frame = frame.copy()
    for column in frame.columns:
        values = frame[column].dropna()
        if len(values) and isinstance(values.iloc[0], Decimal):
            frame[column] = frame[column].map(lambda v: None if v is None else float(v))
            frame[column] = frame[column].astype("float64")
    return frame


def percent_range(low: object, high: object) -> str:
    """ "12.3% – 18.1%" """
    return f"{percent(low)} – {percent(high)}"


CELL_MONEY = ("Avg converted value", "Value per call", "Missed-call shrink", "After-hours shrink")


def cell_table(cells: pd.DataFrame) -> pd.DataFrame:
    """data.shrink_cells for reading: money as numbers rounded to the cent from the Decimals
    (CELL_MONEY: shown as dollars), rates as percentages, intervals as text."""

    def each(column: str, format_one) -> list[str]:
        return [format_one(value) for value in cells[column]]

    def each_range(low: str, high: str, format_range) -> list[str]:
        return [format_range(a, b) for a, b in zip(cells[low], cells[high], strict=True)]

    return pd.DataFrame(
        {
            "Cell": [
                f"{location or '?'} · {source} · {label('caller_type', caller_type)}"
                for location, source, caller_type in zip(
                    cells["location_name"],
                    cells["marketing_source"],
                    cells["caller_type"],
                    strict=True,
                )
            ],
            "Fallback level": [label("fallback_level", level) for level in cells["fallback_level"]],
            "Calls": cells["eligible_calls"].astype("Int64"),
            "Converted": cells["converted_calls"].astype("Int64"),
            "Rate": each("conversion_rate", percent),
            "Rate, 95 %": each_range("conversion_rate_low", "conversion_rate_high", percent_range),
            "Avg converted value": each("average_converted_value_usd", amount),
            "Value, 95 %": each_range(
                "average_converted_value_low_usd", "average_converted_value_high_usd", dollar_range
            ),
            "Value per call": each("value_per_eligible_call_usd", amount),
            "Value per call, 95 %": each_range(
                "value_per_eligible_call_low_usd", "value_per_eligible_call_high_usd", dollar_range
            ),
            "Missed opportunities valued": cells["valued_missed_opportunities"].astype("Int64"),
            "Missed-call shrink": each("missed_call_shrink_usd", amount),
            "After-hours calls valued": cells["valued_after_hours_calls"].astype("Int64"),
            "After-hours shrink": each("after_hours_shrink_usd", amount),
        }
    )


# --- tiles: a figure and its change against the previous period ------------------------------

FORMATS = {
    "percent": percent,
    "count": count,
    "dollars": dollars,
    "number": number,
    "seconds": lambda value: number(value, 1, "s"),
    "minutes": lambda value: number(value, 1, "min"),
}
UNITS = {"seconds": "s", "minutes": "min"}


def difference(current: object, previous: object, kind: str):
    """`current` less `previous`: rates in percentage points (0.81 - 0.78 -> 3.0), money as
    Decimal cents, counts as int; None when either has no figure."""
    if _missing(current) or _missing(previous):
        return None
    if kind == "dollars":
        return _cents(Decimal(current)) - _cents(Decimal(previous))
    value = float(current) - float(previous)
    if kind == "percent":
        return value * 100
    return round(value) if kind == "count" else value


def change(current: object, previous: object, kind: str) -> str | None:
    """The change from `previous` to `current` as a tile's delta ("+3.0 pp", "-$120.00")."""
    value = difference(current, previous, kind)
    if value is None:
        return None
    if kind == "dollars":
        return f"{'-' if value < 0 else '+'}{dollars(abs(value))}"
    if kind == "percent":
        return f"{value:+.1f} pp"
    if kind in UNITS:
        return f"{value:+,.1f} {UNITS[kind]}"
    return f"{value:+,}" if kind == "count" else f"{value:+,.2f}"


# column_config for the change columns of a table (difference() values).
CHANGE_FORMATS = {
    "percent": "%+.1f pp",
    "count": "%+d",
    "dollars": "dollar",
    "number": "%+.2f",
    "seconds": "%+.1f s",
    "minutes": "%+.1f min",
}


def change_column(label: str, kind: str):
    return st.column_config.NumberColumn(label, format=CHANGE_FORMATS[kind])


def download(table: pd.DataFrame | str, file_name: str, label: str = "Download (CSV)") -> None:
    """A button offering the table (or CSV text made from one) as CSV, numbers as numbers."""
    st.download_button(
        label,
        data=table if isinstance(table, str) else table.to_csv(index=False),
        file_name=file_name,
        mime="text/csv",
        on_click="ignore",
        key=f"download_{file_name}",
    )


def versus(period: Period) -> str:
    """What a tile's change compares with: the previous period of equal length."""
    before = period.previous()
    text = (
        f"Change against {before.first_day:%b %-d} – {before.last_day:%b %-d, %Y} "
        f"({before.days} days)."
    )
    span = data.call_date_range()
    if span is not None and before.first_day < span[0]:
        held = max((before.last_day - span[0]).days + 1, 0)
        text += f" The warehouse holds {held} of its days, so the change is partly growth of data."
    return text


def tile(
    where,
    label: str,
    current: object,
    previous: object,
    period: Period,
    kind: str = "count",
    *,
    better: str = "higher",
    help: str = "",
) -> None:
    """st.metric with the figure, its change against the previous period (green when it moved
    the better way: better="higher" or "lower") and what the change compares with."""
    where.metric(
        label,
        FORMATS[kind](current),
        delta=change(current, previous, kind),
        delta_color="normal" if better == "higher" else "inverse",
        help=" ".join(part for part in (help, versus(period)) if part),
    )
