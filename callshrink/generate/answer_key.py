"""The answer key: true outcomes, recovery, repeat contacts, revenue and attribution.

Computed from the generator's own call table and money records with the definitions of
docs/metrics.md (see the package docstring for every file and column). Money is integer cents and
is written as decimal strings. The one expectation, what a lost buyer's purchase would have
brought, is rounded to whole cents per buyer before anything is summed.
"""

from __future__ import annotations

import csv
import datetime as dt
import json
from collections import defaultdict
from pathlib import Path

import numpy as np

from callshrink.generate import callrail, drift, sim, staffing
from callshrink.generate.commerce import (
    DEAL,
    KIND_NAMES,
    PAYMENT,
    REFUND,
    MoneyLog,
    expected_purchase_value,
)
from callshrink.generate.table import Table
from callshrink.generate.tz import date_epoch

ATTRIBUTION_WINDOW = 30 * sim.DAY
REPEAT_WINDOWS = {"24h": sim.DAY, "7d": 7 * sim.DAY}
OPPORTUNITY = (sim.VOICEMAIL, sim.ABANDONED, sim.MISSED)
SERVICE_LEVEL_SECONDS = 20  # the warehouse's default var service_level_seconds
_SHIFT = 27


def usd(cents: int) -> str:
    sign = "-" if cents < 0 else ""
    whole, frac = divmod(abs(int(cents)), 100)
    return f"{sign}{whole}.{frac:02d}"


def _combine(
    keys_a: np.ndarray, keys_b: np.ndarray, t_a: np.ndarray, t_b: np.ndarray, base: int
) -> tuple[np.ndarray, np.ndarray]:
    _, inverse = np.unique(np.concatenate((keys_a, keys_b)), return_inverse=True)
    inverse = inverse.astype(np.int64)
    ra, rb = inverse[: len(keys_a)], inverse[len(keys_a) :]
    return (ra << _SHIFT) | (t_a - base), (rb << _SHIFT) | (t_b - base)


def _nearest(
    src_key: np.ndarray,
    src_t: np.ndarray,
    dst_key: np.ndarray,
    dst_t: np.ndarray,
    window: int,
    base: int,
    after: bool,
) -> np.ndarray:
    """Index into dst of the nearest event with the same key strictly after (or before) src
    within window (-1 if none)."""
    if not len(dst_key):
        return np.full(len(src_key), -1, dtype=np.int64)
    a, b = _combine(src_key, dst_key, src_t, dst_t, base)
    order = np.argsort(b, kind="stable")
    sb = b[order]
    if after:
        idx = np.searchsorted(sb, a, side="right")
        ok = idx < len(sb)
        idx_c = np.minimum(idx, len(sb) - 1)
    else:
        idx = np.searchsorted(sb, a, side="left") - 1
        ok = idx >= 0
        idx_c = np.maximum(idx, 0)
    hit = order[idx_c]
    ok &= (sb[idx_c] >> _SHIFT) == (a >> _SHIFT)
    ok &= np.abs(dst_t[hit] - src_t) <= window
    return np.where(ok, hit, -1)


def next_after(
    src_key: np.ndarray,
    src_t: np.ndarray,
    dst_key: np.ndarray,
    dst_t: np.ndarray,
    window: int,
    base: int,
) -> np.ndarray:
    """Index into dst of the first event with the same key strictly after src within window
    (-1 if none)."""
    return _nearest(src_key, src_t, dst_key, dst_t, window, base, after=True)


def latest_before(
    src_key: np.ndarray,
    src_t: np.ndarray,
    dst_key: np.ndarray,
    dst_t: np.ndarray,
    window: int,
    base: int,
) -> np.ndarray:
    """Index into dst of the latest event with the same key strictly before src within window
    (-1 if none)."""
    return _nearest(src_key, src_t, dst_key, dst_t, window, base, after=False)


def true_outcomes(ctx: sim.Context, calls: Table) -> np.ndarray:
    """Each inbound call's outcome by docs/metrics.md (Outcomes, Precedence), applied to what
    the systems record, on the clock the definition names; not the outcome the simulation
    meant (which only drives what follows a call).

    1. ``spam``: CallRail tagged it (a tracked robocall), or the caller id is not a phone
       number (withheld, ``anonymous``, junk digits; ``phone`` 0), whoever called and
       whether or not CallRail tracked it. A valid number never makes a call spam, however
       it looks (a spam area code, toll-free, repeated digits).
    2. ``after_hours``: it started while the location was closed (business_hours in the
       location's zone).
    3. At a PBX location, the PBX decides: ``answered`` (a queue member answered),
       ``voicemail`` (a VoiceMail record), ``missed`` (the queue timed out, no message), else
       the caller hung up: ``short_abandon`` if the caller's wait (from the trunk's start,
       greeting included: the caller's clock) is below SHORT_ABANDON_SECONDS (exactly 10 s is
       not), else ``abandoned``.
       Without a PBX, CallRail decides: its voicemail flag, its answered flag, then its
       duration (the seconds the forwarded phone rang, which is the caller's wait):
       ``short_abandon`` below SHORT_ABANDON_SECONDS, ``abandoned`` below the location's
       forward ring time (locations.csv), else ``missed`` (exactly the ring time rang out).
    Outbound calls get -1 (they have no outcome)."""
    loc = calls["loc"].astype(np.int64)
    exit_kind, wait = calls["exit_kind"], calls["wait"].astype(np.int64)
    valid = calls["phone"] > 0
    tagged = calls["spam"] & calls["tracked"]
    closed = ~ctx.is_open(loc, calls["t"]) if len(loc) else np.zeros(0, dtype=bool)
    pbx = ctx.has_pbx[loc]
    voicemail = np.isin(exit_kind, (sim.EXIT_KEY_VM, sim.EXIT_TIMEOUT_VM, sim.EXIT_AFTER_VM))
    short = wait < sim.SHORT_ABANDON_SECONDS
    at_pbx = np.select(
        [exit_kind == sim.EXIT_NONE, voicemail, exit_kind == sim.EXIT_TIMEOUT_DROP, short],
        [sim.ANSWERED, sim.VOICEMAIL, sim.MISSED, sim.SHORT_ABANDON],
        default=sim.ABANDONED,
    )
    # CallRail's flags and duration (for an unanswered call without a message, the seconds
    # the forwarded phone rang: callrail._type)
    by_callrail = np.select(
        [voicemail, exit_kind == sim.EXIT_NONE, short, wait < ctx.forward_ring[loc]],
        [sim.VOICEMAIL, sim.ANSWERED, sim.SHORT_ABANDON, sim.ABANDONED],
        default=sim.MISSED,
    )
    happened = np.where(pbx, at_pbx, by_callrail)
    outcome = np.select(
        [tagged | ~valid, closed], [sim.SPAM, sim.AFTER_HOURS], default=happened
    ).astype(np.int64)
    return np.where(calls["direction"] == 0, outcome, -1)


