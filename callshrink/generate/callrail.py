"""CallRail API v3 ``call`` objects: JSON pages, JSON lines or CSV, by day.

At a PBX location the PBX answers the trunk, so CallRail records every call there as
``answered: true`` / ``call_type: "answered"``; the PBX data tells the real outcome. At the
mobile-only location CallRail's own ``answered`` / ``voicemail`` / ``call_type`` describe the
call in CallRail's terms (``abandoned`` = hung up within 15 s, ``missed`` = unanswered 15 s or
more without voicemail, ``duration`` = the seconds it rang); the answer key's outcome follows
METRICS instead (a hang-up before the mobile's voicemail took the call is abandoned, see
:mod:`.sim`), so a hang-up between 15 s and ``forward_ring_seconds`` is CallRail's ``missed``
but truly ``abandoned``.
"""

from __future__ import annotations

import csv
import json
from pathlib import Path
from typing import Any, TextIO

from callshrink.generate import sim
from callshrink.generate.names import CITY_BY_TZ, person
from callshrink.generate.phones import JUNK_CALLER_IDS, e164
from callshrink.generate.reference import Location
from callshrink.generate.tz import Clock

FIELDS = (
    "id",
    "answered",
    "business_phone_number",
    "customer_city",
    "customer_country",
    "customer_name",
    "customer_phone_number",
    "customer_state",
    "direction",
    "duration",
    "recording",
    "start_time",
    "tracking_phone_number",
    "voicemail",
    "call_type",
    "company_id",
    "company_name",
    "company_time_zone",
    "tracker_id",
    "source",
    "medium",
    "campaign",
    "keywords",
    "landing_page_url",
    "first_call",
    "lead_status",
    "value",
    "tags",
    "agent_email",
    "device_type",
)
PER_PAGE = 250
_MASK = (1 << 128) - 1


def call_id(seed: int, counter: int) -> str:
    x = (counter * 0x9E3779B97F4A7C15F39CC0605CEDC835 + seed * 0x2545F4914F6CDD1D + 1) & _MASK
    x ^= x >> 61
    x = (x * 0xBF58476D1CE4E5B9D6E8FEEB86659FD9) & _MASK
    return f"CAL{x:032x}"


def _type(c: dict, pbx: bool) -> tuple[bool, bool, str, int]:
    """(answered, voicemail, call_type, duration) as CallRail reports the call."""
    lead = int(c["cr_lead"])
    dur = int(sim.end_time_one(c)) - int(c["t"]) + lead
    if c["direction"] == 1:
        picked = c["outcome"] == sim.ANSWERED
        return picked, False, "outbound", int(c["wait"]) + int(c["talk"])
    if pbx:
        return True, False, "answered", dur
    kind = int(c["exit_kind"])
    if kind == sim.EXIT_NONE:
        return True, False, "answered", dur
    if kind in (sim.EXIT_TIMEOUT_VM, sim.EXIT_KEY_VM, sim.EXIT_AFTER_VM):
        return False, True, "voicemail", dur
    wait = int(c["wait"])
    if kind == sim.EXIT_ABANDON and wait < 15:
        return False, False, "abandoned", wait
    return False, False, "missed", wait


