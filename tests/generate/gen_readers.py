"""Independent readers of the generated landing folder, used to recount the answer key.

They follow SOURCES.md and METRICS.md directly (not the generator's code), so a test that
compares their counts with the answer key checks the files, not the generator's bookkeeping.
"""

from __future__ import annotations

import csv
import datetime as dt
import json
import re
from collections import Counter, defaultdict
from dataclasses import dataclass
from pathlib import Path
from zoneinfo import ZoneInfo

CDR_COLUMNS = (
    "accountcode",
    "src",
    "dst",
    "dcontext",
    "clid",
    "channel",
    "dstchannel",
    "lastapp",
    "lastdata",
    "start",
    "answer",
    "end",
    "duration",
    "billsec",
    "disposition",
    "amaflags",
    "uniqueid",
    "userfield",
    "peeraccount",
    "linkedid",
    "sequence",
)
QUEUE_EVENTS = {
    "ENTERQUEUE",
    "CONNECT",
    "COMPLETEAGENT",
    "COMPLETECALLER",
    "ABANDON",
    "EXITEMPTY",
    "EXITWITHTIMEOUT",
    "EXITWITHKEY",
    "RINGNOANSWER",
    "RINGCANCELED",
    "TRANSFER",
    "BLINDTRANSFER",
    "ATTENDEDTRANSFER",
    "DID",
    "AGENTLOGIN",
    "AGENTLOGOFF",
    "ADDMEMBER",
    "REMOVEMEMBER",
    "PAUSE",
    "UNPAUSE",
    "PAUSEALL",
    "UNPAUSEALL",
    "CONFIGRELOAD",
    "QUEUESTART",
}


def e164(text: str | None) -> str | None:
    """US numbers to E.164 (extensions dropped); None for anything else."""
    if not text:
        return None
    main = re.split(r"(?i)\s*(?:ext\.?|x)\s*\d+$", text.strip())[0]
    digits = re.sub(r"\D", "", main)
    if main.strip().startswith("+") and not digits.startswith("1"):
        return None
    if len(digits) == 10:
        return "+1" + digits
    if len(digits) == 11 and digits.startswith("1"):
        return "+" + digits
    return None


def read_csv(path: Path) -> list[dict[str, str]]:
    with path.open(newline="", encoding="utf-8") as fh:
        return list(csv.DictReader(fh))


@dataclass
class Reference:
    locations: dict[str, dict[str, str]]
    crosswalk: dict[tuple[str, str], str]
    hours: dict[tuple[str, int], tuple[str, str]]
    pbx_tz: dict[str, str]

    @classmethod
    def load(cls, folder: Path) -> Reference:
        return cls(
            {r["location_id"]: r for r in read_csv(folder / "locations.csv")},
            {
                (r["system"], r["external_id"]): r["location_id"]
                for r in read_csv(folder / "location_crosswalk.csv")
            },
            {
                (r["location_id"], int(r["iso_weekday"])): (r["opens_at"], r["closes_at"])
                for r in read_csv(folder / "business_hours.csv")
            },
            {r["pbx_id"]: r["timezone"] for r in read_csv(folder / "pbx_systems.csv")},
        )

    def is_open(self, location_id: str, at: dt.datetime) -> bool:
        local = at.astimezone(ZoneInfo(self.locations[location_id]["timezone"]))
        hours = self.hours.get((location_id, local.isoweekday()))
        if hours is None:
            return False
        return hours[0] <= local.strftime("%H:%M") < hours[1]


def callrail_records(landing: Path) -> list[dict]:
    out: list[dict] = []
    for path in sorted((landing / "tracking" / "callrail").iterdir()):
        if path.suffix == ".json":
            out.extend(json.loads(path.read_text())["calls"])
        elif path.suffix == ".jsonl":
            out.extend(json.loads(line) for line in path.read_text().splitlines())
        elif path.suffix == ".csv":
            for row in read_csv(path):
                row["tags"] = [t for t in row["tags"].split(",") if t]
                for key in ("answered", "voicemail", "first_call"):
                    row[key] = row[key] == "true"
                row["duration"] = int(row["duration"]) if row["duration"] else None
                out.append(row)
    return out


