"""Reference data: locations, PBXs, business hours and the crosswalk.

Everything here depends only on the location number ``i`` (1-based), never on the seed or on
how many locations are generated, so the reference for N locations is a prefix of N + 1.
"""

from __future__ import annotations

import csv
import hashlib
from dataclasses import dataclass
from pathlib import Path

NO_PBX_LOCATION = 3  # loc_03: CallRail forwards its calls to a mobile phone, no PBX
# Seconds the forwarded mobile rings before its voicemail takes the call (locations without a
# PBX; locations.csv forward_ring_seconds).
FORWARD_RING_SECONDS = 28

FREEPBX, PLAIN = "freepbx", "plain"


@dataclass(frozen=True)
class Pbx:
    """One Asterisk PBX. ``flavour`` says how it is set up (see :mod:`.pbx`): ``freepbx``
    (numbered queues, Local-channel queue members, a greeting before the queue) or ``plain``
    (a hand-written dialplan: named queues, phones as members, ringall)."""

    pbx_id: str
    timezone: str
    escalation_queue: str
    escalation_extensions: tuple[str, ...]
    flavour: str
    greeting_seconds: int  # announcement played before the caller enters the queue

    def queue_name(self, i: int) -> str:
        """The queue of location ``i`` (1-based) as queue_log and the CDR name it."""
        return f"4{i:02d}0" if self.flavour == FREEPBX else f"loc_{i:02d}_front"


PBXS: tuple[Pbx, ...] = (
    Pbx("pbx_east", "America/New_York", "4999", ("9001", "9002", "9003"), FREEPBX, 3),
    Pbx("pbx_west", "America/Los_Angeles", "tier2", ("9101", "9102", "9103"), PLAIN, 0),
)


@dataclass(frozen=True)
class Tracker:
    source: str
    medium: str
    campaign: str | None
    keywords: str | None
    landing_page_url: str | None


TRACKER_CATALOG: tuple[Tracker, ...] = (
    Tracker("Google Ads", "cpc", "brand-search", "repair near me", "https://example.com/lp/book"),
    Tracker("Google Organic", "organic", None, None, "https://example.com/"),
    Tracker("Yelp", "referral", None, None, "https://www.yelp.com/"),
    Tracker("Direct Mail", "offline", "spring-postcard", None, None),
    Tracker("Facebook Ads", "paid_social", "spring-promo", None, "https://example.com/lp/fb"),
)

# (name, region, timezone, pbx index or None, area code). Locations beyond this list cycle
# through it with a numbered name, so attributes still depend only on i.
_CATALOG: tuple[tuple[str, str, str, int | None, str], ...] = (
    ("Harbor Point", "Northeast", "America/New_York", 0, "617"),
    ("Maple Grove", "Midwest", "America/Chicago", 0, "312"),
    ("Prairie Fork", "Midwest", "America/Chicago", None, "816"),
    ("Bayview", "West", "America/Los_Angeles", 1, "415"),
    ("Cactus Flats", "Southwest", "America/Phoenix", 1, "602"),
    ("Riverside", "Southeast", "America/New_York", 0, "404"),
    ("Pine Ridge", "Mountain", "America/Denver", 1, "303"),
    ("Lakeshore", "Midwest", "America/Chicago", 0, "414"),
    ("Desert Springs", "Southwest", "America/Phoenix", 1, "480"),
    ("Old Town", "Northeast", "America/New_York", 0, "215"),
    ("Sunset Hills", "West", "America/Los_Angeles", 1, "619"),
    ("Magnolia", "Southeast", "America/New_York", 0, "305"),
)


@dataclass(frozen=True)
class Location:
    index: int  # 1-based
    location_id: str
    name: str
    region: str
    timezone: str
    opened_on: str
    pbx: Pbx | None
    area_code: str
    business_number: str  # E.164
    tracking_numbers: tuple[str, ...]  # E.164, one per tracker
    trackers: tuple[Tracker, ...]
    tracker_ids: tuple[str, ...]
    company_id: str
    square_location_id: str
    queue: str | None
    extensions: tuple[str, ...]
    mailbox: str
    hours: dict[int, tuple[str, str]]  # iso_weekday -> (opens_at, closes_at); absent = closed
    queue_timeout: int
    forward_ring_seconds: int | None  # no PBX: seconds the mobile rings before its voicemail
    # behaviour (also only a function of i)
    base_volume: float  # relative daily call volume
    base_wait: float  # mean seconds to reach an agent at normal load
    ticket_median_cents: int


def _h(*parts: object) -> str:
    return hashlib.sha256("|".join(str(p) for p in parts).encode()).hexdigest()


def _b32(text: str, n: int) -> str:
    alphabet = "ABCDEFGHJKLMNPQRSTVWXYZ0123456789"
    value = int(_h(text), 16)
    out = []
    for _ in range(n):
        value, r = divmod(value, len(alphabet))
        out.append(alphabet[r])
    return "".join(out)