def call_object(c: dict, loc: Location, tz: Clock, cid: str, first_call: bool) -> dict[str, Any]:
    pbx = loc.pbx is not None
    answered, voicemail, call_type, duration = _type(c, pbx)
    outbound = c["direction"] == 1
    tracker = loc.trackers[int(c["tracker"])]
    city, state = CITY_BY_TZ.get(loc.timezone, ("", ""))
    if c["spam"]:
        name, tags, lead_status = "SPAM LIKELY", ["spam"], "not_a_lead"
    else:
        first, last = person(int(c["caller"]))
        name = f"{first} {last}"
        tags = ["follow-up"] if c["origin"] == sim.FOLLOW_UP else []
        lead_status = "good_lead" if answered and c["would_buy"] else None
    start = int(c["t"]) - int(c["cr_lead"])
    return {
        "id": cid,
        "answered": answered,
        "business_phone_number": loc.business_number,
        "customer_city": city,
        "customer_country": "US",
        "customer_name": name,
        "customer_phone_number": _caller_id(c),
        "customer_state": state,
        "direction": "outbound" if outbound else "inbound",
        "duration": duration,
        "recording": None,
        "start_time": tz.iso(start),
        "tracking_phone_number": loc.tracking_numbers[int(c["tracker"])],
        "voicemail": voicemail,
        "call_type": call_type,
        "company_id": loc.company_id,
        "company_name": loc.name,
        "company_time_zone": loc.timezone,
        "tracker_id": loc.tracker_ids[int(c["tracker"])],
        "source": "Outbound" if outbound else tracker.source,
        "medium": None if outbound else tracker.medium,
        "campaign": None if outbound else tracker.campaign,
        "keywords": None if outbound else tracker.keywords,
        "landing_page_url": None if outbound else tracker.landing_page_url,
        "first_call": first_call,
        "lead_status": lead_status,
        "value": None,
        "tags": tags,
        "agent_email": f"owner@{loc.location_id}.example.com" if answered and not pbx else None,
        "device_type": "mobile" if int(c["phone"]) % 3 else "desktop",
    }


def _caller_id(c: dict) -> str | None:
    """The caller as CallRail shows it: E.164, or a withheld caller id as the carrier sent it
    (``anonymous``, ``Restricted``, junk digits; nothing at all as null)."""
    if c["junk"] >= 0:
        return JUNK_CALLER_IDS[int(c["junk"])] or None
    return e164(int(c["phone"]))


class DayFile:
    """Streams one day's CallRail calls as JSON pages, JSON lines or CSV."""

    def __init__(self, folder: Path, stem: str, fmt: str, total: int) -> None:
        self.folder, self.stem, self.fmt, self.total = folder, stem, fmt, total
        self.pages = max(1, -(-total // PER_PAGE))
        self.page: list[dict[str, Any]] = []
        self.page_no = 0
        self.files = 0
        self.fh: TextIO | None = None
        folder.mkdir(parents=True, exist_ok=True)
        if fmt in ("jsonl", "csv"):
            self.fh = (folder / f"{stem}.{fmt}").open("w", encoding="utf-8", newline="")
            self.files = 1
            if fmt == "csv":
                self.csv = csv.writer(self.fh, lineterminator="\n")
                self.csv.writerow(FIELDS)

    def add(self, objects: list[dict[str, Any]]) -> None:
        if self.fmt == "jsonl":
            assert self.fh is not None
            self.fh.write("".join(json.dumps(o, separators=(",", ":")) + "\n" for o in objects))
        elif self.fmt == "csv":
            self.csv.writerows([csv_value(o[f]) for f in FIELDS] for o in objects)
        else:
            for o in objects:
                self.page.append(o)
                if len(self.page) == PER_PAGE:
                    self._write_page()

    def _write_page(self) -> None:
        self.page_no += 1
        doc = {
            "page": self.page_no,
            "per_page": PER_PAGE,
            "total_pages": self.pages,
            "total_records": self.total,
            "calls": self.page,
        }
        path = self.folder / f"{self.stem}_p{self.page_no}.json"
        path.write_text(json.dumps(doc) + "\n", encoding="utf-8")
        self.files += 1
        self.page = []

    def close(self) -> int:
        """Finish the day; return the number of files written."""
        if self.fmt == "json" and (self.page or self.page_no == 0):
            self._write_page()
        if self.fh is not None:
            self.fh.close()
        return self.files


def csv_value(value: Any) -> str:
    """A CallRail field as its CSV export writes it (lists comma-joined, booleans in lower case)."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, list):
        return ",".join(value)
    return str(value)