def _local_dates(ctx: sim.Context, loc: np.ndarray, t: np.ndarray) -> np.ndarray:
    known = loc >= 0
    wall = t.copy()
    if known.any():
        wall[known] = ctx.local(loc[known], t[known])
    return (wall // sim.DAY).astype("datetime64[D]").astype(str)


RULES = (
    "unattributed",
    "same_number_same_location_30d",
    "same_number_any_location_30d",
    "refund_follows_payment",
)


# How long a day's calls must stay in memory before their answer-key values are final:
# recovery looks 24 h ahead and repeat contacts 7 days, so day d's flags are final once step
# d + 7 is simulated; a payment up to 30 days after a call is attributed to it and its refund
# follows less than REFUND_DELAY_DAYS later, so day d's attributed revenue is final once the
# money of step d + 35 is attributed.
FLAG_LAG = 7
REFUND_DELAY_DAYS = 5  # commerce: refund_delay < 5 days
ATTRIBUTION_LAG = 30 + REFUND_DELAY_DAYS
PAYMENT_MEMORY = REFUND_DELAY_DAYS + 1
LOST_CATEGORIES = ("missed_opportunity", "after_hours", "short_abandon")
# Per-location counters behind summary.json.
STATS = (
    "inbound",
    "outbound",
    "opportunities",
    "recovered",
    "answered_in",
    "repeat_24h",
    "repeat_7d",
    "transfers",
    "escalations",
    "q_answered",
    "q_abandoned",
    "q_wait",
    "q_within",
    "q_late_abandoned",
    "q_transfers",
    "q_escalations",
    "internal_calls",
    "consult_calls",
)
INTERNAL_HEADER = ["pbx_id", "linkedid", "kind", "call_key", "location_id"]
_S = {name: i for i, name in enumerate(STATS)}


def _member(sorted_keys: np.ndarray, keys: np.ndarray) -> np.ndarray:
    if not len(sorted_keys):
        return np.zeros(len(keys), dtype=bool)
    pos = np.minimum(np.searchsorted(sorted_keys, keys), len(sorted_keys) - 1)
    return sorted_keys[pos] == keys


class SortedKeys:
    """A growing set of int64 keys without Python objects: a large sorted array and a small
    recent one, merged when the recent one grows (8 bytes a key)."""

    def __init__(self) -> None:
        self.main = np.zeros(0, dtype=np.int64)
        self.recent = np.zeros(0, dtype=np.int64)

    def __len__(self) -> int:
        return len(self.main) + len(self.recent)

    def contains(self, keys: np.ndarray) -> np.ndarray:
        return _member(self.main, keys) | _member(self.recent, keys)

    def add(self, keys: np.ndarray) -> None:
        """Add keys none of which is in the set yet."""
        self.recent = np.sort(np.concatenate((self.recent, keys)))
        if len(self.recent) > 100_000 + len(self.main) // 4:
            self.main = np.sort(np.concatenate((self.main, self.recent)))
            self.recent = np.zeros(0, dtype=np.int64)


class AnswerKey:
    """Writes ``answer_key/`` while the generator runs, in memory bounded by the windows of
    the truth rules rather than by the number of days.

    The generator hands over each step's calls (:meth:`add_calls`, in (t, key) order, steps in
    order, so the concatenation is calls.csv's order), the intents converted into purchases
    (:meth:`add_converted`) and, through :class:`MoneyLog`, the step's money records; then
    calls :meth:`end_step`. Carried between steps are only: the calls of the last
    ``FLAG_LAG`` + 1 days (for recovery and repeat look-ahead), the answered inbound calls of
    the last ``ATTRIBUTION_LAG`` + 1 days with their attributed cents, the call each payment
    of the last ``PAYMENT_MEMORY`` days was attributed to, one step of money records, the
    converted intents of those days, the set of (number, location) pairs seen (for
    is_new_caller) and the aggregates. calls.csv rows are rendered once a day's flags are
    final (into a day file under ``.calls_parts``) and appended, with the attributed revenue
    as their last column, once that is final too.
    """

    def __init__(self, out: Path, ctx: sim.Context, money: MoneyLog, seed: int) -> None:
        out.mkdir(parents=True, exist_ok=True)
        self.out = out
        self.ctx = ctx
        self.money = money
        self.seed = seed
        self.base = ctx.t0 - 40 * sim.DAY
        self.loc_ids = [loc.location_id for loc in ctx.locs]
        n = len(ctx.locs)
        self.stats = np.zeros((n, len(STATS)), dtype=np.int64)
        self.outcomes = np.zeros((n, len(sim.OUTCOME_NAMES)), dtype=np.int64)
        self.recovery_seconds = np.zeros((n, sim.RECOVERY_WINDOW + 1), dtype=np.int64)
        self.lost_intents = np.zeros((n, len(LOST_CATEGORIES)), dtype=np.int64)
        # cents lost by [location, category, booked / attributable]
        self.lost_cents = np.zeros((n, len(LOST_CATEGORIES), 2), dtype=np.int64)
        # revenue cents by [location (n = unknown), attributed only, kind]
        self.revenue = np.zeros((n + 1, 2, 3), dtype=np.int64)
        self.cells_total: Cells = defaultdict(lambda: [0, 0, 0])
        self.cells_attributed: Cells = defaultdict(lambda: [0, 0, 0])
        self.seen_callers = SortedKeys()
        self.window: list[tuple[int, int, Table]] = []  # (step, first row, calls)
        self.next_row = 0
        self.candidates: dict[int, Table] = {}  # step -> its answered inbound calls
        self.converted: dict[int, list[np.ndarray]] = {}
        self.payment_call: dict[int, int] = {}  # payment seq -> row of its attributed call
        self.payment_steps: dict[int, list[int]] = {}
        self.money_pending: list[tuple[int, dict[str, np.ndarray]]] = []
        self.parts: dict[int, tuple[int, int]] = {}  # step -> (first row, rows) rendered
        self.parts_dir = out / ".calls_parts"
        self.parts_dir.mkdir(exist_ok=True)
        self.calls_fh = (out / "calls.csv").open("w", newline="", encoding="utf-8")
        csv.writer(self.calls_fh, lineterminator="\n").writerow(CALL_HEADER)
        self.attr_fh = (out / "attributions.csv").open("w", newline="", encoding="utf-8")
        self.attr_writer = csv.writer(self.attr_fh, lineterminator="\n")
        self.attr_writer.writerow(ATTRIBUTION_HEADER)
        self.internal_fh = (out / "pbx_internal_calls.csv").open("w", newline="", encoding="utf-8")
        self.internal_writer = csv.writer(self.internal_fh, lineterminator="\n")
        self.internal_writer.writerow(INTERNAL_HEADER)
        # Seconds of greeting before a PBX's queue (0 without a PBX or greeting): queue
        # figures are on the queue's clock, which starts after the greeting.
        self.greeting = np.array(
            [loc.pbx.greeting_seconds if loc.pbx else 0 for loc in ctx.locs], dtype=np.int64
        )
        self.max_carried = 0  # most call rows held between steps (window + candidates)
        # PBX queue calls of new demand by [location, local day, local hour of queue entry]
        self.demand = np.zeros((n, ctx.days + 2, 24), dtype=np.int64)

    # -- input ------------------------------------------------------------------------------
    def add_calls(self, step: int, calls: Table) -> None:
        """The calls of ``step`` in (t, key) order, with CALL_KEY_COLUMNS, uid_ctr, cr_ctr.
        Inbound calls get their outcome by the written definition (:func:`true_outcomes`)."""
        inbound = calls["direction"] == 0
        calls["outcome"] = np.where(
            inbound, true_outcomes(self.ctx, calls), calls["outcome"]
        ).astype(calls["outcome"].dtype)
        self.window.append((step, self.next_row, calls))
        self._count_demand(calls)
        inbound = calls["direction"] == 0
        idx = np.flatnonzero(inbound & (calls["outcome"] == sim.ANSWERED) & (calls["phone"] > 0))
        self.candidates[step] = Table(
            {
                "phone": calls["phone"][idx],
                "loc": calls["loc"][idx],
                "t": calls["t"][idx],
                "key": calls["key"][idx],
                "row": self.next_row + idx,
                "cr": calls["cr_ctr"][idx],
                "uid": calls["uid_ctr"][idx],
                "cents": np.zeros(len(idx), dtype=np.int64),
            }
        )
        self.next_row += len(calls)

    def _count_demand(self, calls: Table) -> None:
        queued = np.flatnonzero(
            (calls["direction"] == 0)
            & (calls["staff_state"] != staffing.NOT_QUEUED)
            & calls["is_demand"]
        )
        loc = calls["loc"][queued].astype(np.int64)
        wall = self.ctx.local(loc, calls["t"][queued] + self.greeting[loc])
        day = wall // sim.DAY - self.ctx.t0 // sim.DAY
        inside = (day >= 0) & (day < self.demand.shape[1])
        np.add.at(self.demand, (loc[inside], day[inside], (wall[inside] % sim.DAY) // 3600), 1)

    def add_pbx_internal(self, rows: list[tuple[str, str, str, str, int]]) -> None:
        """PBX calls that are nobody's inbound call, in rendering order: (pbx_id, kind,
        linkedid, call_key, location index), kind ``internal`` or ``consult``."""
        for pbx_id, kind, linked, call_key, li in rows:
            self.internal_writer.writerow([pbx_id, linked, kind, call_key, self.loc_ids[li]])
            self.stats[li, _S[f"{kind}_calls"]] += 1

    def add_converted(self, step: int, intents: np.ndarray) -> None:
        self.converted.setdefault(step, []).append(intents)

    def end_step(self, step: int) -> None:
        """After the calls and money of ``step``: attribute the money of the step before (all
        calls before it are known now), finish what can no longer change."""
        self._attribute_pending()
        self.money_pending.append((step, self.money.take()))
        while self.window and self.window[0][0] <= step - FLAG_LAG:
            self._finish_flags()
        self._finish_attributed(step - 1 - ATTRIBUTION_LAG)
        carried = sum(len(w[2]) for w in self.window)
        carried += sum(len(c) for c in self.candidates.values())
        self.max_carried = max(self.max_carried, carried)

    def close(self) -> list[str]:
        self._attribute_pending()
        while self.window:
            self._finish_flags()
        self._finish_attributed(None)
        self.calls_fh.close()
        self.attr_fh.close()
        self.internal_fh.close()
        self.parts_dir.rmdir()
        files = ["calls.csv", "attributions.csv", "lost_revenue.csv", "pbx_internal_calls.csv"]
        files.append(self._outcomes())
        files.append(self._staffing())
        files.extend(self._revenue_files())
        lost = self._lost()
        files.append(self._summary(lost))
        if self.ctx.drifts:
            files.append(self._drifts())
        return sorted(files)

    def _drifts(self) -> str:
        """drifts.json: the process changes injected (:mod:`.drift`), what changed and how."""
        ctx, plan = self.ctx, self.ctx.staffing
        items = []
        for d in ctx.drifts:
            li = self.loc_ids.index(d.location_id)
            day = ctx.start + dt.timedelta(days=d.day)
            wall = np.array([date_epoch(day)])
            start_utc = int(ctx.tz[li].from_local(wall)[0])
            item: dict = {
                "kind": d.kind,
                "location_id": d.location_id,
                "first_local_day": day.isoformat(),
                "day_index": d.day,
                "starts_utc": dt.datetime.fromtimestamp(start_utc, dt.UTC).isoformat(),
                "days_in_effect": ctx.days - d.day,
                "change": drift.DESCRIPTIONS[d.kind],
                "expected_effects": drift.EXPECTED_EFFECTS[d.kind],
            }
            if d.kind == drift.STAFFING_DROP:
                open_hours = np.nonzero(plan.is_open_hour[li])
                item["parameter"] = "agents_staffed"
                item["agent_hours_per_week"] = {
                    "before": int(plan.agents[li][open_hours].sum()),
                    "after": int(plan.agents_after[li][open_hours].sum()),
                }
                item["hours"] = [
                    {
                        "iso_weekday": int(wd),
                        "hour": int(h),
                        "before": int(plan.agents[li, wd, h]),
                        "after": int(plan.agents_after[li, wd, h]),
                    }
                    for wd, h in zip(*open_hours, strict=True)
                ]
            elif d.kind == drift.RING_TIME:
                item["parameter"] = "ring_no_answer_share"
                item["before"] = float(plan.ring_no_answer[li])
                item["after"] = float(plan.ring_no_answer_after[li])
            else:
                item["parameter"] = "callback_probability"
                item["before"] = {sim.OUTCOME_NAMES[k]: v for k, v in sim.P_CALLBACK.items()}
                item["after"] = {sim.OUTCOME_NAMES[k]: 0.0 for k in sim.P_CALLBACK}
            items.append(item)
        doc = {
            "note": "process changes injected by --drift, each at one location from the local "
            "midnight starting first_local_day to the end of the data set; summary.json and "
            "the other answer-key files are the truth with the drifts in effect",
            "drifts": items,
        }
        (self.out / "drifts.json").write_text(json.dumps(doc, indent=2) + "\n", encoding="utf-8")
        return "drifts.json"

    # -- attribution ------------------------------------------------------------------------
    def _attribute_pending(self) -> None:
        for mstep, m in self.money_pending:
            self._attribute(mstep, m)
        self.money_pending.clear()

    def _attribute(self, mstep: int, m: dict[str, np.ndarray]) -> None:
        for old in [s for s in self.payment_steps if s < mstep - PAYMENT_MEMORY]:
            for seq in self.payment_steps.pop(old):
                self.payment_call.pop(seq, None)
        n = len(m["kind"])
        if not n:
            return
        c = Candidates(list(self.candidates.values()))
        kind, phone, t, loc = m["kind"], m["phone"], m["t"], m["loc"]
        pos = np.full(n, -1, dtype=np.int64)  # index into candidates of the attributed call
        rule = np.zeros(n, dtype=np.int8)
        if len(c.t):
            pay = np.flatnonzero((kind == PAYMENT) & (phone > 0))
            if len(pay):
                hit = latest_before(
                    phone[pay] * 1024 + loc[pay],
                    t[pay],
                    c.phone * 1024 + c.loc,
                    c.t,
                    ATTRIBUTION_WINDOW,
                    self.base,
                )
                pos[pay[hit >= 0]], rule[pay[hit >= 0]] = hit[hit >= 0], 1
            deal = np.flatnonzero((kind == DEAL) & (phone > 0))
            if len(deal):
                hit = latest_before(
                    phone[deal], t[deal], c.phone, c.t, ATTRIBUTION_WINDOW, self.base
                )
                pos[deal[hit >= 0]], rule[deal[hit >= 0]] = hit[hit >= 0], 2
        paid = np.flatnonzero((kind == PAYMENT) & (pos >= 0))
        rows = c.row[pos[paid]].tolist()
        seqs = m["seq"][paid].tolist()
        self.payment_call.update(zip(seqs, rows, strict=True))
        self.payment_steps.setdefault(mstep, []).extend(seqs)
        for i in np.flatnonzero(kind == REFUND).tolist():
            row = self.payment_call.get(int(m["pay_seq"][i]), -1)
            if row >= 0:
                pos[i] = int(np.searchsorted(c.row, row))
                rule[i] = 3
        revenue = np.flatnonzero(m["status"] == 0)
        sign = np.where(kind == REFUND, -1, 1)
        hit = revenue[pos[revenue] >= 0]
        c.add_cents(pos[hit], (sign * m["amount"])[hit])
        info = {k: c.gather(pos, k) for k in ("loc", "key", "cr", "uid", "t")}
        for lo in range(0, len(revenue), 50_000):
            self.attr_writer.writerows(
                self._attribution_rows(m, pos, info, rule, revenue[lo : lo + 50_000])
            )

    def _attribution_rows(
        self,
        m: dict[str, np.ndarray],
        pos: np.ndarray,
        info: dict[str, np.ndarray],
        rule: np.ndarray,
        idx: np.ndarray,
    ) -> list[list[str]]:
        """attributions.csv rows of the money records ``idx``; ``info`` holds their attributed
        call's columns (-1 if none)."""
        loc_ids = self.loc_ids
        call = pos[idx]
        attributed = call >= 0
        call_loc = info["loc"][idx]
        loc = np.where(m["loc"][idx] >= 0, m["loc"][idx], call_loc)
        kinds = m["kind"][idx]
        amounts = m["amount"][idx]
        slot = np.where(loc >= 0, loc, len(loc_ids))
        np.add.at(self.revenue, (slot, 0, kinds), amounts)
        np.add.at(self.revenue, (slot[attributed], 1, kinds[attributed]), amounts[attributed])
        dates = _local_dates(self.ctx, loc, m["t"][idx]).tolist()
        cols = {k: m[k][idx].tolist() for k in ("seq", "pay_seq", "step", "line")}
        call_list, loc_list = call.tolist(), loc.tolist()
        c = {k: v[idx].tolist() for k, v in info.items()}
        kinds_l, amounts_l, rules = kinds.tolist(), amounts.tolist(), rule[idx].tolist()
        log = self.money
        rows = []
        for k, ci in enumerate(call_list):
            kind, amount = kinds_l[k], amounts_l[k]
            lid = loc_ids[loc_list[k]] if loc_list[k] >= 0 else "unknown"
            cell = (lid, dates[k])
            self.cells_total[cell][kind] += amount
            cr_id, linked, call_key, call_loc_id = "", "", "", ""
            if ci >= 0:
                self.cells_attributed[cell][kind] += amount
                cr, uid = c["cr"][k], c["uid"][k]
                cr_id = callrail.call_id(self.seed, cr) if cr > 0 else ""
                linked = f"{c['t'][k]}.{uid}" if uid >= 0 else ""
                call_key, call_loc_id = str(c["key"][k]), loc_ids[c["loc"][k]]
            rows.append(
                [
                    KIND_NAMES[kind],
                    log.record_id(kind, cols["seq"][k], cols["pay_seq"][k]),
                    log.file(kind, cols["step"][k]),
                    str(cols["line"][k]),
                    lid,
                    dates[k],
                    usd(amount),
                    call_key,
                    cr_id,
                    linked,
                    call_loc_id,
                    RULES[rules[k]],
                ]
            )
        return rows

    # -- per-call flags ---------------------------------------------------------------------
    def _finish_flags(self) -> None:
        """Flag, count and render the oldest day of the window (its look-ahead is complete)."""
        step, row0, day = self.window[0]
        c = Table.concat([w[2] for w in self.window])
        n, base = len(day), self.base
        inbound, real, out = c["direction"] == 0, c["phone"] > 0, c["outcome"]
        answered_any = (out == sim.ANSWERED) & ~c["spam"] & real
        inb = inbound[:n]
        loc = day["loc"].astype(np.int64)
        opportunity = inb & np.isin(day["outcome"], OPPORTUNITY)
        src = np.flatnonzero(opportunity)
        dst = np.flatnonzero(answered_any)
        hit = next_after(
            c["phone"][src], c["t"][src], c["phone"][dst], c["t"][dst], sim.RECOVERY_WINDOW, base
        )
        rec_key = np.full(n, -1, dtype=np.int64)
        found = hit >= 0
        rec_src, rec_dst = src[found], dst[hit[found]]
        rec_key[rec_src] = c["key"][rec_dst]
        np.add.at(self.recovery_seconds, (loc[rec_src], c["t"][rec_dst] - c["t"][rec_src]), 1)
        answered_in = inb & (day["outcome"] == sim.ANSWERED)
        src = np.flatnonzero(answered_in)
        dst = np.flatnonzero(inbound & ~c["spam"] & real)
        repeat = {}
        for name, window in REPEAT_WINDOWS.items():
            flag = np.zeros(n, dtype=bool)
            flag[src] = (
                next_after(c["phone"][src], c["t"][src], c["phone"][dst], c["t"][dst], window, base)
                >= 0
            )
            repeat[name] = flag
        new = self._new_callers(day, inb)
        self._count(day, loc, inb, opportunity, rec_key, answered_in, repeat)
        self._lost_intents(step, day, loc, inb)
        path = self.parts_dir / f"{step}.csv"
        with path.open("w", newline="", encoding="utf-8") as fh:
            w = csv.writer(fh, lineterminator="\n")
            for lo in range(0, n, 50_000):
                w.writerows(
                    _call_rows(
                        self.ctx,
                        day,
                        slice(lo, lo + 50_000),
                        opportunity,
                        rec_key,
                        repeat,
                        new,
                        self.seed,
                    )
                )
        self.parts[step] = (row0, n)
        self.window.pop(0)
        for old in [s for s in self.converted if s <= step]:
            del self.converted[old]

    def _new_callers(self, day: Table, inb: np.ndarray) -> np.ndarray:
        """First inbound call of a number at a location in the data set (earliest t, then
        key: the day is in that order)."""
        idx = np.flatnonzero(inb & (day["phone"] > 0))
        key = day["phone"][idx] * 1024 + day["loc"][idx]
        uniq, first = np.unique(key, return_index=True)
        unseen = ~self.seen_callers.contains(uniq)
        self.seen_callers.add(uniq[unseen])
        new = np.zeros(len(day), dtype=bool)
        new[idx[first[unseen]]] = True
        return new

    def _count(
        self,
        day: Table,
        loc: np.ndarray,
        inb: np.ndarray,
        opportunity: np.ndarray,
        rec_key: np.ndarray,
        answered_in: np.ndarray,
        repeat: dict[str, np.ndarray],
    ) -> None:
        n_loc = len(self.loc_ids)
        out = day["outcome"].astype(np.int64)
        xfer = day["xfer"]
        wait = day["wait"].astype(np.int64)
        np.add.at(self.outcomes, (loc[inb], out[inb]), 1)
        # Queue figures are on the queue's clock: a call is a queue call if it got past the
        # PBX's greeting (answered, or still there when the greeting ended), and its hold or
        # wait time is counted from then.
        greeting = self.greeting[loc]
        reached = (out == sim.ANSWERED) | (wait >= greeting)
        queue = inb & self.ctx.has_pbx[loc] & reached
        wait = wait - greeting
        q_ans = queue & (out == sim.ANSWERED)
        q_ab = queue & (out == sim.ABANDONED)
        masks = {
            "inbound": inb,
            "outbound": ~inb,
            "opportunities": opportunity,
            "recovered": opportunity & (rec_key >= 0),
            "answered_in": answered_in,
            "repeat_24h": repeat["24h"],
            "repeat_7d": repeat["7d"],
            "transfers": inb & (xfer > 0) & (out == sim.ANSWERED),
            "escalations": inb & (xfer == sim.XFER_ESCALATION),
            "q_answered": q_ans,
            "q_abandoned": q_ab,
            "q_within": q_ans & (wait <= SERVICE_LEVEL_SECONDS),
            "q_late_abandoned": q_ab & (wait > SERVICE_LEVEL_SECONDS),
            "q_transfers": q_ans & (xfer > 0),
            "q_escalations": q_ans & (xfer == sim.XFER_ESCALATION),
        }
        for name, mask in masks.items():
            self.stats[:, _S[name]] += np.bincount(loc[mask], minlength=n_loc)
        np.add.at(self.stats[:, _S["q_wait"]], loc[q_ans], wait[q_ans])

    def _lost_intents(self, step: int, day: Table, loc: np.ndarray, inb: np.ndarray) -> None:
        """Would-buy intents headed by a call of this day whose first call was not answered
        and that never turned into a purchase (conversions happen within 24 h of the head),
        valued at what their purchase would have brought (booked and attributable, each
        intent's expectation rounded to the cent)."""
        out = day["outcome"]
        head = (day["intent"] == day["key"]) & inb & day["would_buy"] & ~day["spam"]
        head &= np.isin(out, (*OPPORTUNITY, sim.SHORT_ABANDON, sim.AFTER_HOURS))
        parts = [a for lists in self.converted.values() for a in lists]
        converted = np.concatenate(parts) if parts else np.zeros(0, dtype=np.int64)
        lost = head & ~np.isin(day["key"], converted)
        category = np.where(
            out == sim.AFTER_HOURS, 1, np.where(out == sim.SHORT_ABANDON, 2, 0)
        ).astype(np.int64)
        np.add.at(self.lost_intents, (loc[lost], category[lost]), 1)
        values = expected_purchase_value(
            day["caller"][lost], day["ticket"][lost], self.ctx.params.deal_share
        )
        cents = np.rint(np.stack(values, axis=1)).astype(np.int64)
        np.add.at(self.lost_cents, (loc[lost], category[lost]), cents)

    # -- attributed revenue per call --------------------------------------------------------
    def _finish_attributed(self, last: int | None) -> None:
        """Append to calls.csv the rendered days up to ``last`` (all if None), whose
        attributed revenue is final, and forget their candidate calls."""
        for step in sorted(self.parts):
            if last is not None and step > last:
                break
            row0, n = self.parts.pop(step)
            c = self.candidates.get(step)
            cents = np.zeros(n, dtype=np.int64)
            if c is not None:
                cents[c["row"] - row0] = c["cents"]
            suffix = [",0.00\n"] * n
            for i in np.flatnonzero(cents).tolist():
                suffix[i] = f",{usd(int(cents[i]))}\n"
            path = self.parts_dir / f"{step}.csv"
            lines = path.read_text(encoding="utf-8").split("\n")
            if len(lines) != n + 1:
                raise RuntimeError(f"{path}: {len(lines) - 1} rows rendered, {n} expected")
            self.calls_fh.write(
                "".join([line + end for line, end in zip(lines[:-1], suffix, strict=True)])
            )
            path.unlink()
        for step in [s for s in self.candidates if last is None or s <= last]:
            del self.candidates[step]

    # -- files from the aggregates ----------------------------------------------------------
    def _staffing(self) -> str:
        """staffing.csv: every PBX location's open weekday-hours: the agents the plan put on
        the phones, the fresh calls the plan expected, the calls of new demand that came
        (queue calls that are not retries of a queue call left unanswered, per open hour,
        over the complete local days: the first and the last day are partial), the agents
        Erlang C says that demand needs for 80 % within 20 s at the plan's handle time, and
        the gap."""
        ctx, plan = self.ctx, self.ctx.staffing
        measured = range(1, ctx.days)
        weekday = [(ctx.start + dt.timedelta(days=d)).isoweekday() for d in range(ctx.days + 2)]
        rows = []
        for li, loc in enumerate(ctx.locs):
            if loc.pbx is None:
                continue
            for wd, h in zip(*np.nonzero(plan.is_open_hour[li]), strict=True):
                days = [d for d in measured if weekday[d] == wd]
                if not days:
                    continue
                opens, closes = ctx.open_s[li, wd], ctx.close_s[li, wd]
                open_seconds = min(closes, (h + 1) * 3600) - max(opens, h * 3600)
                demand = self.demand[li, days, h].sum() * 3600 / (open_seconds * len(days))
                agents, needed = int(plan.agents[li, wd, h]), staffing.erlang_c_agents(demand)
                rows.append(
                    [
                        loc.location_id,
                        int(wd),
                        int(h),
                        agents,
                        f"{plan.calls_per_hour[li, wd, h]:.3f}",
                        f"{demand:.3f}",
                        needed,
                        needed - agents,
                    ]
                )
        header = [
            "location_id",
            "iso_weekday",
            "hour",
            "agents_staffed",
            "expected_calls_per_hour",
            "demand_calls_per_hour",
            "agents_needed",
            "agent_gap",
        ]
        _write_csv(self.out / "staffing.csv", header, rows)
        return "staffing.csv"

    def _outcomes(self) -> str:
        rows = [
            [lid, name, str(self.outcomes[li, oi])]
            for li, lid in enumerate(self.loc_ids)
            for oi, name in enumerate(sim.OUTCOME_NAMES)
        ]
        _write_csv(self.out / "outcomes_by_location.csv", ["location_id", "outcome", "calls"], rows)
        return "outcomes_by_location.csv"

    def _revenue_files(self) -> list[str]:
        header = ["location_id", "date", "payments_usd", "refunds_usd", "deals_usd"]
        for name, table in (
            ("revenue_by_location_day.csv", self.cells_total),
            ("attributed_revenue_by_location_day.csv", self.cells_attributed),
        ):
            _write_csv(
                self.out / name,
                header,
                [
                    [lid, day, usd(v[0]), usd(v[1]), usd(v[2])]
                    for (lid, day), v in sorted(table.items())
                ],
            )
        return ["revenue_by_location_day.csv", "attributed_revenue_by_location_day.csv"]

    def _lost(self) -> dict[str, dict[str, np.ndarray]]:
        """Per location and category, the (booked, attributable) cents lost."""
        result: dict[str, dict[str, np.ndarray]] = {}
        rows = []
        for li, lid in enumerate(self.loc_ids):
            result[lid] = {}
            for ci, cat in enumerate(LOST_CATEGORIES):
                booked, attributable = self.lost_cents[li, ci]
                result[lid][cat] = self.lost_cents[li, ci]
                rows.append(
                    [lid, cat, str(int(self.lost_intents[li, ci])), usd(booked), usd(attributable)]
                )
        _write_csv(
            self.out / "lost_revenue.csv",
            ["location_id", "category", "lost_intents", "lost_usd", "lost_attributable_usd"],
            rows,
        )
        return result

    def _summary(self, lost: dict[str, dict[str, np.ndarray]]) -> str:
        ctx = self.ctx
        per: dict[str, dict] = {}
        for li, lid in enumerate(self.loc_ids):
            per[lid] = self._scope(
                self.stats[li],
                self.outcomes[li],
                self.recovery_seconds[li],
                self.revenue[li],
                lost[lid],
            )
        per["total"] = self._scope(
            self.stats.sum(axis=0),
            self.outcomes.sum(axis=0),
            self.recovery_seconds.sum(axis=0),
            self.revenue.sum(axis=0),
            {k: sum(v[k] for v in lost.values()) for k in LOST_CATEGORIES},
        )
        doc = {
            "period": {
                "start": ctx.start.isoformat(),
                "days": ctx.days,
                "note": "calls are simulated for local days start..start+days-1",
            },
            "definitions": {
                "answer_rate": "answered / (answered + voicemail + abandoned + missed)",
                "recovery_window_hours": 24,
                "attribution_window_days": 30,
                "short_abandon_seconds": sim.SHORT_ABANDON_SECONDS,
            },
            "locations": {k: v for k, v in per.items() if k != "total"},
            "total": per["total"],
        }
        if ctx.drifts:  # only with --drift, so a data set without drifts is unchanged
            doc["drifts"] = [
                {
                    "kind": d.kind,
                    "location_id": d.location_id,
                    "first_local_day": (ctx.start + dt.timedelta(days=d.day)).isoformat(),
                    "details": "drifts.json",
                }
                for d in ctx.drifts
            ]
        (self.out / "summary.json").write_text(json.dumps(doc, indent=2) + "\n", encoding="utf-8")
        return "summary.json"

    @staticmethod
    def _scope(
        stats: np.ndarray,
        outcomes: np.ndarray,
        recovery_seconds: np.ndarray,
        revenue: np.ndarray,
        lost_scope: dict[str, np.ndarray],
    ) -> dict:
        s = {name: int(stats[i]) for i, name in enumerate(STATS)}
        counts = {n: int(outcomes[i]) for i, n in enumerate(sim.OUTCOME_NAMES)}
        denom = sum(counts[k] for k in ("answered", "voicemail", "abandoned", "missed"))
        rev = {name: int(revenue[0, i]) for i, name in enumerate(("payments", "refunds", "deals"))}
        att = {name: int(revenue[1, i]) for i, name in enumerate(("payments", "refunds", "deals"))}
        n_ans, n_ab = s["q_answered"], s["q_abandoned"]
        return {
            "inbound_calls": s["inbound"],
            "outbound_calls": s["outbound"],
            "outcomes": counts,
            "answered": counts["answered"],
            "answer_rate": round(counts["answered"] / denom, 6) if denom else None,
            "missed_opportunities": s["opportunities"],
            "recovered_missed_opportunities": s["recovered"],
            "median_minutes_to_recovery": _median_minutes(recovery_seconds),
            "answered_inbound": s["answered_in"],
            "repeat_contacts_24h": s["repeat_24h"],
            "repeat_contacts_7d": s["repeat_7d"],
            "transfers": s["transfers"],
            "escalations": s["escalations"],
            "internal_calls": s["internal_calls"],
            "consult_calls": s["consult_calls"],
            "queue": {
                "answered": n_ans,
                "abandoned": n_ab,
                "average_speed_of_answer_seconds": round(float(np.float64(s["q_wait"]) / n_ans), 3)
                if n_ans
                else None,
                "service_level_20s": _ratio(s["q_within"], n_ans + s["q_late_abandoned"]),
                "abandonment_rate": _ratio(n_ab, n_ans + n_ab),
                "transfer_rate": _ratio(s["q_transfers"], n_ans),
                "escalation_rate": _ratio(s["q_escalations"], n_ans),
            },
            "revenue": {
                "payments_usd": usd(rev["payments"]),
                "refunds_usd": usd(rev["refunds"]),
                "deals_usd": usd(rev["deals"]),
                "net_usd": usd(rev["payments"] - rev["refunds"] + rev["deals"]),
            },
            "attributed_revenue": {
                "payments_usd": usd(att["payments"]),
                "refunds_usd": usd(att["refunds"]),
                "deals_usd": usd(att["deals"]),
                "net_usd": usd(att["payments"] - att["refunds"] + att["deals"]),
            },
            "true_lost_revenue": {k: usd(v[0]) for k, v in lost_scope.items()},
            "true_lost_attributable_revenue": {k: usd(v[1]) for k, v in lost_scope.items()},
        }


def _median_minutes(seconds: np.ndarray) -> float | None:
    """np.median of the recovery times in minutes, from their histogram by second."""
    n = int(seconds.sum())
    if not n:
        return None
    cum = np.cumsum(seconds)
    middle = [n // 2 + 1] if n % 2 else [n // 2, n // 2 + 1]  # 1-based ranks
    values = np.searchsorted(cum, middle).astype(np.int64)
    return round(float(np.mean(values / 60.0)), 2)


class Candidates:
    """The answered inbound calls of several days seen as one: the columns the attribution
    search needs are concatenated, the others are gathered by position when needed."""

    def __init__(self, days: list[Table]) -> None:
        self.days = days
        sizes = np.array([len(d) for d in days], dtype=np.int64)
        self.ends = np.cumsum(sizes)
        self.starts = self.ends - sizes

        def col(name: str) -> np.ndarray:
            if not days:
                return np.zeros(0, dtype=np.int64)
            return np.concatenate([d[name] for d in days]).astype(np.int64)

        self.phone, self.loc, self.t, self.row = col("phone"), col("loc"), col("t"), col("row")

    def _split(self, pos: np.ndarray) -> list[tuple[np.ndarray, Table, np.ndarray]]:
        """(indexes into pos, day table, positions in that day) for positions >= 0."""
        which = np.flatnonzero(pos >= 0)
        day_of = np.searchsorted(self.ends, pos[which], side="right")
        out = []
        for d in np.unique(day_of).tolist():
            sel = which[day_of == d]
            out.append((sel, self.days[d], pos[sel] - self.starts[d]))
        return out

    def gather(self, pos: np.ndarray, name: str) -> np.ndarray:
        """Column ``name`` at positions ``pos`` (-1 where pos is -1)."""
        out = np.full(len(pos), -1, dtype=np.int64)
        for sel, day, local in self._split(pos):
            out[sel] = day[name][local]
        return out

    def add_cents(self, pos: np.ndarray, cents: np.ndarray) -> None:
        for sel, day, local in self._split(pos):
            np.add.at(day["cents"], local, cents[sel])


ATTRIBUTION_HEADER = [
    "record_type",
    "record_id",
    "file",
    "line",
    "location_id",
    "date",
    "amount_usd",
    "call_key",
    "callrail_id",
    "pbx_linkedid",
    "call_location_id",
    "rule",
]
Cells = dict[tuple[str, str], list[int]]
SERVICE_LEVEL_SECONDS = 20


def _ratio(num: int, den: int) -> float | None:
    return round(num / den, 6) if den else None


def _write_csv(path: Path, header: list[str], rows: list[list[str]]) -> None:
    with path.open("w", newline="", encoding="utf-8") as fh:
        w = csv.writer(fh, lineterminator="\n")
        w.writerow(header)
        w.writerows(rows)


CALL_HEADER = [
    "call_key",
    "location_id",
    "direction",
    "origin",
    "caller_e164",
    "start_utc",
    "callrail_id",
    "pbx_linkedid",
    "source",
    "outcome",
    "is_missed_opportunity",
    "recovered_by_call_key",
    "is_repeat_24h",
    "is_repeat_7d",
    "transfer",
    "wait_seconds",
    "would_buy",
    "ticket_usd",
    "is_new_caller",
    "missed_cause",
    "queue_wait_seconds",
    "has_voicemail",
    "attributed_revenue_usd",
]
ORIGINS = ("fresh", "retry", "follow_up", "callback")
TRANSFERS = ("", "agent", "escalation")


def _flag(value: bool) -> str:
    return "true" if value else "false"


def _call_rows(
    ctx: sim.Context,
    day: Table,
    part: slice,
    opportunity: np.ndarray,
    rec_key: np.ndarray,
    repeat: dict[str, np.ndarray],
    new: np.ndarray,
    seed: int,
) -> list[list]:
    """calls.csv rows of ``day[part]`` without the last column (attributed revenue)."""
    start = day["t"][part].astype("datetime64[s]").astype(str).tolist()
    cols = {k: day[k][part].tolist() for k in day.cols}
    rec = rec_key[part].tolist()
    queue_wait = _queue_waits(ctx, day)[part].tolist()
    caller_wait = _caller_waits(ctx, day)[part].tolist()
    voicemail = _has_voicemail(day)[part].tolist()
    r24, r7 = repeat["24h"][part].tolist(), repeat["7d"][part].tolist()
    opp = opportunity[part].tolist()
    new_l = new[part].tolist()
    rows = []
    for j in range(len(start)):
        loc = ctx.locs[cols["loc"][j]]
        cr, uid = cols["cr_ctr"][j], cols["uid_ctr"][j]
        inbound = cols["direction"][j] == 0
        if inbound:
            outcome = sim.OUTCOME_NAMES[cols["outcome"][j]]
        else:
            outcome = "answered" if cols["outcome"][j] == sim.ANSWERED else "no_answer"
        rows.append(
            [
                cols["key"][j],
                loc.location_id,
                "inbound" if inbound else "outbound",
                ORIGINS[cols["origin"][j]],
                f"+1{cols['phone'][j]}" if cols["phone"][j] else "",
                start[j] + "Z",
                callrail.call_id(seed, cr) if cr > 0 else "",
                f"{cols['t'][j]}.{uid}" if uid >= 0 else "",
                loc.trackers[cols["tracker"][j]].source if cols["tracked"][j] and inbound else "",
                outcome,
                _flag(opp[j]),
                rec[j] if rec[j] >= 0 else "",
                _flag(r24[j]),
                _flag(r7[j]),
                TRANSFERS[cols["xfer"][j]],
                caller_wait[j],
                _flag(cols["would_buy"][j]),
                usd(cols["ticket"][j]),
                _flag(new_l[j]),
                missed_cause(outcome, cols["staff_state"][j], cols["wait"][j]),
                queue_wait[j] if queue_wait[j] >= 0 else "",
                _flag(voicemail[j]),
            ]
        )
    return rows


def _queue_waits(ctx: sim.Context, day: Table) -> np.ndarray:
    """Seconds on the queue's clock (from the end of the PBX's greeting: CONNECT holdtime
    when answered, else the waittime the caller left with) of the inbound calls that entered
    a PBX queue; -1 for every other call (no PBX, after hours, spam, outbound, or a hang-up
    during the greeting)."""
    loc = day["loc"].astype(np.int64)
    greeting = ctx.greeting[loc]
    out, wait = day["outcome"], day["wait"].astype(np.int64)
    queued = (day["direction"] == 0) & ctx.has_pbx[loc]
    queued &= ~np.isin(out, (sim.AFTER_HOURS, sim.SPAM))
    queued &= (out == sim.ANSWERED) | (wait >= greeting)
    return np.where(queued, wait - greeting, -1)


def _caller_waits(ctx: sim.Context, day: Table) -> np.ndarray:
    """Seconds on the caller's clock (docs/metrics.md, "Two waits"): from the call's start
    (the trunk's, a FreePBX greeting included) until a person answered or the call ended
    unanswered; for an unanswered call only CallRail saw (no PBX), CallRail's duration, which
    for a call that reached the forwarded phone's voicemail includes the message."""
    loc = day["loc"].astype(np.int64)
    wait = day["wait"].astype(np.int64)
    vm = np.isin(day["exit_kind"], (sim.EXIT_KEY_VM, sim.EXIT_TIMEOUT_VM, sim.EXIT_AFTER_VM))
    by_callrail = (day["direction"] == 0) & ~ctx.has_pbx[loc] & vm
    return np.where(by_callrail, wait + day["talk"].astype(np.int64), wait)


def _has_voicemail(day: Table) -> np.ndarray:
    """Inbound calls that reached voicemail: the voicemail outcome, or an after-hours call
    that left a message (rather than hanging up on the forwarded phone)."""
    out = day["outcome"]
    after_vm = (out == sim.AFTER_HOURS) & (day["exit_kind"] == sim.EXIT_AFTER_VM)
    return (day["direction"] == 0) & ((out == sim.VOICEMAIL) | after_vm)


def missed_cause(outcome: str, staff_state: int, wait: int) -> str:
    """Why an unanswered inbound call was lost, by the warehouse's ordered rules (docs/
    metrics.md, Shrink by root cause) decided on what the generator knows: the queue state the
    caller found (:mod:`.staffing`), else, without a PBX queue, how the call ended. Empty for
    calls that are neither a missed opportunity nor an after-hours call."""
    if outcome == "after_hours":
        return "after_hours"
    if outcome not in ("voicemail", "abandoned", "missed"):
        return ""
    if staff_state != staffing.NOT_QUEUED:
        return ("", "nobody_staffed", "all_busy", "rang_no_answer")[staff_state]
    if outcome in ("voicemail", "missed"):
        return "rang_no_answer"  # the forwarded phone rang its full ring time
    return "long_wait" if wait > SERVICE_LEVEL_SECONDS else "no_callback"