def cdr_rows(landing: Path) -> dict[str, list[dict[str, str]]]:
    out: dict[str, list[dict[str, str]]] = {}
    for pbx in sorted((landing / "pbx").iterdir()):
        rows = []
        for path in sorted((pbx / "cdr").iterdir()):
            with path.open(newline="", encoding="utf-8") as fh:
                rows.extend(dict(zip(CDR_COLUMNS, r, strict=True)) for r in csv.reader(fh))
        out[pbx.name] = rows
    return out


def queue_events(landing: Path) -> dict[str, list[list[str]]]:
    out: dict[str, list[list[str]]] = {}
    for pbx in sorted((landing / "pbx").iterdir()):
        lines = []
        for path in sorted((pbx / "queue_log").iterdir()):
            lines.extend(line.split("|") for line in path.read_text().splitlines())
        out[pbx.name] = lines
    return out


def _pbx_time(text: str, tz: str) -> dt.datetime:
    return dt.datetime.strptime(text, "%Y-%m-%d %H:%M:%S").replace(tzinfo=ZoneInfo(tz))


def _junk(src: str) -> bool:
    return len(re.sub(r"\D", "", src)) < 10


@dataclass
class FileCall:
    """One call as the landing files show it."""

    location_id: str
    direction: str
    caller: str | None  # E.164, None for junk caller ids
    start: dt.datetime
    outcome: str  # METRICS outcome for inbound; answered / no_answer for outbound


def _callrail_outcome(ref: Reference, loc: str, r: dict) -> str:
    start = dt.datetime.fromisoformat(r["start_time"])
    if "spam" in r["tags"]:
        return "spam"
    if not ref.is_open(loc, start):
        return "after_hours"
    if r["call_type"] == "answered":
        return "answered"
    if r["call_type"] == "voicemail":
        return "voicemail"
    if r["call_type"] == "abandoned":
        return "short_abandon" if (r["duration"] or 0) < 10 else "abandoned"
    return "missed"


def read_calls(out: Path) -> list[FileCall]:
    """Every call, stitched: the PBX is the truth at PBX locations, CallRail elsewhere."""
    landing, ref = out / "landing", Reference.load(out / "reference")
    calls: list[FileCall] = []
    records = callrail_records(landing)
    pbx_locations = {loc for (system, _), loc in ref.crosswalk.items() if system == "pbx_did"}
    spam_by_number = defaultdict(list)
    for r in records:
        loc = ref.crosswalk[("callrail_company", r["company_id"])]
        start = dt.datetime.fromisoformat(r["start_time"])
        if "spam" in r["tags"]:
            spam_by_number[(r["customer_phone_number"], r["business_phone_number"])].append(start)
        if loc in pbx_locations:
            continue
        if r["direction"] == "outbound":
            outcome = "answered" if r["answered"] else "no_answer"
        else:
            outcome = _callrail_outcome(ref, loc, r)
        calls.append(FileCall(loc, r["direction"], r["customer_phone_number"], start, outcome))
    cdrs, qlog = cdr_rows(landing), queue_events(landing)
    for pbx_id, rows in cdrs.items():
        tz = ref.pbx_tz[pbx_id]
        events = defaultdict(list)
        for e in qlog[pbx_id]:
            events[e[1]].append(e)
        legs = defaultdict(list)
        for r in rows:
            legs[r["linkedid"]].append(r)
        for linked, group in legs.items():
            first = next(r for r in group if r["uniqueid"] == linked)
            start = _pbx_time(first["start"], tz)
            if first["dcontext"] == "from-internal":  # an agent's outbound callback
                ext_loc = _extension_location(ref, pbx_id, first["src"])
                outcome = "answered" if first["disposition"] == "ANSWERED" else "no_answer"
                calls.append(FileCall(ext_loc, "outbound", e164(first["dst"]), start, outcome))
                continue
            loc = ref.crosswalk[("pbx_did", e164(first["dst"]))]
            caller = e164(first["src"])
            spam = _junk(first["src"]) or any(
                abs((s - start).total_seconds()) <= 60
                for s in spam_by_number.get((caller, e164(first["dst"])), [])
            )
            ev = {e[4]: e for e in events.get(linked, [])}
            if spam:
                outcome = "spam"
            elif not ref.is_open(loc, start):
                outcome = "after_hours"
            elif "CONNECT" in ev:
                outcome = "answered"
            elif any(r["lastapp"] == "VoiceMail" for r in group):
                outcome = "voicemail"
            elif "ABANDON" in ev:
                outcome = "short_abandon" if int(ev["ABANDON"][7]) < 10 else "abandoned"
            else:
                outcome = "missed"
            calls.append(
                FileCall(loc, "inbound", None if _junk(first["src"]) else caller, start, outcome)
            )
    return calls


