"""Independent readers of the generated landing folder, used to recount the answer key.

They follow docs/sources.md and docs/metrics.md directly (not the generator's code), so a test that
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
# The warehouse's default channel reading (dbt vars): a phone is a SIP/PJSIP/IAX2 endpoint
# named by a 2-6 digit extension; Local/ channels are the PBX's own; anything else a trunk.
PHONE_CHANNEL = re.compile(r"^(PJSIP|SIP|IAX2)/[0-9]{2,6}-[0-9a-fA-F]+$")


def channel_role(channel: str) -> str | None:
    """``phone``, ``local``, ``trunk`` or None for no channel."""
    if not channel:
        return None
    if channel.startswith("Local/"):
        return "local"
    return "phone" if PHONE_CHANNEL.match(channel) else "trunk"


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
    forward_ring: dict[str, int]

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
            {
                r["location_id"]: int(r["forward_ring_seconds"])
                for r in read_csv(folder / "locations.csv")
                if r["forward_ring_seconds"]
            },
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


@dataclass
class PbxCall:
    """The CDR records of one linkedid with the queue_log events of that callid."""

    pbx_id: str
    linkedid: str
    kind: str  # inbound (a trunk brought it in), outbound (a phone dialled a trunk), internal
    records: list[dict[str, str]]  # in sequence order
    events: list[list[str]]
    start: dt.datetime
    dialled: str | None  # inbound: the dialled number (E.164)
    tz: str  # the PBX's zone

    @property
    def first(self) -> dict[str, str]:
        return self.records[0]

    def epoch(self, stamp: str) -> int:
        """A CDR time (PBX local) as a UTC epoch, comparable with queue_log times."""
        return int(_pbx_time(stamp, self.tz).timestamp())

    def event(self, name: str) -> list[str] | None:
        return next((e for e in self.events if e[4] == name), None)


def pbx_calls(out: Path) -> list[PbxCall]:
    """Every linkedid of every PBX, told apart by its channels: the caller's trunk (inbound),
    a phone calling a trunk (outbound) or a phone calling a phone (internal: a staff call or
    an attended transfer's consult call). The dialled number is the queue_log DID event of
    the callid, else the dst of a trunk record that is a phone number."""
    landing, ref = out / "landing", Reference.load(out / "reference")
    calls = []
    qlog = queue_events(landing)
    for pbx_id, rows in cdr_rows(landing).items():
        tz = ref.pbx_tz[pbx_id]
        events = defaultdict(list)
        for e in qlog[pbx_id]:
            events[e[1]].append(e)
        groups = defaultdict(list)
        for r in rows:
            groups[r["linkedid"]].append(r)
        for linked, group in groups.items():
            group.sort(key=lambda r: int(r["sequence"]))
            first = min(group, key=lambda r: (r["start"], int(r["sequence"])))
            roles = channel_role(first["channel"]), channel_role(first["dstchannel"])
            ev = events.get(linked, [])
            if roles[0] == "phone":
                kind, dialled = ("internal" if roles[1] == "phone" else "outbound"), None
            else:
                kind = "inbound"
                did = next((e[5] for e in ev if e[4] == "DID"), None)
                numbers = [
                    e164(r["dst"])
                    for r in group
                    if channel_role(r["channel"]) == "trunk" and e164(r["dst"])
                ]
                dialled = e164(did) if did else (numbers[0] if numbers else None)
            calls.append(
                PbxCall(
                    pbx_id,
                    linked,
                    kind,
                    [first] + [r for r in group if r is not first],
                    ev,
                    _pbx_time(first["start"], tz),
                    dialled,
                    tz,
                )
            )
    return calls


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
    """METRICS' outcome of a call CallRail forwarded to a mobile. CallRail's own call_type
    says ``missed`` from 15 s of ringing on; METRICS says abandoned until the mobile's
    voicemail took the call (forward_ring_seconds), missed only when it rang that long."""
    start = dt.datetime.fromisoformat(r["start_time"])
    # docs/metrics.md: spam when tagged, or when the caller id is not a phone number at all
    # (withheld, anonymous, junk digits), whoever called
    if "spam" in r["tags"] or _junk(r["customer_phone_number"] or ""):
        return "spam"
    if not ref.is_open(loc, start):
        return "after_hours"
    if r["call_type"] == "answered":
        return "answered"
    if r["call_type"] == "voicemail":
        return "voicemail"
    rang = r["duration"] or 0  # an unanswered call's duration is how long it rang
    if rang < 10:
        return "short_abandon"
    return "abandoned" if rang < ref.forward_ring[loc] else "missed"


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
        caller = r["customer_phone_number"]
        caller = None if _junk(caller or "") else caller
        calls.append(FileCall(loc, r["direction"], caller, start, outcome))
    for call in pbx_calls(out):
        first, start = call.first, call.start
        if call.kind == "internal":  # staff or consult calls: nobody's call
            continue
        if call.kind == "outbound":  # an agent's callback
            ext_loc = _extension_location(ref, call.pbx_id, first["src"])
            outcome = "answered" if first["disposition"] == "ANSWERED" else "no_answer"
            calls.append(FileCall(ext_loc, "outbound", e164(first["dst"]), start, outcome))
            continue
        loc = ref.crosswalk[("pbx_did", call.dialled)]
        caller = e164(first["src"])
        spam = _junk(first["src"]) or any(
            abs((s - start).total_seconds()) <= 60
            for s in spam_by_number.get((caller, call.dialled), [])
        )
        abandon = call.event("ABANDON")
        if spam:
            outcome = "spam"
        elif not ref.is_open(loc, start):
            outcome = "after_hours"
        elif call.event("CONNECT"):
            outcome = "answered"
        elif any(r["lastapp"] == "VoiceMail" for r in call.records):
            outcome = "voicemail"
        elif abandon or not call.event("ENTERQUEUE"):
            # hung up in the queue, or during the greeting before it: the call's own clock
            waited = int(abandon[0]) - int(start.timestamp()) if abandon else int(first["duration"])
            outcome = "short_abandon" if waited < 10 else "abandoned"
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
