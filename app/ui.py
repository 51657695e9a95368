"""What the pages share: the sidebar of days and locations, and how figures are written."""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import date, timedelta

import streamlit as st

from app import data

DEFAULT_DAYS = 28


@dataclass(frozen=True)
class Filters:
    """The days and locations a page shows (local days, location ids sorted)."""

    first_day: date
    last_day: date
    location_ids: tuple[str, ...]


def sidebar_filters() -> Filters:
    """The sidebar's days and locations; stops the page with a hint when nothing can be shown.

    Days default to the last four weeks with calls, locations to all of them.
    """
    span = data.call_date_range()
    if span is None:
        st.info("No calls in the warehouse yet: run `callshrink run --landing DIR` first.")
        st.stop()

    all_locations = data.locations()
    names = dict(zip(all_locations["location_id"], all_locations["location_name"], strict=True))
    with st.sidebar:
        first_day, last_day = span
        default_start = max(first_day, last_day - timedelta(days=DEFAULT_DAYS - 1))
        chosen = st.date_input(
            "Days", value=(default_start, last_day), min_value=first_day, max_value=last_day
        )
        picked = st.multiselect(
            "Locations", options=list(names), default=list(names), format_func=names.get
        )

    if not isinstance(chosen, tuple) or len(chosen) != 2 or not picked:
        st.info("Pick a start and end day and at least one location.")
        st.stop()
    start, end = chosen
    return Filters(start, end, tuple(sorted(picked)))


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
    return f"{int(value):,}"
