"""Process drift: documented changes of one location's process from a given local day on.

``generate(..., drifts=...)`` (``callshrink generate --drift``) injects them and lists them in
``answer_key/drifts.json``, so the warehouse's drift detection (control charts) can be scored.
Each drift holds at one location from the local midnight that starts its day to the end of the
data set. Three kinds:

``staffing_drop`` (needs a PBX): the staffing plan keeps half its agents in every open hour
    (``agents // 2``: at least one fewer wherever anybody was on the phones, an hour with one
    agent is left with nobody). Answer rate falls, speed of answer rises (callers find every
    agent busy, or nobody), and the queue_log adds fewer members (ADDMEMBER) a day.
``ring_time`` (needs a PBX): a free member rung lets the phone ring out with probability
    RING_TIME_SHARE (0.6) instead of the location's :data:`.staffing.RING_NO_ANSWER_SHARE`:
    each ring-out costs a ring round (17 s), so speed of answer and abandonment rise.
``callbacks_stop`` (any location): the location makes no callbacks from that day (a callback
    the simulation would have placed at or after the day's local midnight is not made, also
    one for a call missed the day before). Recovery rate falls, minutes to recovery rise, and
    more callers call again (retries are drawn as before, only the callback is gone).

Everything else follows from these changes alone; the random draws of the simulation are the
same as without drifts until the UTC day of the first drift's day (the landing files of earlier
days are byte-identical to those of the same seed without drifts; from that UTC day on the
stream differs, so the calls of the local evening before a drift may differ by chance).
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass

STAFFING_DROP = "staffing_drop"
RING_TIME = "ring_time"
CALLBACKS_STOP = "callbacks_stop"
KINDS = (STAFFING_DROP, RING_TIME, CALLBACKS_STOP)
NEEDS_PBX = {STAFFING_DROP: True, RING_TIME: True, CALLBACKS_STOP: False}
RING_TIME_SHARE = 0.6  # chance a free member rung lets it ring out, from the drift's day
DESCRIPTIONS = {
    STAFFING_DROP: "the staffing plan keeps agents // 2 in every open hour (half, at least one "
    "fewer wherever anybody was on the phones)",
    RING_TIME: f"a free member rung lets the phone ring out with probability {RING_TIME_SHARE} "
    "(each ring-out costs a 17 s ring round)",
    CALLBACKS_STOP: "the location places no callbacks at or after the day's local midnight",
}
EXPECTED_EFFECTS = {
    STAFFING_DROP: "answer rate falls, average speed of answer and abandonment rise, fewer "
    "queue members (ADDMEMBER) a day in queue_log, more all_busy / nobody_staffed misses",
    RING_TIME: "average speed of answer and abandonment rise, answer rate falls, more "
    "RINGNOANSWER events per call",
    CALLBACKS_STOP: "no outbound callbacks; recovery rate falls, minutes to recovery rise, "
    "repeat contacts rise",
}
SYNTAX = "KIND:LOCATION:DAY"


class DriftError(ValueError):
    """A --drift specification that cannot be used (the message names the bad part)."""


@dataclass(frozen=True)
class Drift:
    kind: str
    location_id: str
    day: int  # 0-based local day of the data set (0 = --start)


@dataclass(frozen=True)
class DriftSpec:
    """A parsed but not yet checked ``KIND:LOCATION:DAY`` (day an index or a date)."""

    kind: str
    location_id: str
    day: int | dt.date
    text: str


def parse(text: str) -> DriftSpec:
    """Parse ``KIND:LOCATION:DAY``; DAY is a 0-based day of the data set or YYYY-MM-DD."""
    parts = text.split(":")
    if len(parts) != 3:
        raise DriftError(
            f"drift {text!r}: expected {SYNTAX} (e.g. staffing_drop:loc_04:14), "
            f"got {len(parts)} part(s)"
        )
    kind, loc, day_text = (p.strip() for p in parts)
    kind = kind.lower().replace("-", "_")
    if kind not in KINDS:
        raise DriftError(f"drift {text!r}: unknown kind {kind!r} (kinds: {', '.join(KINDS)})")
    m = re.fullmatch(r"(?:loc_)?(\d+)", loc)
    if not m or int(m.group(1)) < 1:
        raise DriftError(f"drift {text!r}: bad location {loc!r} (expected loc_NN, e.g. loc_04)")
    location_id = f"loc_{int(m.group(1)):02d}"
    day: int | dt.date
    if re.fullmatch(r"\d+", day_text):
        day = int(day_text)
    else:
        try:
            day = dt.date.fromisoformat(day_text)
        except ValueError:
            raise DriftError(
                f"drift {text!r}: bad day {day_text!r} (a day number 1..days-1 counted from "
                "--start, or a date YYYY-MM-DD)"
            ) from None
    return DriftSpec(kind, location_id, day, text)


def default_day(days: int) -> int:
    """The default drifts' first day: the last week of the data set (``days - 7``), or its
    middle (``days // 2``) when that is later, so that a long data set has a long undrifted
    history (the warehouse's control charts take their limits from its first 28 days)."""
    return max(days // 2, days - 7)


def default_specs(pbx_location_ids: list[str], days: int) -> list[DriftSpec]:
    """The default set: staffing_drop, ring_time and callbacks_stop at the first three PBX
    locations (loc_01, loc_02, loc_04), all from day :func:`default_day`."""
    if len(pbx_location_ids) < len(KINDS):
        raise DriftError(
            f"--drift without a value needs {len(KINDS)} locations with a PBX "
            f"(--locations 4 or more); there are {len(pbx_location_ids)}"
        )
    day = default_day(days)
    return [
        DriftSpec(kind, lid, day, f"{kind}:{lid}:{day}")
        for kind, lid in zip(KINDS, pbx_location_ids, strict=False)
    ]


def resolve(
    drifts: object, location_ids: list[str], has_pbx: list[bool], start: dt.date, days: int
) -> list[Drift]:
    """Checked drifts from ``drifts``: None/False/[] (none), True or ``"default"`` (the
    default set), or a list of ``KIND:LOCATION:DAY`` strings, DriftSpec or Drift objects.
    Raises DriftError naming the bad part."""
    if drifts is None or drifts is False:
        return []
    if drifts is True or drifts == "default":
        specs = default_specs(
            [lid for lid, p in zip(location_ids, has_pbx, strict=True) if p], days
        )
    elif isinstance(drifts, str):
        specs = [parse(drifts)]
    else:
        items = list(drifts)  # type: ignore[call-overload]
        if "default" in items:
            raise DriftError(
                "--drift without a value (the default set) cannot be combined with "
                f"explicit {SYNTAX} drifts"
            )
        specs = []
        for item in items:
            if isinstance(item, Drift):
                item = DriftSpec(
                    item.kind,
                    item.location_id,
                    item.day,
                    f"{item.kind}:{item.location_id}:{item.day}",
                )
            specs.append(item if isinstance(item, DriftSpec) else parse(str(item)))
    out: list[Drift] = []
    for s in specs:
        if s.kind not in KINDS:
            raise DriftError(
                f"drift {s.text!r}: unknown kind {s.kind!r} (kinds: {', '.join(KINDS)})"
            )
        if s.location_id not in location_ids:
            raise DriftError(
                f"drift {s.text!r}: location {s.location_id} does not exist (the data set has "
                f"{location_ids[0]}..{location_ids[-1]})"
            )
        if NEEDS_PBX[s.kind] and not has_pbx[location_ids.index(s.location_id)]:
            with_pbx = ", ".join(lid for lid, p in zip(location_ids, has_pbx, strict=True) if p)
            raise DriftError(
                f"drift {s.text!r}: location {s.location_id} has no PBX, which {s.kind} needs "
                f"(locations with a PBX: {with_pbx})"
            )
        day = (s.day - start).days if isinstance(s.day, dt.date) else s.day
        if not 1 <= day < days:
            last = start + dt.timedelta(days=days - 1)
            what = f"{s.day} (day {day})" if isinstance(s.day, dt.date) else f"day {day}"
            raise DriftError(
                f"drift {s.text!r}: {what} is outside the data set: a drift needs a day "
                f"1..{days - 1} (a date {start + dt.timedelta(days=1)}..{last}), so that at "
                "least one day comes before it"
            )
        drift = Drift(s.kind, s.location_id, day)
        if any(d.kind == drift.kind and d.location_id == drift.location_id for d in out):
            raise DriftError(f"drift {s.text!r}: a second {s.kind} at {s.location_id}")
        out.append(drift)
    return sorted(out, key=lambda d: (d.day, d.location_id, KINDS.index(d.kind)))
