"""The generator's answer key (callshrink/generate/answer_key.py), read for the tests that
compare what a page, `mf query` or the finance export shows with it.

Everything here comes from the key and the generated reference alone (calls.csv,
attributions.csv, summary.json, defects.json, reference/locations.csv), never from the
warehouse: the key's calls on their location's local day and hour, its revenue records per
month, the cells finance reconciles. The tolerances are those of the tests that compare the
marts with the key (tests/pipeline/test_call_model_answer_key.py).
"""

from __future__ import annotations

import csv
import datetime as dt
import json
import re
from collections import Counter
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from zoneinfo import ZoneInfo

ELIGIBLE = ("answered", "voicemail", "abandoned", "missed")  # answer-rate eligible outcomes
UNKNOWN = "unknown"  # the key's location of a deal no call placed (none in the marts)
ZERO = Decimal("0.00")
# defects.json's rejected revenue lines: the landing folder of each record type
REVENUE_FOLDERS = {
    "pos/square/payments/": "payment",
    "pos/square/refunds/": "refund",
    "crm/hubspot/deals/": "deal",
}


def _read(path: Path) -> list[dict[str, str]]:
    with path.open(newline="", encoding="utf-8") as handle:
        return list(csv.DictReader(handle))


def _time(text: str) -> dt.datetime:
    return dt.datetime.fromisoformat(text.replace("Z", "+00:00"))


@dataclass(frozen=True)
class Key:
    """One generated data set's answer key (``out`` is generate()'s folder)."""

    out: Path

    @property
    def folder(self) -> Path:
        return self.out / "answer_key"

    def table(self, name: str) -> list[dict[str, str]]:
        """One of the key's CSV files, its rows."""
        return _read(self.folder / name)

    def summary(self) -> dict:
        return json.loads((self.folder / "summary.json").read_text())

    def period(self) -> tuple[dt.date, dt.date]:
        """The first and last local day of the key's inbound calls (the simulated days; a
        call late on the last evening may fall on the next local day)."""
        days = [row["day"] for row in self.calls() if row["direction"] == "inbound"]
        return min(days), max(days)

    def locations(self) -> dict[str, dict[str, str]]:
        """reference/locations.csv by location_id."""
        return {row["location_id"]: row for row in _read(self.out / "reference" / "locations.csv")}

    def pbx_of(self) -> dict[str, str]:
        """location_id -> pbx_id (the crosswalk's pbx_queue rows)."""
        return {
            row["location_id"]: row["external_id"].split(":")[0]
            for row in _read(self.out / "reference" / "location_crosswalk.csv")
            if row["system"] == "pbx_queue"
        }

    def calls(self) -> list[dict]:
        """calls.csv, each row with its start (UTC), local start, local day and the id the
        warehouse gives the call (`<pbx_id>:<linkedid>`, else `callrail:<id>`)."""
        zones = {loc: ZoneInfo(row["timezone"]) for loc, row in self.locations().items()}
        pbx_of = self.pbx_of()
        rows = _read(self.folder / "calls.csv")
        for row in rows:
            row["start"] = _time(row["start_utc"])
            row["local"] = row["start"].astimezone(zones[row["location_id"]])
            row["day"] = row["local"].date()
            row["call_id"] = (
                f"{pbx_of[row['location_id']]}:{row['pbx_linkedid']}"
                if row["pbx_linkedid"]
                else f"callrail:{row['callrail_id']}"
            )
        return rows

    def attributions(self) -> list[dict[str, str]]:
        return _read(self.folder / "attributions.csv")

    def daily_revenue(self, month: str) -> dict[tuple[str, str, str], tuple]:
        """Finance's daily tie-out for month YYYY-MM from the key's records: per (location_id,
        "" for a deal no call placed; local date; record type), (records, attributed records,
        source $, attributed $, unattributed $), refunds as positive amounts."""
        cells: dict[tuple[str, str, str], list] = {}
        for row in self.attributions():
            if not row["date"].startswith(month):
                continue
            location = "" if row["location_id"] == UNKNOWN else row["location_id"]
            cell = cells.setdefault(
                (location, row["date"], row["record_type"]), [0, 0, ZERO, ZERO, ZERO]
            )
            amount = Decimal(row["amount_usd"])
            attributed = row["rule"] != "unattributed"
            cell[0] += 1
            cell[1] += attributed
            cell[2] += amount
            cell[3 if attributed else 4] += amount
        return {cell: tuple(figures) for cell, figures in cells.items()}

    def newest_revenue_day(self) -> dt.date:
        return max(dt.date.fromisoformat(row["date"]) for row in self.attributions())

    def rejected_revenue_lines(self, month: str) -> dict[str, list[tuple[str, int]]]:
        """defects.json's revenue lines the loader must reject, of files dated in month
        YYYY-MM, by record type: [(file, line)]."""
        rejected: dict[str, list[tuple[str, int]]] = {}
        for defect in json.loads((self.folder / "defects.json").read_text())["defects"]:
            folder = next((f for f in REVENUE_FOLDERS if defect["file"].startswith(f)), None)
            dated = re.search(r"\d{4}-\d{2}", defect["file"])
            if (
                folder
                and defect["expected"].startswith("reject")
                and dated
                and dated.group(0) == month
            ):
                rejected.setdefault(REVENUE_FOLDERS[folder], []).append(
                    (defect["file"], defect["line"])
                )
        return rejected


