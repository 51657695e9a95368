"""The day-by-day generator loop: simulate, render and write each step, and feed the answer
key (:class:`answer_key.AnswerKey`), which writes its files as the windows of its rules close.
Nothing is kept for the whole period, so memory does not grow with the number of days (beyond
the per-day aggregates and the set of callers seen)."""

from __future__ import annotations

import datetime as dt
import shutil
from dataclasses import dataclass, field
from pathlib import Path
from typing import TextIO

import numpy as np

from callshrink.generate import answer_key, callrail, commerce, sim
from callshrink.generate.drift import Drift
from callshrink.generate.pbx import (
    RENDER_DRAWS,
    InternalCall,
    PbxDay,
    PbxState,
    internal_calls,
    rows,
)
from callshrink.generate.progress import Progress
from callshrink.generate.reference import Location, locations, pbxs_used, write_reference
from callshrink.generate.table import Seen, Table
from callshrink.generate.tz import Clock, date_epoch

DEFAULT_START = dt.date(2026, 2, 23)  # 28 days from here cover the 2026-03-08 DST change
CALLRAIL_FORMATS = ("json", "jsonl", "csv")
# The rendering generator (np.random.default_rng([seed, RENDER_STREAM])) draws what is only
# rendering (consult timing, ringall sizes, internal calls), so the simulation's own stream,
# and with it the calls, outcomes and money of a seed, does not depend on how PBXs render.
RENDER_STREAM = 12

# Per-call columns the answer key keeps for its look-ahead, with compact types.
CALL_KEY_COLUMNS = {
    "key": np.int64,
    "loc": np.int16,
    "phone": np.int64,
    "caller": np.int64,
    "direction": np.int8,
    "origin": np.int8,
    "t": np.int64,
    "outcome": np.int8,
    "tracked": bool,
    "tracker": np.int8,
    "spam": bool,
    "would_buy": bool,
    "ticket": np.int64,
    "intent": np.int64,
    "xfer": np.int8,
    "wait": np.int32,
    "talk": np.int32,
    "exit_kind": np.int8,
    "staff_state": np.int8,
    "is_demand": bool,
}
CHUNK = 4096  # calls rendered at a time


@dataclass
class Counts:
    calls: int = 0
    inbound_calls: int = 0
    outbound_calls: int = 0
    files: dict[str, int] = field(default_factory=dict)
    rows: dict[str, int] = field(default_factory=dict)

    def add(self, source: str, n_rows: int, n_files: int = 1) -> None:
        self.files[source] = self.files.get(source, 0) + n_files
        self.rows[source] = self.rows.get(source, 0) + n_rows


class Writer:
    """Writes text files under the landing folder and counts them per source."""

    def __init__(self, landing: Path, counts: Counts) -> None:
        self.landing = landing
        self.counts = counts

    def open(self, source: str, rel: str) -> TextIO:
        """A file to stream into; counted as one file of ``source`` (rows counted apart)."""
        path = self.landing / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        self.counts.add(source, 0)
        return path.open("w", encoding="utf-8", newline="")

    def write(self, source: str, rel: str, text: str, n_rows: int) -> None:
        path = self.landing / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8", newline="")
        self.counts.add(source, n_rows)


