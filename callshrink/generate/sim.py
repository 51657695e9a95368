"""Caller behaviour: arrivals, queue outcomes, retries, callbacks, follow-ups and purchases.

All sampling is vectorised over a batch of calls. A call is one row of a :class:`Table`; its
outcome is decided here and the writers only render it in each vendor's format.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import numpy as np

from callshrink.generate import drift, staffing
from callshrink.generate.drift import Drift
from callshrink.generate.phones import (
    JUNK_CALLER_IDS,
    SPAM_NPAS,
    avoid_lookalikes,
    caller_numbers,
    repeated_digits,
)
from callshrink.generate.reference import Location
from callshrink.generate.table import Table
from callshrink.generate.tz import TzTable, date_epoch, iso_weekday

# Outcomes (answer key names in OUTCOME_NAMES). Outbound calls use ANSWERED / MISSED.
ANSWERED, VOICEMAIL, ABANDONED, MISSED, SHORT_ABANDON, AFTER_HOURS, SPAM = range(7)
OUTCOME_NAMES = (
    "answered",
    "voicemail",
    "abandoned",
    "missed",
    "short_abandon",
    "after_hours",
    "spam",
)
# How an unanswered inbound call ended.
EXIT_NONE, EXIT_ABANDON, EXIT_TIMEOUT_VM, EXIT_KEY_VM, EXIT_TIMEOUT_DROP, EXIT_AFTER_VM = range(6)
# Where a call came from.
FRESH, RETRY, FOLLOW_UP, CALLBACK = range(4)
# Transfers.
XFER_NONE, XFER_AGENT, XFER_ESCALATION = range(3)

SHORT_ABANDON_SECONDS = 10
DAY = 86_400
RECOVERY_WINDOW = DAY

HOUR_WEIGHTS = np.array(
    [
        0.1,
        0.05,
        0.05,
        0.05,
        0.05,
        0.1,
        0.3,
        1.0,
        5.0,
        7.0,
        8.0,
        8.0,
        7.0,
        7.0,
        7.0,
        6.0,
        5.0,
        4.0,
        1.2,
        0.6,
        0.4,
        0.3,
        0.2,
        0.1,
    ]
)
HOUR_P = HOUR_WEIGHTS / HOUR_WEIGHTS.sum()
# Load on the staff by local hour (lunch and mid-morning are short-handed).
HOUR_LOAD = np.array(
    [1.0] * 8 + [0.8, 1.0, 1.4, 1.5, 1.9, 1.3, 1.1, 1.0, 1.0, 1.2, 1.0] + [1.0] * 5
)
WEEKDAY_VOLUME = np.array([0.0, 1.25, 1.1, 1.05, 1.0, 0.95, 0.5, 0.15])  # index = iso weekday
WEEKDAY_LOAD = np.array([0.0, 1.35, 1.0, 0.95, 0.9, 1.05, 1.2, 1.0])
CALLER_SPACE = 8_000_000  # distinct numbers per area code (phones.caller_numbers)
WALK_IN_POOL = 40_000  # walk-in customers per location
# Callers per location: about 0.9 x the fresh calls of this many days (at least 28, at most
# POOL_DAYS_MAX, so a year of a contact center fits in CALLER_SPACE; callers then return more).
POOL_DAYS_MAX = 84
# Repeated-digit numbers of one frequent genuine caller at each of the first six locations
# (caller offset REPEATED_CALLER in the location's pool): spam-like, and not spam.
REPEATED_DIGITS = (2, 3, 4, 6, 7, 9)
REPEATED_CALLER = 2
# The edges of the written definitions (docs/metrics.md, "Comparisons" and "Two waits"),
# drawn from a random stream of their own (EDGE_STREAM) so that the share of edge cases does
# not depend on the rest of the simulation. An edge case moves a call's wait onto a threshold
# and never changes what kind of call it is (:func:`_snap_to_edges`): EDGE_SHARE of the
# open-hours, non-spam inbound calls whose own wait came within a few seconds of a threshold
# are snapped onto it. WITHHELD_SHARE of genuine fresh calls withhold their caller id;
# EXACT_WINDOW_SHARE of callbacks and of follow-up calls come exactly 24 h (or 24 h and 1 s)
# after the call they follow, start to start.
EDGE_STREAM = 13
EDGE_SHARE = 0.3
WITHHELD_SHARE = 0.004
EXACT_WINDOW_SHARE = 0.05
SERVICE_LEVEL_SECONDS = 20  # the warehouse's default var service_level_seconds (T)
# (group, clock, seconds): where a call of a group may be snapped to. Groups, by how the call
# ended on its own: "hang_up" a hang-up after 5-15 s on the caller's clock; "queue" a PBX queue
# hang-up after more than 15 s on the caller's clock and T - 5 to T + 5 s on the queue's;
# "ring" (no PBX) a hang-up after more than T s and at most 5 s before the forwarded phone's
# ring time; "answer" a PBX call answered after T - 8 to T + 5 s on the queue's clock (fewer
# are answered just below T than just above it). Clocks: "caller" seconds from the call's
# start; "queue" seconds from the end of the greeting; "ring" seconds before the forwarded
# phone's ring time. The ring time itself (28 s at loc_03: it rang out, missed when no message
# follows) needs no snapping: every ring-out without a message ends there.
EDGES = (
    ("hang_up", "caller", SHORT_ABANDON_SECONDS - 1),
    ("hang_up", "caller", SHORT_ABANDON_SECONDS),
    ("hang_up", "caller", SHORT_ABANDON_SECONDS + 1),
    ("hang_up", "queue", SHORT_ABANDON_SECONDS - 1),
    ("hang_up", "queue", SHORT_ABANDON_SECONDS),
    ("hang_up", "queue", SHORT_ABANDON_SECONDS + 1),
    ("queue", "queue", SERVICE_LEVEL_SECONDS),
    ("queue", "queue", SERVICE_LEVEL_SECONDS + 1),
    ("ring", "ring", 1),
    ("answer", "queue", SERVICE_LEVEL_SECONDS - 1),
    ("answer", "queue", SERVICE_LEVEL_SECONDS),
    ("answer", "queue", SERVICE_LEVEL_SECONDS + 1),
)


@dataclass
class Params:
    calls_per_location_day: float = 120.0
    tracked_share: float = 0.7
    spam_share: float = 0.05
    tracked_spam_share: float = 0.5
    short_patience_share: float = 0.07
    keypress_share: float = 0.08
    follow_up_share: float = 0.10
    walk_in_share: float = 0.25  # walk-in payments per call
    lost_deal_share: float = 0.06
    deal_share: float = 0.15


class Context:
    """Per-location arrays the vectorised code indexes by location number (0-based)."""

    def __init__(
        self,
        locs: list[Location],
        start: dt.date,
        days: int,
        params: Params,
        seed: int,
        drifts: tuple[Drift, ...] = (),
    ) -> None:
        self.locs = locs
        self.params = params
        self.start = start
        self.days = days
        self.salt = (seed * 7919 + 13) % 8_000_000
        self.t0 = date_epoch(start)
        self.t_end = self.t0 + (days + 1) * DAY  # last step holds late-evening spill-over
        n = len(locs)
        self.has_pbx = np.array([loc.pbx is not None for loc in locs])
        self.base_wait = np.array([loc.base_wait for loc in locs])
        self.timeout = np.array([loc.queue_timeout for loc in locs])
        # Without a PBX: how long the forwarded mobile rings before its voicemail takes over.
        self.forward_ring = np.array([loc.forward_ring_seconds or 0 for loc in locs])
        self.npa = np.array([int(loc.area_code) for loc in locs], dtype=np.int64)
        self.n_agents = np.array([len(loc.extensions) for loc in locs])
        self.n_trackers = np.array([len(loc.trackers) for loc in locs])
        self.ticket = np.array([loc.ticket_median_cents for loc in locs], dtype=np.int64)
        self.tz = [TzTable(loc.timezone, self.t0, self.t_end) for loc in locs]
        self.open_s = np.full((n, 8), -1, dtype=np.int64)
        self.close_s = np.full((n, 8), -1, dtype=np.int64)
        for li, loc in enumerate(locs):
            for wd, (o, c) in loc.hours.items():
                self.open_s[li, wd] = _hhmm(o)
                self.close_s[li, wd] = _hhmm(c)
        volume = np.array([loc.base_volume for loc in locs]) * params.calls_per_location_day
        self.volume = volume
        pool_days = min(max(days, 28), POOL_DAYS_MAX)
        self.pool_size = np.maximum(500, (volume * pool_days * 0.9).astype(np.int64))
        self.pool_start = np.concatenate(([0], np.cumsum(self.pool_size)[:-1])).astype(np.int64)
        self.walkin_start = int(self.pool_size.sum()) + 1000
        if self.walkin_start + WALK_IN_POOL * n > CALLER_SPACE:
            raise ValueError(
                f"{n} locations at {params.calls_per_location_day:g} calls a day need more "
                f"distinct caller numbers than the generator has ({CALLER_SPACE:,})"
            )
        self.next_key = 0
        # the edge cases' own stream (EDGE_STREAM): see simulate_inbound, callbacks, retries
        self.edge_rng = np.random.default_rng([seed, EDGE_STREAM])
        self.staffing = staffing.StaffingPlan(
            [loc.index for loc in locs],
            self.has_pbx,
            volume,
            self.open_s,
            self.close_s,
            HOUR_P,
            WEEKDAY_VOLUME,
            HOUR_LOAD,
            WEEKDAY_LOAD,
        )
        # A location has an extension for every agent its plan puts on the phones at once.
        self.locs = [
            staffing.with_agents(loc, self.staffing.max_agents(li)) for li, loc in enumerate(locs)
        ]
        self.n_agents = np.array([len(loc.extensions) for loc in self.locs])
        self.greeting = np.array([loc.pbx.greeting_seconds if loc.pbx else 0 for loc in locs])
        # Process drifts (:mod:`.drift`), each from the local midnight starting its day.
        self.drifts = tuple(drifts)
        self.callbacks_stop = np.full(n, np.iinfo(np.int64).max, dtype=np.int64)
        index = {loc.location_id: li for li, loc in enumerate(locs)}
        for d in self.drifts:
            li = index[d.location_id]
            wall = date_epoch(start + dt.timedelta(days=d.day))
            if d.kind == drift.STAFFING_DROP:
                self.staffing.drop_agents(li, wall // DAY)
            elif d.kind == drift.RING_TIME:
                self.staffing.raise_ring_no_answer(li, wall // DAY, drift.RING_TIME_SHARE)
            elif d.kind == drift.CALLBACKS_STOP:
                self.callbacks_stop[li] = int(self.tz[li].from_local(np.array([wall]))[0])
            else:
                raise ValueError(f"unknown drift kind {d.kind!r}")

    def keys(self, n: int) -> np.ndarray:
        out = np.arange(self.next_key, self.next_key + n, dtype=np.int64)
        self.next_key += n
        return out

    def local(self, loc: np.ndarray, t: np.ndarray) -> np.ndarray:
        wall = np.empty_like(t)
        for li in np.unique(loc):
            m = loc == li
            wall[m] = self.tz[li].to_local(t[m])
        return wall

    def is_open(self, loc: np.ndarray, t: np.ndarray) -> np.ndarray:
        wall = self.local(loc, t)
        wd = iso_weekday(wall)
        sec = wall % DAY
        return (
            (self.open_s[loc, wd] >= 0)
            & (sec >= self.open_s[loc, wd])
            & (sec < self.close_s[loc, wd])
        )

    def phones(self, loc: np.ndarray, caller: np.ndarray) -> np.ndarray:
        numbers = caller_numbers(self.npa[loc], caller, self.salt)
        repeated = (loc < len(REPEATED_DIGITS)) & (caller - self.pool_start[loc] == REPEATED_CALLER)
        if repeated.any():
            digits = np.array([repeated_digits(d) for d in REPEATED_DIGITS], dtype=np.int64)
            numbers = np.where(repeated, digits[np.minimum(loc, len(digits) - 1)], numbers)
        return numbers

    def propensity(self, caller: np.ndarray) -> np.ndarray:
        frac = ((caller * 2_654_435_761 + self.salt) % 1000) / 1000.0
        return 0.08 + 0.55 * frac**1.4

    def from_local(self, loc: np.ndarray, wall: np.ndarray) -> np.ndarray:
        t = np.empty_like(wall)
        for li in np.unique(loc):
            m = loc == li
            t[m] = self.tz[li].from_local(wall[m])
        return t

    def next_open(self, loc: np.ndarray, t: np.ndarray) -> np.ndarray:
        """First second at or after ``t`` when each location is open."""
        out = t.copy()
        pending = ~self.is_open(loc, out)
        for _ in range(20):
            if not pending.any():
                break
            idx = np.flatnonzero(pending)
            wall = self.local(loc[idx], out[idx])
            sec = wall % DAY
            opens = self.open_s[loc[idx], iso_weekday(wall)]
            before = (opens >= 0) & (sec < opens)
            new_wall = np.where(before, wall - sec + opens, wall - sec + DAY)
            out[idx] = self.from_local(loc[idx], new_wall)
            pending[idx] = ~self.is_open(loc[idx], out[idx])
        return out


def _hhmm(text: str) -> int:
    h, m = text.split(":")
    return int(h) * 3600 + int(m) * 60


def _empty_calls(ctx: Context, n: int) -> Table:
    z64 = np.zeros(n, dtype=np.int64)
    return Table(
        {
            "key": ctx.keys(n),
            "loc": np.zeros(n, dtype=np.int64),
            "caller": np.full(n, -1, dtype=np.int64),
            "phone": z64.copy(),
            "junk": np.full(n, -1, dtype=np.int64),
            "t": z64.copy(),
            "direction": np.zeros(n, dtype=np.int8),
            "origin": np.zeros(n, dtype=np.int8),
            "tracked": np.zeros(n, dtype=bool),
            "tracker": np.zeros(n, dtype=np.int64),
            "cr_lead": np.zeros(n, dtype=np.int64),
            "after_hours": np.zeros(n, dtype=bool),
            "spam": np.zeros(n, dtype=bool),
            "outcome": np.zeros(n, dtype=np.int8),
            "exit_kind": np.zeros(n, dtype=np.int8),
            "wait": z64.copy(),
            "talk": z64.copy(),
            "ring": z64.copy(),
            "n_rna": z64.copy(),
            "xfer": np.zeros(n, dtype=np.int8),
            "xfer_at": z64.copy(),
            "xfer_wait": z64.copy(),
            "xfer_talk": z64.copy(),
            "agent": z64.copy(),
            "agent2": z64.copy(),
            "would_buy": np.zeros(n, dtype=bool),
            "ticket": z64.copy(),
            "intent": np.full(n, -1, dtype=np.int64),
            "head_t": z64.copy(),
            "present": z64.copy(),
            "depth": z64.copy(),
            "position": np.ones(n, dtype=np.int64),
            "staff_state": np.zeros(n, dtype=np.int8),
            # a call of new demand: not a retry of a call left unanswered in a PBX queue
            "is_demand": np.ones(n, dtype=bool),
        }
    )


def fresh_arrivals(rng: np.random.Generator, ctx: Context, day: int) -> Table:
    """New inbound calls for local day ``day`` at every location."""
    date = ctx.start + dt.timedelta(days=day)
    base = date_epoch(date)
    wd = date.isoweekday()
    counts = rng.poisson(ctx.volume * WEEKDAY_VOLUME[wd])
    n = int(counts.sum())
    calls = _empty_calls(ctx, n)
    loc = np.repeat(np.arange(len(ctx.locs)), counts)
    hour = rng.choice(24, size=n, p=HOUR_P)
    wall = base + hour * 3600 + rng.integers(0, 3600, size=n)
    t = np.empty(n, dtype=np.int64)
    for li in range(len(ctx.locs)):
        m = loc == li
        t[m] = ctx.tz[li].from_local(wall[m])
    order = np.lexsort((loc, t))
    loc, t = loc[order], t[order]
    calls["loc"], calls["t"] = loc, t
    pool = ctx.pool_size[loc]
    calls["caller"] = ctx.pool_start[loc] + (pool * rng.random(n) ** 1.3).astype(np.int64)
    calls["phone"] = ctx.phones(loc, calls["caller"])
    calls["origin"][:] = FRESH
    no_pbx = ~ctx.has_pbx[loc]
    calls["tracked"] = (rng.random(n) < ctx.params.tracked_share) | no_pbx
    spam = rng.random(n) < ctx.params.spam_share
    tracked_spam = spam & ((rng.random(n) < ctx.params.tracked_spam_share) | no_pbx)
    junk = spam & ~tracked_spam
    calls["spam"] = spam
    calls["tracked"] = np.where(junk, False, calls["tracked"] | tracked_spam)
    spam_phone = SPAM_NPAS[rng.integers(0, len(SPAM_NPAS), n)] * 10_000_000 + rng.integers(
        2_000_000, 9_999_999, n
    )
    calls["phone"] = np.where(tracked_spam, avoid_lookalikes(spam_phone), calls["phone"])
    calls["phone"] = np.where(junk, 0, calls["phone"])
    calls["junk"] = np.where(junk, rng.integers(0, 8, n), -1)
    calls["caller"] = np.where(spam, -1, calls["caller"])
    _set_tracking(rng, ctx, calls)
    _fresh_intent(rng, ctx, calls, np.ones(n, dtype=bool))
    simulate_inbound(rng, ctx, calls)
    _withhold(ctx, calls)
    return calls


def _withhold(ctx: Context, calls: Table) -> None:
    """Some genuine callers withhold their caller id (the PBX sees ``anonymous``,
    ``Restricted``...; CallRail the same, or nothing). By docs/metrics.md a caller id that is
    not a phone number makes the call spam, whoever called: the outcome is ``spam``, nothing
    follows from it (no callback to a number nobody knows, no retry, follow-up or purchase)
    and the call is not transferred. Only where CallRail and a PBX would not both record it:
    untracked at a PBX location (a CallRail record and a PBX call without a number cannot be
    stitched), tracked at the location without a PBX. Edge stream only."""
    n = len(calls)
    edge = ctx.edge_rng
    roll, junk = edge.random(n), edge.integers(0, len(JUNK_CALLER_IDS), n)
    pbx = ctx.has_pbx[calls["loc"]]
    withheld = (roll < WITHHELD_SHARE) & ~calls["spam"] & (pbx != calls["tracked"])
    if not withheld.any():
        return
    calls["phone"] = np.where(withheld, 0, calls["phone"])
    calls["junk"] = np.where(withheld, junk, calls["junk"])
    calls["outcome"] = np.where(withheld, SPAM, calls["outcome"]).astype(np.int8)
    for name in ("xfer", "xfer_at", "xfer_wait", "xfer_talk"):
        calls[name] = np.where(withheld, 0, calls[name]).astype(calls[name].dtype)


def _set_tracking(rng: np.random.Generator, ctx: Context, calls: Table) -> None:
    n = len(calls)
    k = ctx.n_trackers[calls["loc"]]
    # Earlier trackers (paid search) ring more often than later ones.
    calls["tracker"] = np.minimum((k * rng.random(n) ** 1.5).astype(np.int64), k - 1)
    # CallRail sees the call 0-5 s before the PBX's trunk leg starts; with no PBX there is
    # nothing to differ from, so CallRail's start is the call's start.
    calls["cr_lead"] = np.where(ctx.has_pbx[calls["loc"]], rng.integers(0, 6, n), 0)
    calls["present"] = rng.choice(3, size=n, p=[0.5, 0.3, 0.2])


def _fresh_intent(rng: np.random.Generator, ctx: Context, calls: Table, mask: np.ndarray) -> None:
    n = int(mask.sum())
    caller = calls["caller"][mask]
    p = np.where(caller >= 0, ctx.propensity(np.maximum(caller, 0)), 0.0)
    if len(calls) and mask.any():
        origin = calls["origin"][mask]
        p = np.where(origin == FOLLOW_UP, p * 0.3, p)
    calls["would_buy"][mask] = rng.random(n) < p
    median = ctx.ticket[calls["loc"][mask]]
    calls["ticket"][mask] = np.maximum(500, (median * rng.lognormal(0.0, 0.55, n)).astype(np.int64))
    calls["intent"][mask] = calls["key"][mask]
    calls["head_t"][mask] = calls["t"][mask]


def simulate_inbound(rng: np.random.Generator, ctx: Context, calls: Table) -> None:
    """Decide how each inbound call ends: fills outcome, wait, talk, transfers, agents."""
    if len(calls) == 0:
        return
    loc, t = calls["loc"], calls["t"]
    pbx = ctx.has_pbx[loc]
    wall = ctx.local(loc, t)
    load = HOUR_LOAD[(wall % DAY) // 3600] * WEEKDAY_LOAD[iso_weekday(wall)]
    after = ~ctx.is_open(loc, t)
    calls["after_hours"] = after
    queued = pbx & ~after & ~calls["spam"]
    state, answer_wait = _queue_states(rng, ctx, loc, t, queued, load)
    exit_kind, wait, answered = _queue_exit(
        rng, ctx, loc, pbx, answer_wait, ~after & ~calls["spam"]
    )
    talk, outcome = _talk_and_outcome(rng, exit_kind, wait, answered)
    _after_hours(rng, after, pbx, ctx.forward_ring[loc], exit_kind, wait, talk, outcome)
    answered &= ~after
    answered = _spam(
        rng, calls["spam"], after, answer_wait, exit_kind, wait, talk, outcome, answered
    )
    calls["exit_kind"], calls["wait"] = exit_kind, wait
    calls["talk"], calls["outcome"] = talk, outcome
    calls["staff_state"] = state
    _agents_and_transfers(rng, ctx, calls, answered, pbx & ~after, load)


def _queue_states(
    rng: np.random.Generator,
    ctx: Context,
    loc: np.ndarray,
    t: np.ndarray,
    queued: np.ndarray,
    load: np.ndarray,
) -> tuple[np.ndarray, np.ndarray]:
    """(staff_state, answer_wait): the queue state a PBX caller in open hours finds when the
    greeting ends (:mod:`.staffing`) and the seconds from the call's start until an agent
    would pick up: greeting, 2 s before the first ring, the wait for a busy agent, a ring
    round (RING_GAP s) per member who let it ring out, and the answering ring. Nobody staffed:
    nobody ever picks up. Calls not queued (no PBX, after hours, spam) keep the mobile's
    model: about 3 s plus an exponential wait that grows with the hour's load."""
    n = len(loc)
    answer_wait = np.ceil(3 + rng.exponential(ctx.base_wait[loc] * load)).astype(np.int64)
    state = np.zeros(n, dtype=np.int8)
    idx = np.flatnonzero(queued)
    if len(idx):
        lq = loc[idx]
        entry = ctx.local(lq, t[idx] + ctx.greeting[lq])
        found, busy_wait = ctx.staffing.queue_states(
            rng, lq, entry // DAY, iso_weekday(entry), (entry % DAY) // 3600
        )
        rounds = ctx.staffing.ring_rounds(rng, lq, entry // DAY)
        ring = rng.integers(2, 9, len(idx))
        pick_up = ctx.greeting[lq] + 2 + busy_wait + rounds * staffing.RING_GAP + ring
        answer_wait[idx] = np.where(found == staffing.NOBODY, 10**9, pick_up)
        state[idx] = found
    return state, answer_wait


def _queue_exit(
    rng: np.random.Generator,
    ctx: Context,
    loc: np.ndarray,
    pbx: np.ndarray,
    answer_wait: np.ndarray,
    edge_eligible: np.ndarray | None = None,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Race between an agent picking up, the caller's patience, a keypress to voicemail and
    the queue timeout (or, without a PBX, the mobile's ring time before its voicemail). An
    agent picking up wins every tie; a caller whose patience ends exactly at the timeout rang
    out (timeout wins over abandon), so a hang-up is strictly shorter than the timeout. Then
    some ``edge_eligible`` calls near a threshold are snapped onto it (:func:`_snap_to_edges`).
    Returns (exit_kind, wait, answered)."""
    n = len(loc)
    # Drawn patience: short (2-8 s) or long (12 s on); :func:`_snap_to_edges` moves a share of
    # the calls near a threshold onto it.
    patience = np.where(
        rng.random(n) < ctx.params.short_patience_share,
        rng.integers(2, 9, n),
        np.maximum(12, rng.lognormal(np.log(55), 0.8, n)),
    ).astype(np.int64)
    timeout = np.where(pbx, ctx.timeout[loc], ctx.forward_ring[loc])
    key_at = np.where(
        pbx & (rng.random(n) < ctx.params.keypress_share), rng.integers(20, 60, n), 10**9
    )
    vm_after_timeout = rng.random(n) < np.where(pbx, 0.55, 0.6)
    first_exit = np.minimum(np.minimum(patience, timeout), key_at)
    answered = answer_wait <= first_exit
    exit_kind = np.full(n, EXIT_NONE, dtype=np.int8)
    unans = ~answered
    exit_kind[unans & (patience == first_exit) & (patience < timeout)] = EXIT_ABANDON
    exit_kind[unans & (key_at == first_exit) & (patience > first_exit)] = EXIT_KEY_VM
    timed_out = unans & (timeout == first_exit) & (patience >= first_exit) & (key_at > first_exit)
    exit_kind[timed_out & vm_after_timeout] = EXIT_TIMEOUT_VM
    exit_kind[timed_out & ~vm_after_timeout] = EXIT_TIMEOUT_DROP
    wait = np.where(answered, answer_wait, first_exit)
    if edge_eligible is not None:
        # how late a hang-up may come and stay one (the agent's pick-up, the timeout or the
        # keypress would come first), and how late a pick-up may come and still win the race
        hang_up_before = np.minimum(np.minimum(answer_wait, timeout), key_at)
        wait = _snap_to_edges(
            ctx, loc, pbx, edge_eligible, exit_kind, answered, wait, hang_up_before, first_exit
        )
    return exit_kind, wait, answered


def _snap_to_edges(
    ctx: Context,
    loc: np.ndarray,
    pbx: np.ndarray,
    eligible: np.ndarray,
    exit_kind: np.ndarray,
    answered: np.ndarray,
    wait: np.ndarray,
    hang_up_before: np.ndarray,
    answer_by: np.ndarray,
) -> np.ndarray:
    """Move the waits of EDGE_SHARE of the ``eligible`` calls whose own wait came near a
    threshold onto it (EDGES; edge stream): a hang-up after 7 s to 9 s, one after 13 s to 10 s
    or 11 s, a pick-up after 24 s of queue to 21 s... Only to where the call stays the kind of
    call it was: the same outcome (short abandon below 10 s on the caller's clock, abandoned,
    answered), in or out of the queue, within T or not on the clock T is judged on (the
    queue's at a PBX, else the caller's), and the same winner of the race (a hang-up before
    the pick-up, timeout and keypress it escaped; a pick-up no later than the caller's
    patience, the timeout or the keypress). So the outcomes, and everything that follows from
    them, are the simulation's own; only seconds move. Returns the new waits."""
    n = len(loc)
    edge = ctx.edge_rng
    roll, pick = edge.random(n), edge.integers(0, 1 << 30, n)
    greeting = np.where(pbx, ctx.greeting[loc], 0)
    ring = ctx.forward_ring[loc]
    queue_wait = wait - greeting
    hang_up = eligible & (exit_kind == EXIT_ABANDON)
    groups = {
        "hang_up": hang_up & (wait >= 5) & (wait <= 15),
        "queue": hang_up
        & pbx
        & (wait > 15)
        & (queue_wait >= SERVICE_LEVEL_SECONDS - 5)
        & (queue_wait <= SERVICE_LEVEL_SECONDS + 5),
        "ring": hang_up & ~pbx & (wait > SERVICE_LEVEL_SECONDS) & (wait >= ring - 5),
        "answer": eligible
        & answered
        & pbx
        & (queue_wait >= SERVICE_LEVEL_SECONDS - 8)
        & (queue_wait <= SERVICE_LEVEL_SECONDS + 5),
    }
    chosen = roll < EDGE_SHARE

    def kind(w: np.ndarray) -> tuple[np.ndarray, ...]:
        judged = np.where(pbx, w - greeting, w)
        return w < SHORT_ABANDON_SECONDS, judged <= SERVICE_LEVEL_SECONDS, w >= greeting

    before = kind(wait)
    options = []
    for group, clock, seconds in EDGES:
        if clock == "caller":
            to = np.full(n, seconds, dtype=np.int64)
        elif clock == "queue":
            to = greeting + seconds
        else:  # "ring"
            to = ring - seconds
        ok = chosen & groups[group] & (to != wait)
        if clock == "queue":
            ok &= pbx
        ok &= np.where(answered, to <= answer_by, to < hang_up_before)
        for was, now in zip(before, kind(to), strict=True):
            ok &= was == now
        options.append((ok, to))
    allowed = np.stack([ok for ok, _ in options], axis=1)
    count = allowed.sum(axis=1)
    which = np.where(count > 0, pick % np.maximum(count, 1), -1)
    # the which-th allowed target of each call
    rank = np.cumsum(allowed, axis=1) - 1
    take = allowed & (rank == which[:, None])
    targets = np.stack([to for _, to in options], axis=1)
    snapped = take.any(axis=1)
    return np.where(snapped, (targets * take).sum(axis=1), wait).astype(wait.dtype)


def _talk_and_outcome(
    rng: np.random.Generator,
    exit_kind: np.ndarray,
    wait: np.ndarray,
    answered: np.ndarray,
) -> tuple[np.ndarray, np.ndarray]:
    """Talk (or voicemail message) seconds and the METRICS outcome, the same rule at every
    location: a hang-up before 10 s is a short abandon, a later one abandoned, a timeout
    without a message missed. (At a location without a PBX CallRail itself calls a hang-up
    of 15 s or more ``missed``; that is only its rendering, see :mod:`.callrail`.)"""
    n = len(wait)
    talk = np.clip(rng.lognormal(np.log(180), 0.7, n), 20, 3600).astype(np.int64)
    vm_len = np.where(rng.random(n) < 0.75, rng.integers(15, 91, n), rng.integers(3, 11, n))
    is_vm = (exit_kind == EXIT_KEY_VM) | (exit_kind == EXIT_TIMEOUT_VM)
    talk = np.where(answered, talk, np.where(is_vm, vm_len, 0))
    outcome = np.full(n, MISSED, dtype=np.int8)
    outcome[answered] = ANSWERED
    outcome[is_vm] = VOICEMAIL
    abandon = exit_kind == EXIT_ABANDON
    outcome[abandon] = ABANDONED
    outcome[abandon & (wait < SHORT_ABANDON_SECONDS)] = SHORT_ABANDON
    return talk, outcome


def _after_hours(
    rng: np.random.Generator,
    after: np.ndarray,
    pbx: np.ndarray,
    forward_ring: np.ndarray,
    exit_kind: np.ndarray,
    wait: np.ndarray,
    talk: np.ndarray,
    outcome: np.ndarray,
) -> None:
    """A PBX sends after-hours calls straight to voicemail; the mobile rings out to its
    voicemail (after ``forward_ring`` seconds) or the caller hangs up before that. Updates the
    arrays in place."""
    n = len(after)
    after_vm = after & (pbx | (rng.random(n) < 0.6))
    after_len = np.where(rng.random(n) < 0.7, rng.integers(20, 91, n), rng.integers(4, 16, n))
    hang_up = after & ~after_vm
    exit_kind[after & after_vm] = EXIT_AFTER_VM
    exit_kind[hang_up] = EXIT_ABANDON
    wait[after] = np.where(pbx[after], 0, forward_ring[after])
    wait[hang_up] = np.minimum(rng.integers(4, 40, n), forward_ring - 1)[hang_up]
    talk[after] = np.where(after_vm[after], after_len[after], 0)
    outcome[after] = AFTER_HOURS


def _spam(
    rng: np.random.Generator,
    spam: np.ndarray,
    after: np.ndarray,
    answer_wait: np.ndarray,
    exit_kind: np.ndarray,
    wait: np.ndarray,
    talk: np.ndarray,
    outcome: np.ndarray,
    answered: np.ndarray,
) -> np.ndarray:
    """Robocalls hang up within seconds or are answered briefly; returns ``answered``."""
    n = len(spam)
    spam_ans = spam & ~after & (rng.random(n) < 0.4)
    spam_drop = spam & ~after & ~spam_ans
    exit_kind[spam_ans] = EXIT_NONE
    wait[spam_ans] = np.minimum(answer_wait[spam_ans], 20)
    talk[spam_ans] = rng.integers(5, 41, int(spam_ans.sum()))
    exit_kind[spam_drop] = EXIT_ABANDON
    wait[spam_drop] = rng.integers(2, 9, int(spam_drop.sum()))
    talk[spam_drop] = 0
    outcome[spam] = SPAM
    return np.where(spam, spam_ans, answered)


def _agents_and_transfers(
    rng: np.random.Generator,
    ctx: Context,
    calls: Table,
    answered: np.ndarray,
    in_queue: np.ndarray,
    load: np.ndarray,
) -> None:
    """Ring time, ring-no-answer attempts, agents, queue position and transfers."""
    n = len(calls)
    loc, wait, talk = calls["loc"], calls["wait"], calls["talk"]
    ring = np.minimum(rng.integers(2, 9, n), np.maximum(wait - 1, 1))
    calls["ring"] = np.where(answered, ring, 0)
    queue_time = np.where(answered, wait - calls["ring"], wait)
    calls["n_rna"] = np.where(in_queue, np.minimum(np.maximum(queue_time - 2, 0) // 17, 3), 0)
    # A caller who left unanswered was rung only when a member was free: every ring round
    # that ended before they left (the round they left in is cancelled: pbx._ring_cancelled).
    state = calls["staff_state"]
    rung_for = wait - ctx.greeting[loc] - 2 - staffing.RING_SECONDS
    rung = np.maximum(rung_for, -1) // staffing.RING_GAP + 1
    calls["n_rna"] = np.where(
        ~answered & (state != staffing.NOT_QUEUED),
        np.where(state == staffing.FREE, rung, 0),
        calls["n_rna"],
    )
    agents = ctx.n_agents[loc]
    # The agent who answers is one of those the plan has on the phones in that hour.
    entry = ctx.local(loc, calls["t"] + ctx.greeting[loc])
    on_duty = ctx.staffing.agents_at(loc, entry // DAY, iso_weekday(entry), (entry % DAY) // 3600)
    pool = np.where(in_queue & (on_duty > 0), on_duty, agents)
    calls["agent"] = rng.integers(0, 1 << 30, n) % pool
    calls["agent2"] = (calls["agent"] + 1 + rng.integers(0, 1 << 30, n) % (agents - 1)) % agents
    calls["position"] = 1 + rng.poisson(load * 0.8)
    xfer_roll = rng.random(n)
    can_xfer = answered & ~calls["spam"] & in_queue
    xfer = np.full(n, XFER_NONE, dtype=np.int8)
    xfer[can_xfer & (xfer_roll < 0.055)] = XFER_ESCALATION
    xfer[can_xfer & (xfer_roll >= 0.055) & (xfer_roll < 0.12)] = XFER_AGENT
    calls["xfer"] = xfer
    calls["xfer_at"] = np.where(xfer > 0, (talk * rng.uniform(0.3, 0.7, n)).astype(np.int64), 0)
    calls["xfer_wait"] = np.where(xfer == XFER_ESCALATION, rng.integers(5, 61, n), 0)
    calls["xfer_talk"] = np.where(
        xfer > 0, np.clip(rng.lognormal(np.log(150), 0.6, n), 20, 2400).astype(np.int64), 0
    )
    calls["agent2"] = np.where(xfer == XFER_ESCALATION, rng.integers(0, 3, n), calls["agent2"])


def end_time(calls: Table) -> np.ndarray:
    """Last second of the call (wait + talk + any transferred part)."""
    extra = np.where(
        calls["xfer"] > 0,
        calls["xfer_wait"] + calls["xfer_talk"] - (calls["talk"] - calls["xfer_at"]),
        0,
    )
    return calls["t"] + calls["wait"] + calls["talk"] + extra


def _delay(
    rng: np.random.Generator, n: int, shares: list[float], ranges: list[tuple[int, int]]
) -> np.ndarray:
    which = rng.choice(len(shares), size=n, p=np.array(shares) / sum(shares))
    lo = np.array([r[0] for r in ranges])[which]
    hi = np.array([r[1] for r in ranges])[which]
    return (lo + rng.random(n) * (hi - lo)).astype(np.int64)


def _child_calls(ctx: Context, parent: Table, t: np.ndarray, origin: int) -> Table:
    child = _empty_calls(ctx, len(parent))
    for name in ("loc", "caller", "phone", "would_buy", "ticket", "intent", "head_t"):
        child[name] = parent[name].copy()
    child["t"] = t
    child["origin"][:] = origin
    child["depth"] = parent["depth"] + 1
    return child


def _renew_intent(rng: np.random.Generator, ctx: Context, child: Table) -> None:
    """Children more than the recovery window after the intent's first call start afresh."""
    stale = child["t"] - child["head_t"] > RECOVERY_WINDOW
    if child["origin"].size and (child["origin"] == FOLLOW_UP).any():
        stale |= child["origin"] == FOLLOW_UP
    _fresh_intent(rng, ctx, child, stale)


def callbacks(rng: np.random.Generator, ctx: Context, parent: Table) -> Table:
    n = len(parent)
    t = end_time(parent) + _delay(
        rng, n, [0.55, 0.33, 0.12], [(180, 3600), (3600, 6 * 3600), (24 * 3600, 48 * 3600)]
    )
    t = ctx.next_open(parent["loc"], t)
    t += rng.integers(0, 1800, n)
    t, exact = _exact_window(ctx, parent, t, open_only=True)
    cb = _child_calls(ctx, parent, t, CALLBACK)
    cb["direction"][:] = 1
    picked = (rng.random(n) < 0.55) | exact  # the customer picks up an exact-window callback
    cb["outcome"] = np.where(picked, ANSWERED, MISSED).astype(np.int8)
    cb["wait"] = np.where(picked, rng.integers(5, 20, n), 30)
    cb["talk"] = np.where(picked, np.clip(rng.lognormal(np.log(150), 0.6, n), 20, 1800), 0).astype(
        np.int64
    )
    cb["agent"] = rng.integers(0, 1 << 30, n) % ctx.n_agents[cb["loc"]]
    cb["present"] = rng.choice(3, size=n, p=[0.5, 0.3, 0.2])
    cb["tracker"] = np.zeros(n, dtype=np.int64)
    cb["tracked"] = ~ctx.has_pbx[cb["loc"]]
    _renew_intent(rng, ctx, cb)
    # A callbacks_stop drift: no callback at or after the location's stop (dropped only after
    # every draw, so the random stream is the same as without the drift until then).
    made = cb["t"] < ctx.callbacks_stop[cb["loc"]]
    if not made.all():
        cb = cb.take(np.flatnonzero(made))
    return cb


def _exact_window(
    ctx: Context, parent: Table, t: np.ndarray, open_only: bool
) -> tuple[np.ndarray, np.ndarray]:
    """EXACT_WINDOW_SHARE of the calls following ``parent`` (edge stream) start exactly 24 h
    after it, start to start, or 24 h and 1 s after (half each): the end of the recovery and
    repeat windows (docs/metrics.md: a window includes its end). With ``open_only`` only where
    the location is open then (a callback). Returns (t, the calls moved)."""
    n = len(parent)
    edge = ctx.edge_rng
    roll, late = edge.random(n), edge.integers(0, 2, n)
    exact_t = parent["t"] + RECOVERY_WINDOW + late
    moved = roll < EXACT_WINDOW_SHARE
    if open_only and moved.any():
        moved &= ctx.is_open(parent["loc"], exact_t)
    return np.where(moved, exact_t, t), moved


def retries(
    rng: np.random.Generator,
    ctx: Context,
    parent: Table,
    origin: int,
    shares: list[float],
    ranges: list[tuple[int, int]],
) -> Table:
    n = len(parent)
    t = end_time(parent) + _delay(rng, n, shares, ranges)
    # Most people who call again wait until the business is open.
    wait_for_open = ~ctx.is_open(parent["loc"], t) & (rng.random(n) < 0.85)
    if wait_for_open.any():
        idx = np.flatnonzero(wait_for_open)
        t[idx] = ctx.next_open(parent["loc"][idx], t[idx]) + rng.integers(0, 4 * 3600, len(idx))
    if origin == FOLLOW_UP:
        t, _ = _exact_window(ctx, parent, t, open_only=False)
    child = _child_calls(ctx, parent, t, origin)
    if origin == RETRY:  # a retry after the queue left the caller unanswered is no new demand
        child["is_demand"] = (parent["direction"] != 0) | (
            parent["staff_state"] == staffing.NOT_QUEUED
        )
    no_pbx = ~ctx.has_pbx[child["loc"]]
    child["tracked"] = (rng.random(n) < ctx.params.tracked_share) | no_pbx
    _set_tracking(rng, ctx, child)
    _renew_intent(rng, ctx, child)
    simulate_inbound(rng, ctx, child)
    return child


MISSED_OPPS = (VOICEMAIL, ABANDONED, MISSED, SHORT_ABANDON, AFTER_HOURS)
P_CALLBACK = {VOICEMAIL: 0.6, ABANDONED: 0.25, MISSED: 0.3, SHORT_ABANDON: 0.05, AFTER_HOURS: 0.45}
P_RETRY = {VOICEMAIL: 0.15, ABANDONED: 0.45, MISSED: 0.4, SHORT_ABANDON: 0.5, AFTER_HOURS: 0.3}
RETRY_SHARES = [0.55, 0.3, 0.15]
# A redial comes at least 130 s after the previous call ended, so two calls of one caller
# never start within the warehouse's 120 s stitching tolerance of each other.
RETRY_RANGES = [(130, 1800), (1800, 12 * 3600), (12 * 3600, 60 * 3600)]


def spawn(rng: np.random.Generator, ctx: Context, calls: Table) -> tuple[Table, Table]:
    """Calls and purchases that follow from ``calls``: (children, purchases)."""
    n = len(calls)
    outcome, inbound = calls["outcome"], calls["direction"] == 0
    roll = rng.random(n)
    p_cb = np.zeros(n)
    p_re = np.zeros(n)
    for code in MISSED_OPPS:
        m = inbound & (outcome == code)
        p_cb[m], p_re[m] = P_CALLBACK[code], P_RETRY[code]
    p_re[~inbound & (outcome == MISSED)] = 0.4
    live = (calls["depth"] < 4) & ~calls["spam"]
    cb_mask = live & (roll < p_cb)
    re_mask = live & ~cb_mask & (roll < p_cb + p_re)
    answered = (outcome == ANSWERED) & ~calls["spam"]
    fu_mask = inbound & answered & (rng.random(n) < ctx.params.follow_up_share)
    children = [
        callbacks(rng, ctx, calls.take(np.flatnonzero(cb_mask))),
        retries(rng, ctx, calls.take(np.flatnonzero(re_mask)), RETRY, RETRY_SHARES, RETRY_RANGES),
        retries(
            rng,
            ctx,
            calls.take(np.flatnonzero(fu_mask)),
            FOLLOW_UP,
            [0.5, 0.5],
            [(3600, 20 * 3600), (DAY, 6 * DAY)],
        ),
    ]
    buy = answered & calls["would_buy"] & (calls["t"] - calls["head_t"] <= RECOVERY_WINDOW)
    lost_deal = (
        answered & inbound & ~calls["would_buy"] & (rng.random(n) < ctx.params.lost_deal_share)
    )
    return Table.concat(children), purchases_from_calls(rng, ctx, calls, buy, lost_deal)


PURCHASE_SQUARE, PURCHASE_DEAL, PURCHASE_LOST_DEAL = range(3)
DEAL_TICKET_MULTIPLE = 4  # a HubSpot deal is worth this many of the caller's tickets


def _empty_purchases(n: int) -> Table:
    z = np.zeros(n, dtype=np.int64)
    return Table(
        {
            "loc": z.copy(),
            "caller": z.copy(),
            "phone": z.copy(),
            "t": z.copy(),
            "created": z.copy(),
            "amount": z.copy(),
            "kind": z.copy(),
            "call_key": np.full(n, -1, dtype=np.int64),
            "intent": np.full(n, -1, dtype=np.int64),
        }
    )


def purchases_from_calls(
    rng: np.random.Generator, ctx: Context, calls: Table, buy: np.ndarray, lost_deal: np.ndarray
) -> Table:
    idx = np.flatnonzero(buy | lost_deal)
    n = len(idx)
    p = _empty_purchases(n)
    src = calls.take(idx)
    end = end_time(src)
    p["loc"], p["caller"], p["phone"] = src["loc"], src["caller"], src["phone"]
    p["created"] = end
    p["t"] = end + _delay(
        rng, n, [0.4, 0.4, 0.2], [(3600, 8 * 3600), (DAY, 3 * DAY), (4 * DAY, 12 * DAY)]
    )
    is_deal = rng.random(n) < ctx.params.deal_share
    kind = np.where(is_deal, PURCHASE_DEAL, PURCHASE_SQUARE)
    lost = lost_deal[idx]
    kind = np.where(lost, PURCHASE_LOST_DEAL, kind)
    p["kind"] = kind
    amount = np.where(kind == PURCHASE_SQUARE, src["ticket"], src["ticket"] * DEAL_TICKET_MULTIPLE)
    p["amount"] = amount
    p["call_key"] = src["key"]
    p["intent"] = np.where(lost, -1, src["intent"])
    return p


def walk_ins(rng: np.random.Generator, ctx: Context, day: int) -> Table:
    """Payments with no call behind them (walk-ins), during open hours of local ``day``."""
    date = ctx.start + dt.timedelta(days=day)
    wd = date.isoweekday()
    open_loc = ctx.open_s[:, wd] >= 0
    counts = rng.poisson(ctx.volume * ctx.params.walk_in_share * WEEKDAY_VOLUME[wd]) * open_loc
    n = int(counts.sum())
    p = _empty_purchases(n)
    loc = np.repeat(np.arange(len(ctx.locs)), counts)
    span = np.maximum(ctx.close_s[loc, wd] - ctx.open_s[loc, wd], 1)
    wall = date_epoch(date) + ctx.open_s[loc, wd] + (rng.random(n) * span).astype(np.int64)
    t = np.empty(n, dtype=np.int64)
    for li in range(len(ctx.locs)):
        m = loc == li
        t[m] = ctx.tz[li].from_local(wall[m])
    who = rng.random(n)
    caller = np.where(
        who < 0.25,
        ctx.pool_start[loc] + (ctx.pool_size[loc] * rng.random(n)).astype(np.int64),
        ctx.walkin_start + loc * WALK_IN_POOL + rng.integers(0, WALK_IN_POOL, n),
    )
    caller = np.where(who > 0.8, -1, caller)
    p["loc"], p["t"], p["created"], p["caller"] = loc, t, t, caller
    p["phone"] = np.where(caller >= 0, ctx.phones(loc, np.maximum(caller, 0)), 0)
    p["amount"] = np.maximum(
        300, (ctx.ticket[loc] * 0.6 * rng.lognormal(0, 0.5, n)).astype(np.int64)
    )
    p["kind"][:] = PURCHASE_SQUARE
    return p


def end_time_one(c: dict) -> int:
    """:func:`end_time` for one call given as a dict of Python scalars."""
    extra = 0
    if c["xfer"] > 0:
        extra = c["xfer_wait"] + c["xfer_talk"] - (c["talk"] - c["xfer_at"])
    return c["t"] + c["wait"] + c["talk"] + extra