def inbound(calls: list[dict], first: dt.date, last: dt.date, locations=None) -> list[dict]:
    """The key's inbound calls on local days first..last (at the locations, if given)."""
    return [
        row
        for row in calls
        if row["direction"] == "inbound"
        and first <= row["day"] <= last
        and (locations is None or row["location_id"] in locations)
    ]


def outcomes(calls: list[dict]) -> Counter:
    return Counter(row["outcome"] for row in calls)


def answer_rate_counts(calls: list[dict]) -> tuple[int, int, int]:
    """(answered, answer-rate eligible, inbound) of inbound key calls."""
    counted = outcomes(calls)
    return counted["answered"], sum(counted[o] for o in ELIGIBLE), len(calls)


WINDOW = dt.timedelta(hours=24)  # var recovery_window_hours
UNANSWERED = ("voicemail", "abandoned", "missed", "short_abandon", "after_hours")
SHRINK_CATEGORIES = {
    "voicemail": "missed_opportunity",
    "abandoned": "missed_opportunity",
    "missed": "missed_opportunity",
    "after_hours": "after_hours",
}


def valued_calls(calls: list[dict]) -> dict[str, list[dict]]:
    """The calls missed-call shrink values (docs/metrics.md, Missed-call shrink), by category:
    unanswered inbound calls that head their chain (no unanswered inbound call from the number
    in the 24 h before) and that nobody reached (no answered call with the number, either
    direction, any location, in the 24 h after)."""
    unanswered: dict[str, list[dt.datetime]] = {}
    connected: dict[str, list[dt.datetime]] = {}
    for row in calls:
        if not row["caller_e164"]:
            continue
        if row["direction"] == "inbound" and row["outcome"] in UNANSWERED:
            unanswered.setdefault(row["caller_e164"], []).append(row["start"])
        if row["outcome"] == "answered":
            connected.setdefault(row["caller_e164"], []).append(row["start"])
    valued: dict[str, list[dict]] = {"missed_opportunity": [], "after_hours": []}
    for row in calls:
        if row["direction"] != "inbound" or row["outcome"] not in SHRINK_CATEGORIES:
            continue
        start, number = row["start"], row["caller_e164"]
        heads = not any(start - WINDOW <= t < start for t in unanswered.get(number, []))
        reached = any(start < t <= start + WINDOW for t in connected.get(number, []))
        if heads and not reached:
            valued[SHRINK_CATEGORIES[row["outcome"]]].append(row)
    return valued


def answer_rate_range(calls: list[dict]) -> tuple[float, float]:
    """The answer rates the warehouse may show for these inbound key calls: answered and each
    other eligible outcome within the counts' bar of the key's count (1 %, rounded down)."""
    counted = outcomes(calls)
    answered, slack_answered = counted["answered"], int(0.01 * counted["answered"])
    others = sum(counted[o] for o in ELIGIBLE if o != "answered")
    slack_others = sum(int(0.01 * counted[o]) for o in ELIGIBLE if o != "answered")
    low = (answered - slack_answered) / (answered - slack_answered + others + slack_others)
    high = (answered + slack_answered) / (answered + slack_answered + others - slack_others)
    return low, high