class Generator:
    def __init__(
        self,
        out: Path,
        locs: list[Location],
        start: dt.date,
        days: int,
        seed: int,
        params: sim.Params,
        progress: bool,
        drifts: tuple[Drift, ...] = (),
    ) -> None:
        self.out = out
        self.locs = locs
        self.days = days
        self.seed = seed
        self.rng = np.random.default_rng(seed)
        self.render_rng = np.random.default_rng([seed, RENDER_STREAM])
        self.ctx = sim.Context(locs, start, days, params, seed, drifts)
        self.locs = self.ctx.locs  # with an extension for every agent of the staffing plan
        self.counts = Counts()
        self.writer = Writer(out / "landing", self.counts)
        self.pending_calls: dict[int, list[Table]] = {}
        self.pending_purchases: dict[int, list[Table]] = {}
        self.pending_internal: dict[int, list[InternalCall]] = {}
        self._internal = _Pending([])
        self.pbx = {p.pbx_id: PbxState(p, _tz_for(self.ctx, p.timezone)) for p in pbxs_used(locs)}
        self.clocks = [Clock(tz) for tz in self.ctx.tz]
        self.callrail_counter = 0
        self.first_calls = Seen(sim.CALLER_SPACE)
        self.money = commerce.MoneyLog(seed, start)
        self.commerce = commerce.CommerceState(seed, self.ctx.t0, self.ctx.t_end, log=self.money)
        self.key = answer_key.AnswerKey(out / "answer_key", self.ctx, self.money, seed)
        self.progress = Progress(days + 1, enabled=progress, label="generate")

    # -- buffering --------------------------------------------------------------------------
    def _step_of(self, t: np.ndarray) -> np.ndarray:
        return (t - self.ctx.t0) // sim.DAY

    def _bucket(self, target: dict[int, list[Table]], table: Table) -> None:
        if not len(table):
            return
        steps = self._step_of(table["t"])
        for step in np.unique(steps):
            if 0 <= step <= self.days:
                target.setdefault(int(step), []).append(table.take(np.flatnonzero(steps == step)))

    # -- one step ---------------------------------------------------------------------------
    def run(self) -> None:
        for step in range(self.days + 1):
            self.step(step)
            self.key.end_step(step)
            self.progress.advance(self.counts.calls)
        self.progress.close()

    def step(self, step: int) -> None:
        if step < self.days:
            self._bucket(self.pending_calls, sim.fresh_arrivals(self.rng, self.ctx, step))
            self._internal_calls(step)
        internal = sorted(self.pending_internal.pop(step, []), key=lambda x: (x.start, x.loc))
        parts = self.pending_calls.pop(step, [])
        batch = Table.concat(parts) if parts else None
        done: list[Table] = []
        while batch is not None and len(batch):
            done.append(batch)
            children, purchases = sim.spawn(self.rng, self.ctx, batch)
            self.key.add_converted(step, purchases["intent"][purchases["intent"] >= 0])
            self._bucket(self.pending_purchases, purchases)
            now = self._step_of(children["t"]) == step
            self._bucket(self.pending_calls, children.take(np.flatnonzero(~now)))
            batch = children.take(np.flatnonzero(now))
        if done:
            calls = Table.concat(done)
            calls = calls.take(np.lexsort((calls["key"], calls["t"])))
            self._write_calls(step, calls, internal)
        self._write_commerce(step)

    def _stem(self, step: int) -> str:
        return (self.ctx.start + dt.timedelta(days=step)).isoformat()

    def _write_calls(self, step: int, calls: Table, internal: list[InternalCall]) -> None:
        stem = self._stem(step)
        side: list[tuple[str, str, str, str, int]] = []  # internal and consult calls
        days = {pid: PbxDay(state, side) for pid, state in self.pbx.items()}
        landing = self.writer.landing
        handles = {}
        for pid, day in days.items():
            if step == 0:
                day.queue_start(self.ctx.t0 - 3600)
            handles[pid] = (
                self.writer.open("pbx_cdr", f"pbx/{pid}/cdr/Master-{stem}.csv"),
                self.writer.open("pbx_queue_log", f"pbx/{pid}/queue_log/queue_log-{stem}"),
            )
        # also on the step after the last day: retries and callbacks spill into it, and the
        # simulation gave them that day's staffing
        self._agent_events(step, days)
        fmt = CALLRAIL_FORMATS[step % len(CALLRAIL_FORMATS)]
        tracked = int(calls["tracked"].sum())
        rail = callrail.DayFile(landing / "tracking" / "callrail", f"calls_{stem}", fmt, tracked)
        uid_ctr = np.full(len(calls), -1, dtype=np.int64)
        cr_ctr = np.full(len(calls), -1, dtype=np.int64)
        self._internal = _Pending(internal)
        for lo in range(0, len(calls), CHUNK):
            hi = min(lo + CHUNK, len(calls))
            objects = self._render_chunk(
                calls.take(np.arange(lo, hi)), days, uid_ctr[lo:hi], cr_ctr[lo:hi]
            )
            rail.add(objects)
            until = int(calls["t"][hi]) if hi < len(calls) else None
            # Internal calls are rendered in start order among the others: all that start
            # before `until` are in before anything ending before it is written.
            self._render_internal(days, until)
            self.key.add_pbx_internal(side)
            side.clear()
            for pid, day in days.items():
                self._flush(day, handles[pid], until)
        self.counts.add("callrail", tracked, rail.close())
        for cdr_fh, qlog_fh in handles.values():
            cdr_fh.close()
            qlog_fh.close()
        calls["uid_ctr"], calls["cr_ctr"] = uid_ctr, cr_ctr
        self.counts.calls += len(calls)
        inbound = int((calls["direction"] == 0).sum())
        self.counts.inbound_calls += inbound
        self.counts.outbound_calls += len(calls) - inbound
        keep = {name: calls[name].astype(dtype) for name, dtype in CALL_KEY_COLUMNS.items()}
        keep["uid_ctr"], keep["cr_ctr"] = uid_ctr, cr_ctr.astype(np.int32)
        self.key.add_calls(step, Table(keep))

    def _flush(self, day: PbxDay, handles: tuple, until: int | None) -> None:
        cdr, qlog, n_cdr, n_qlog = day.flush(until)
        handles[0].write(cdr)
        handles[1].write(qlog)
        self.counts.rows["pbx_cdr"] = self.counts.rows.get("pbx_cdr", 0) + n_cdr
        self.counts.rows["pbx_queue_log"] = self.counts.rows.get("pbx_queue_log", 0) + n_qlog

    def _render_chunk(
        self, chunk: Table, days: dict[str, PbxDay], uid_ctr: np.ndarray, cr_ctr: np.ndarray
    ) -> list[dict]:
        objects: list[dict] = []
        u = self.render_rng.random((len(chunk), RENDER_DRAWS)).tolist()
        for i, c in enumerate(rows(chunk)):
            loc = self.locs[c["loc"]]
            self._render_internal(days, c["t"])
            if loc.pbx is not None:
                day = days[loc.pbx.pbx_id]
                if c["direction"] == 0:
                    linked = day.inbound(loc, c, self._names(c, loc), u[i])
                else:
                    linked = day.outbound(loc, c)
                uid_ctr[i] = int(linked.split(".")[1])
            if c["tracked"]:
                self.callrail_counter += 1
                cr_ctr[i] = self.callrail_counter
                objects.append(self._callrail(c, loc))
        return objects

    def _names(self, c: dict, loc: Location) -> tuple[str, str, str, str]:
        from callshrink.generate.names import CITY_BY_TZ, person

        first, last = person(int(c["caller"]))
        city, state = CITY_BY_TZ.get(loc.timezone, ("", ""))
        return first, last, city, state

    def _callrail(self, c: dict, loc: Location) -> dict:
        caller = int(c["caller"])
        # A caller only calls their home location; spam numbers are keyed by number too.
        key = caller if caller >= 0 else sim.CALLER_SPACE + int(c["phone"]) * 1000 + int(c["loc"])
        first = self.first_calls.first(key)
        cid = callrail.call_id(self.seed, self.callrail_counter)
        return callrail.call_object(c, loc, self.clocks[c["loc"]], cid, first)

    def _open_pbx_locations(self, step: int) -> list[tuple[int, Location, int, int]]:
        """(index, location, opens, closes) of the PBX locations open on local day ``step``."""
        date = self.ctx.start + dt.timedelta(days=step)
        wd = date.isoweekday()
        base = date_epoch(date)
        out = []
        for li, loc in enumerate(self.locs):
            if loc.pbx is None or self.ctx.open_s[li, wd] < 0:
                continue
            tz = self.ctx.tz[li]
            open_t, close_t = (
                int(tz.from_local(np.array([base + self.ctx.open_s[li, wd]]))[0]),
                int(tz.from_local(np.array([base + self.ctx.close_s[li, wd]]))[0]),
            )
            out.append((li, loc, open_t, close_t))
        return out

    def _internal_calls(self, step: int) -> None:
        """Staff phone-to-phone calls of local day ``step``, by the UTC step they start in."""
        for li, loc, open_t, close_t in self._open_pbx_locations(step):
            for call in internal_calls(self.render_rng, li, len(loc.extensions), open_t, close_t):
                s = (call.start - self.ctx.t0) // sim.DAY
                if 0 <= s <= self.days:
                    self.pending_internal.setdefault(int(s), []).append(call)

    def _render_internal(self, days: dict[str, PbxDay], until: int | None) -> None:
        """Render the internal calls that start before ``until`` (all if None)."""
        pending = self._internal
        while pending.i < len(pending.calls) and (
            until is None or pending.calls[pending.i].start < until
        ):
            call = pending.calls[pending.i]
            loc = self.locs[call.loc]
            assert loc.pbx is not None
            days[loc.pbx.pbx_id].internal(loc, call)
            pending.i += 1

    def _agent_events(self, step: int, days: dict[str, PbxDay]) -> None:
        date = self.ctx.start + dt.timedelta(days=step)
        wd = date.isoweekday()
        base = date_epoch(date)
        plan = self.ctx.staffing
        for li, loc, open_t, close_t in self._open_pbx_locations(step):
            assert loc.pbx is not None
            first = self.ctx.open_s[li, wd] // 3600
            last = (self.ctx.close_s[li, wd] - 1) // 3600
            starts = self.ctx.tz[li].from_local(base + 3600 * np.arange(first + 1, last + 1))
            bounds = [open_t, *map(int, starts), close_t]
            agents = plan.day_agents(li, base // sim.DAY)[wd]  # after any staffing drift
            hours = [
                (bounds[j], bounds[j + 1], int(agents[first + j])) for j in range(last - first + 1)
            ]
            days[loc.pbx.pbx_id].agent_events(loc, hours)
        if wd <= 5:
            for pid, day in days.items():
                tz = self.pbx[pid].tz
                login = int(tz.from_local(np.array([base + 7 * 3600 + 1800]))[0])
                day.escalation_shift(login, login + 11 * 3600)

    def _write_commerce(self, step: int) -> None:
        stem = self._stem(step)
        parts = self.pending_purchases.pop(step, [])
        if step < self.days:
            parts.append(sim.walk_ins(self.rng, self.ctx, step))
        files = {
            "payments": f"pos/square/payments/payments_{stem}.jsonl",
            "refunds": f"pos/square/refunds/refunds_{stem}.jsonl",
            "customers": f"pos/square/customers/customers_{stem}.jsonl",
            "contacts": f"crm/hubspot/contacts/contacts_{stem}.jsonl",
            "deals": f"crm/hubspot/deals/deals_{stem}.jsonl",
        }
        day = commerce.CommerceDay(self.commerce, self.locs, step)
        if parts:
            day.add(self.rng, Table.concat(parts))
        day.flush_refunds()
        for source, lines in (
            ("square_payments", day.payments),
            ("square_refunds", day.refunds),
            ("square_customers", day.customers),
            ("hubspot_contacts", day.contacts),
            ("hubspot_deals", day.deals),
        ):
            short = source.split("_", 1)[1]
            self.writer.write(source, files[short], "".join(lines), len(lines))


@dataclass
class _Pending:
    """A step's internal calls in start order and how many are rendered."""

    calls: list[InternalCall]
    i: int = 0


def _tz_for(ctx: sim.Context, name: str):
    from callshrink.generate.tz import TzTable

    return TzTable(name, ctx.t0, ctx.t_end)


def generate_tree(
    out: Path,
    *,
    locations_n: int,
    days: int,
    seed: int,
    start: dt.date,
    params: sim.Params,
    progress: bool,
    drifts: tuple[Drift, ...] = (),
) -> dict:
    if locations_n < 1 or days < 1:
        raise ValueError("locations and days must be at least 1")
    locs = locations(locations_n)
    for sub in ("landing", "reference", "answer_key"):
        if (out / sub).exists():
            shutil.rmtree(out / sub)
    ref_rows = write_reference(out / "reference", locs)
    gen = Generator(out, locs, start, days, seed, params, progress, drifts)
    gen.run()
    key_files = gen.key.close()
    c = gen.counts
    return {
        "out": str(out),
        "locations": locations_n,
        "days": days,
        "seed": seed,
        "start": start.isoformat(),
        "calls": c.calls,
        "inbound_calls": c.inbound_calls,
        "outbound_calls": c.outbound_calls,
        "files": dict(sorted(c.files.items())),
        "rows": dict(sorted(c.rows.items())),
        "reference_rows": ref_rows,
        "answer_key_files": key_files,
        # Most calls the answer key held between two days (bounded by its look-back windows).
        "max_carried_calls": gen.key.max_carried,
        **({"drifts": [d.__dict__.copy() for d in drifts]} if drifts else {}),
    }