def _hours(i: int) -> dict[int, tuple[str, str]]:
    close = ("18:00", "19:00", "17:30")[i % 3]
    opens = ("08:00", "08:30", "09:00")[(i // 3) % 3]
    hours = {wd: (opens, close) for wd in range(1, 6)}
    if i % 4 != 0:  # most open Saturday mornings; every 4th location is closed Saturday
        hours[6] = ("09:00", "14:00")
    return hours  # Sunday (7) is always closed


def location(i: int) -> Location:
    if i < 1:
        raise ValueError(f"location number must be >= 1, got {i}")
    name, region, tz, pbx_index, npa = _CATALOG[(i - 1) % len(_CATALOG)]
    cycle = (i - 1) // len(_CATALOG)
    if cycle:
        name = f"{name} {cycle + 1}"
        if pbx_index is None:  # only loc_03 has no PBX
            pbx_index = 0
    pbx = PBXS[pbx_index] if pbx_index is not None else None
    line0 = 100 + cycle * 6  # 555-01XX numbers are reserved for fiction
    number = f"+1{npa}555{line0:04d}"
    n_trackers = 3 + i % 3
    trackers = tuple(TRACKER_CATALOG[(i + k) % len(TRACKER_CATALOG)] for k in range(n_trackers))
    tracking = tuple(f"+1{npa}555{line0 + 1 + k:04d}" for k in range(n_trackers))
    loc_id = f"loc_{i:02d}"
    ext_base = 100 * i
    n_agents = 4 + i % 4
    opened = f"{2015 + i % 9}-{1 + (i * 5) % 12:02d}-{1 + (i * 7) % 28:02d}"
    return Location(
        index=i,
        location_id=loc_id,
        name=name,
        region=region,
        timezone=tz,
        opened_on=opened,
        pbx=pbx,
        area_code=npa,
        business_number=number,
        tracking_numbers=tracking,
        trackers=trackers,
        tracker_ids=tuple(f"TRK{_h('trk', i, k)[:32]}" for k in range(n_trackers)),
        company_id=f"COM{_h('com', i)[:32]}",
        square_location_id="L" + _b32(f"sq{i}", 12),
        queue=pbx.queue_name(i) if pbx else None,
        extensions=tuple(str(ext_base + k + 1) for k in range(n_agents)),
        mailbox=str(ext_base),
        hours=_hours(i),
        queue_timeout=(60, 90, 120, 75)[i % 4],
        forward_ring_seconds=None if pbx else FORWARD_RING_SECONDS,
        base_volume=(1.0, 1.3, 0.6, 1.1, 0.8, 1.2, 0.9)[i % 7],
        base_wait=(30.0, 24.0, 14.0, 9.0, 25.0, 20.0, 26.0, 34.0)[i % 8],
        ticket_median_cents=(18000, 24000, 12000, 32000, 15000, 27000)[i % 6],
    )


def locations(n: int) -> list[Location]:
    return [location(i) for i in range(1, n + 1)]


def pbxs_used(locs: list[Location]) -> list[Pbx]:
    used = {loc.pbx.pbx_id for loc in locs if loc.pbx}
    return [p for p in PBXS if p.pbx_id in used]


def _write(path: Path, header: list[str], rows: list[list[str]]) -> None:
    with path.open("w", newline="", encoding="utf-8") as fh:
        writer = csv.writer(fh, lineterminator="\n")
        writer.writerow(header)
        writer.writerows(rows)


def crosswalk_rows(locs: list[Location]) -> list[list[str]]:
    rows: list[list[str]] = []
    for loc in locs:
        rows.append(["callrail_company", loc.company_id, loc.location_id])
        rows.extend(["callrail_tracking_number", t, loc.location_id] for t in loc.tracking_numbers)
        if loc.pbx:
            rows.append(["pbx_did", loc.business_number, loc.location_id])
            rows.append(["pbx_queue", f"{loc.pbx.pbx_id}:{loc.queue}", loc.location_id])
        rows.append(["square_location", loc.square_location_id, loc.location_id])
    return rows


def write_reference(out: Path, locs: list[Location]) -> dict[str, int]:
    """Write the five reference CSVs into ``out``; return rows per file."""
    out.mkdir(parents=True, exist_ok=True)
    tables: dict[str, tuple[list[str], list[list[str]]]] = {
        "locations.csv": (
            [
                "location_id",
                "location_name",
                "region",
                "timezone",
                "opened_on",
                "forward_ring_seconds",
            ],
            [
                [
                    lc.location_id,
                    lc.name,
                    lc.region,
                    lc.timezone,
                    lc.opened_on,
                    "" if lc.forward_ring_seconds is None else str(lc.forward_ring_seconds),
                ]
                for lc in locs
            ],
        ),
        "location_crosswalk.csv": (["system", "external_id", "location_id"], crosswalk_rows(locs)),
        "business_hours.csv": (
            ["location_id", "iso_weekday", "opens_at", "closes_at"],
            [
                [lc.location_id, str(wd), o, c]
                for lc in locs
                for wd, (o, c) in sorted(lc.hours.items())
            ],
        ),
        # The channel patterns, the dialled number's source and the encoding are left empty:
        # the warehouse's defaults read both flavours.
        "pbx_systems.csv": (
            [
                "pbx_id",
                "timezone",
                "phone_channel_pattern",
                "trunk_channel_pattern",
                "dialled_number_from",
                "encoding",
            ],
            [[p.pbx_id, p.timezone, "", "", "", ""] for p in pbxs_used(locs)],
        ),
        "escalation_queues.csv": (
            ["pbx_id", "queuename"],
            [[p.pbx_id, p.escalation_queue] for p in pbxs_used(locs)],
        ),
    }
    counts = {}
    for name, (header, rows) in tables.items():
        _write(out / name, header, rows)
        counts[name] = len(rows)
    return counts
