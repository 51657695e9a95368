"""Who answers the phones: each PBX location's staffing plan by weekday and hour, and the
state of its queue a caller finds.

The plan is the truth the warehouse is scored against (answer_key/staffing.csv and each
missed call's cause in calls.csv). It starts from the agents Erlang C says the hour's expected
calls need, then thins them where the business is short-handed (HOUR_LOAD and WEEKDAY_LOAD in
:mod:`.sim`: lunch, Mondays) and leaves a few hours with nobody at all (a late start on
Saturdays at odd-numbered locations, everybody at lunch at once on Wednesdays at some).

A caller's queue is sampled, not simulated caller by caller: with ``n`` agents available and
``A`` erlangs offered, all agents are busy with the probability Erlang C gives (every agent busy
when ``n <= A``), and the wait for one to free up is exponential with mean AHT / (n - A) (a
saturated hour: ``SATURATED_WAIT_SECONDS``). A caller who finds an agent free is rung to one at
once; each ring round the member lets ring out (RING_NO_ANSWER_SHARE, per location) costs a
ring round. So the three causes of a lost PBX call the warehouse tells apart are what decided
it here: nobody available, everybody busy (nobody rung), or rung and not picked up.
"""

from __future__ import annotations

import math
from dataclasses import replace

import numpy as np

from callshrink.generate.reference import Location

# Mean seconds an agent spends on an answered call: the talk time of sim._talk_and_outcome
# (lognormal, median 180 s, sigma 0.7, clipped to 20..3600 s) averages about this.
HANDLE_SECONDS = 230.0
# The plan's service-level target: 80 % of calls answered within 20 s.
TARGET_SECONDS = 20.0
TARGET_SHARE = 0.8
SATURATED_WAIT_SECONDS = 600.0
# A queue rings a member for RING_SECONDS; the next round starts RING_GAP seconds after the
# last began (the queue's timeout and retry).
RING_SECONDS = 15
RING_GAP = 17
# Agents a location plans beyond what Erlang C says it needs, by location number (i % 4).
SPARE_AGENTS = (0, 1, 2, 1)
# Chance a free member rung lets the ring time run out, by location number (i % 5).
RING_NO_ANSWER_SHARE = (0.10, 0.18, 0.28, 0.12, 0.22)
# Queue states a PBX caller finds (sim column ``staff_state``).
NOT_QUEUED, NOBODY, ALL_BUSY, FREE = range(4)
STATE_NAMES = ("", "nobody_staffed", "all_busy", "free")
NEVER = np.iinfo(np.int64).max  # no drift: its first day never comes


def erlang_c(agents: int, erlangs: float) -> float:
    """Probability a caller waits (Erlang C), through the Erlang B recursion."""
    if erlangs <= 0:
        return 0.0
    if agents <= erlangs:
        return 1.0
    b = 1.0
    for k in range(1, agents + 1):
        b = erlangs * b / (k + erlangs * b)
    return agents * b / (agents - erlangs * (1 - b))


def erlang_c_agents(calls_per_hour: float, handle_seconds: float = HANDLE_SECONDS) -> int:
    """Fewest agents that answer TARGET_SHARE of the calls within TARGET_SECONDS."""
    erlangs = calls_per_hour * handle_seconds / 3600.0
    if erlangs <= 0:
        return 0
    n = max(1, math.floor(erlangs) + 1)
    while True:
        waits = erlang_c(n, erlangs)
        level = 1 - waits * math.exp(-(n - erlangs) * TARGET_SECONDS / handle_seconds)
        if level >= TARGET_SHARE:
            return n
        n += 1


def with_agents(loc: Location, agents: int) -> Location:
    """``loc`` with at least ``agents`` extensions (numbered on from its own)."""
    have = len(loc.extensions)
    if agents <= have:
        return loc
    base = int(loc.extensions[0]) - 1
    return replace(loc, extensions=tuple(str(base + k + 1) for k in range(agents)))