def _extension_location(ref: Reference, pbx_id: str, ext: str) -> str:
    """Agent extensions are <location number><NN> (e.g. 101 at loc_01, 1203 at loc_12)."""
    return f"loc_{int(ext[:-2]):02d}"


def recount_outcomes(out: Path) -> Counter:
    """(location_id, outcome) -> inbound calls, recounted from the landing files."""
    return Counter((c.location_id, c.outcome) for c in read_calls(out) if c.direction == "inbound")


def recount_recovery(out: Path) -> tuple[Counter, Counter]:
    """Per location: recovered missed opportunities and repeat contacts (24 h), from files."""
    calls = sorted(read_calls(out), key=lambda c: c.start)
    by_caller = defaultdict(list)
    for c in calls:
        if c.caller:
            by_caller[c.caller].append(c)
    recovered: Counter = Counter()
    repeats: Counter = Counter()
    day = dt.timedelta(hours=24)
    for series in by_caller.values():
        for i, c in enumerate(series):
            later = [x for x in series[i + 1 :] if dt.timedelta(0) < x.start - c.start <= day]
            if c.direction != "inbound":
                continue
            if c.outcome in {"voicemail", "abandoned", "missed"} and any(
                x.outcome == "answered" for x in later
            ):
                recovered[c.location_id] += 1
            if c.outcome == "answered" and any(
                x.direction == "inbound" and x.outcome != "spam" for x in later
            ):
                repeats[c.location_id] += 1
    return recovered, repeats


def recount_square(out: Path) -> dict[tuple[str, str], list[int]]:
    """(location_id, local date) -> [COMPLETED payment cents, COMPLETED refund cents]."""
    landing, ref = out / "landing", Reference.load(out / "reference")
    totals: dict[tuple[str, str], list[int]] = defaultdict(lambda: [0, 0])
    for kind, col in (("payments", 0), ("refunds", 1)):
        for path in sorted((landing / "pos" / "square" / kind).iterdir()):
            for line in path.read_text().splitlines():
                obj = json.loads(line)
                if obj["status"] != "COMPLETED":
                    continue
                loc = ref.crosswalk[("square_location", obj["location_id"])]
                at = dt.datetime.fromisoformat(obj["created_at"].replace("Z", "+00:00"))
                tz = ZoneInfo(ref.locations[loc]["timezone"])
                day = at.astimezone(tz).date().isoformat()
                totals[(loc, day)][col] += obj["amount_money"]["amount"]
    return totals


def cents(text: str) -> int:
    sign = -1 if text.startswith("-") else 1
    whole, frac = text.lstrip("-").split(".")
    return sign * (int(whole) * 100 + int(frac))