def conversion_eligible(calls: list[dict]) -> list[dict]:
    """docs/metrics.md, Conversion: answered inbound calls that are no repeat call (no inbound,
    non-spam call from the number in the 24 h before)."""
    earlier: dict[str, list[dt.datetime]] = {}
    for row in calls:
        if row["direction"] == "inbound" and row["outcome"] != "spam" and row["caller_e164"]:
            earlier.setdefault(row["caller_e164"], []).append(row["start"])
    return [
        row
        for row in calls
        if row["direction"] == "inbound"
        and row["outcome"] == "answered"
        and not any(
            row["start"] - WINDOW <= t < row["start"] for t in earlier.get(row["caller_e164"], [])
        )
    ]


def cell_of(row: dict) -> tuple[str, str, str]:
    """A key call's conversion cell (docs/metrics.md, Conversion cells): location, marketing
    source (CallRail's source; `untracked` for a call CallRail did not see) and caller type
    (`unknown` without a number)."""
    if not row["caller_e164"]:
        caller_type = "unknown"
    else:
        caller_type = "new" if row["is_new_caller"] == "true" else "returning"
    return row["location_id"], row["source"] or "untracked", caller_type


CELL_VALUES = (
    "select location_id, marketing_source, caller_type, value_per_eligible_call_usd, "
    "value_per_eligible_call_low_usd, value_per_eligible_call_high_usd "
    "from marts.conversion_cells"
)


@dataclass(frozen=True)
class Shrink:
    """Missed-call shrink worked out from the key's valued calls (valued_calls), each at its
    cell's value per eligible call (marts.conversion_cells: the cell figures, which the dbt
    unit tests of conversion_cells check by hand, are the one input taken from the
    warehouse): the sum, its bounds, and how far a figure may be off when the warehouse
    values other calls within the outcome counts' bar (1 % of the count, rounded down, each
    call worth at most the dearest cell's value)."""

    usd: Decimal
    low_usd: Decimal
    high_usd: Decimal
    calls: int
    slack_usd: Decimal

    def close(self, shown: Decimal, bound: str = "usd") -> bool:
        return abs(shown - getattr(self, bound)) <= self.slack_usd


def shrink_of(rows: list[dict], cells: dict[tuple[str, str, str], tuple]) -> Shrink:
    values = [cells[cell_of(row)] for row in rows]
    dearest = max((value[2] for value in cells.values()), default=ZERO)
    return Shrink(
        usd=sum((v[0] for v in values), ZERO),
        low_usd=sum((v[1] for v in values), ZERO),
        high_usd=sum((v[2] for v in values), ZERO),
        calls=len(rows),
        slack_usd=int(0.01 * len(rows)) * dearest,
    )


def attributed_net(attributions: list[dict], first: dt.date, last: dt.date, locations) -> Decimal:
    """Attributed net revenue (payments - refunds + deals) on revenue dates first..last at the
    locations."""
    net = ZERO
    for row in attributions:
        if (
            row["rule"] != "unattributed"
            and row["location_id"] in locations
            and first.isoformat() <= row["date"] <= last.isoformat()
        ):
            amount = Decimal(row["amount_usd"])
            net += -amount if row["record_type"] == "refund" else amount
    return net


# --- reading what a page shows --------------------------------------------------------------


def shown_count(text: str) -> int:
    return int(text.replace(",", ""))


def shown_percent(text: str) -> float:
    assert text.endswith("%"), text
    return float(text[:-1]) * 0.01


def shown_usd(text: str) -> Decimal:
    negative = text.startswith("-")
    amount = Decimal(text.lstrip("-").lstrip("$").replace(",", ""))
    return -amount if negative else amount


def cell_values(conn) -> dict[tuple[str, str, str], tuple[Decimal, Decimal, Decimal]]:
    """marts.conversion_cells: (location, source, caller type) -> value per eligible call,
    low, high."""
    return {tuple(row[:3]): tuple(row[3:]) for row in conn.execute(CELL_VALUES).fetchall()}


def valued_in(
    calls: list[dict], category: str, first: dt.date, last: dt.date, locations=None
) -> list[dict]:
    """The key's valued calls of the category on local days first..last (at the locations)."""
    return [
        row
        for row in valued_calls(calls)[category]
        if first <= row["day"] <= last and (locations is None or row["location_id"] in locations)
    ]