class StaffingPlan:
    """Agents available per location (0-based), ISO weekday (1-7, index 0 unused) and local
    hour, with the expected fresh calls per hour and the agents Erlang C says they need."""

    def __init__(
        self,
        location_numbers: list[int],
        has_pbx: np.ndarray,
        volume: np.ndarray,
        open_s: np.ndarray,
        close_s: np.ndarray,
        hour_p: np.ndarray,
        weekday_volume: np.ndarray,
        hour_load: np.ndarray,
        weekday_load: np.ndarray,
    ) -> None:
        n = len(location_numbers)
        self.calls_per_hour = np.zeros((n, 8, 24))
        self.needed = np.zeros((n, 8, 24), dtype=np.int64)
        self.agents = np.zeros((n, 8, 24), dtype=np.int64)
        self.is_open_hour = np.zeros((n, 8, 24), dtype=bool)
        self.p_busy = np.zeros((n, 8, 24))
        self.ring_no_answer = np.array([RING_NO_ANSWER_SHARE[i % 5] for i in location_numbers])
        for li, i in enumerate(location_numbers):
            for wd in range(1, 8):
                if open_s[li, wd] < 0:
                    continue
                first, last = open_s[li, wd] // 3600, (close_s[li, wd] - 1) // 3600
                for h in range(first, last + 1):
                    rate = volume[li] * weekday_volume[wd] * hour_p[h]
                    need = erlang_c_agents(rate)
                    self.calls_per_hour[li, wd, h] = rate
                    self.needed[li, wd, h] = need
                    self.is_open_hour[li, wd, h] = True
                    if not has_pbx[li]:
                        continue
                    short = hour_load[h] * weekday_load[wd]
                    staffed = max(1, round((need + SPARE_AGENTS[i % 4]) / short))
                    if (wd == 6 and h == first and i % 2 == 1) or (
                        wd == 3 and h == 13 and i % 5 == 2
                    ):
                        staffed = 0  # a late start, everybody at lunch at once
                    self.agents[li, wd, h] = staffed
                    self.p_busy[li, wd, h] = erlang_c(staffed, rate * HANDLE_SECONDS / 3600.0)
        # Process drifts (:mod:`.drift`): from local epoch day ``*_from[li]`` on, a location's
        # plan is ``agents_after`` and its ring-out share ``ring_no_answer_after``.
        self.agents_from = np.full(n, NEVER, dtype=np.int64)
        self.agents_after = self.agents.copy()
        self.p_busy_after = self.p_busy.copy()
        self.ring_from = np.full(n, NEVER, dtype=np.int64)
        self.ring_no_answer_after = self.ring_no_answer.copy()

    def drop_agents(self, li: int, from_day: int) -> None:
        """From local epoch day ``from_day`` on, location ``li`` keeps ``agents // 2`` in
        every hour (a staffing_drop drift)."""
        self.agents_from[li] = from_day
        self.agents_after[li] = self.agents[li] // 2
        for wd, h in zip(*np.nonzero(self.is_open_hour[li]), strict=True):
            erlangs = self.calls_per_hour[li, wd, h] * HANDLE_SECONDS / 3600.0
            self.p_busy_after[li, wd, h] = erlang_c(int(self.agents_after[li, wd, h]), erlangs)

    def raise_ring_no_answer(self, li: int, from_day: int, share: float) -> None:
        """From local epoch day ``from_day`` on, free members at ``li`` let a ring run out with
        probability ``share`` (a ring_time drift)."""
        self.ring_from[li] = from_day
        self.ring_no_answer_after[li] = share

    def day_agents(self, li: int, day: int) -> np.ndarray:
        """The plan (iso weekday x hour) of location ``li`` on local epoch day ``day``."""
        return self.agents_after[li] if day >= self.agents_from[li] else self.agents[li]

    def agents_at(
        self, loc: np.ndarray, day: np.ndarray, weekday: np.ndarray, hour: np.ndarray
    ) -> np.ndarray:
        """Agents on the phones at these locations, local epoch days, weekdays and hours."""
        return np.where(
            day >= self.agents_from[loc],
            self.agents_after[loc, weekday, hour],
            self.agents[loc, weekday, hour],
        )

    def max_agents(self, li: int) -> int:
        return int(self.agents[li].max())

    def queue_states(
        self,
        rng: np.random.Generator,
        loc: np.ndarray,
        day: np.ndarray,
        weekday: np.ndarray,
        hour: np.ndarray,
    ) -> tuple[np.ndarray, np.ndarray]:
        """(state, seconds until an agent frees up) of the queue callers entering at these
        local epoch days, weekdays and hours find. The wait is 0 unless the state is
        ALL_BUSY."""
        dropped = day >= self.agents_from[loc]
        n_agents = np.where(
            dropped, self.agents_after[loc, weekday, hour], self.agents[loc, weekday, hour]
        )
        erlangs = self.calls_per_hour[loc, weekday, hour] * HANDLE_SECONDS / 3600.0
        p_busy = np.where(
            dropped, self.p_busy_after[loc, weekday, hour], self.p_busy[loc, weekday, hour]
        )
        busy = rng.random(len(loc)) < p_busy
        mean_wait = np.where(
            n_agents > erlangs,
            HANDLE_SECONDS / np.maximum(n_agents - erlangs, 1e-9),
            SATURATED_WAIT_SECONDS,
        )
        wait = rng.exponential(np.minimum(mean_wait, SATURATED_WAIT_SECONDS))
        state = np.where(n_agents == 0, NOBODY, np.where(busy, ALL_BUSY, FREE))
        return state, np.where(state == ALL_BUSY, np.ceil(wait), 0).astype(np.int64)

    def ring_rounds(self, rng: np.random.Generator, loc: np.ndarray, day: np.ndarray) -> np.ndarray:
        """Ring rounds free members let ring out before one picks up (geometric), callers
        entering on these local epoch days."""
        p = np.where(
            day >= self.ring_from[loc], self.ring_no_answer_after[loc], self.ring_no_answer[loc]
        )
        return np.floor(np.log(1 - rng.random(len(loc))) / np.log(p)).astype(np.int64)
