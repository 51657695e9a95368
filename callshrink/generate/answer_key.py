"""The answer key: true outcomes, recovery, repeat contacts, revenue and attribution.

Computed from the generator's own call table and money records with the definitions of
METRICS.md (see the package docstring for every file and column). Money is integer cents and
is written as decimal strings; nothing here uses floats for money.
"""

from __future__ import annotations

import csv
import json
from collections import defaultdict
from pathlib import Path

import numpy as np

from callshrink.generate import callrail, sim
from callshrink.generate.commerce import DEAL, KIND_NAMES, PAYMENT, REFUND, MoneyLog
from callshrink.generate.table import Table

ATTRIBUTION_WINDOW = 30 * sim.DAY
REPEAT_WINDOWS = {"24h": sim.DAY, "7d": 7 * sim.DAY}
OPPORTUNITY = (sim.VOICEMAIL, sim.ABANDONED, sim.MISSED)
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
    if not len(dst_key):
        return np.full(len(src_key), -1, dtype=np.int64)
    a, b = _combine(src_key, dst_key, src_t, dst_t, base)
    order = np.argsort(b, kind="stable")
    sb = b[order]
    idx = np.searchsorted(sb, a, side="right")
    ok = idx < len(sb)
    idx_c = np.minimum(idx, len(sb) - 1)
    hit = order[idx_c]
    ok &= (sb[idx_c] >> _SHIFT) == (a >> _SHIFT)
    ok &= dst_t[hit] - src_t <= window
    return np.where(ok, hit, -1)


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
    if not len(dst_key):
        return np.full(len(src_key), -1, dtype=np.int64)
    a, b = _combine(src_key, dst_key, src_t, dst_t, base)
    order = np.argsort(b, kind="stable")
    sb = b[order]
    idx = np.searchsorted(sb, a, side="left") - 1
    ok = idx >= 0
    idx_c = np.maximum(idx, 0)
    hit = order[idx_c]
    ok &= (sb[idx_c] >> _SHIFT) == (a >> _SHIFT)
    ok &= src_t - dst_t[hit] <= window
    return np.where(ok, hit, -1)


class Truth:
    """Derived per-call flags over the whole period."""

    def __init__(self, ctx: sim.Context, calls: Table) -> None:
        self.ctx = ctx
        self.calls = calls
        self.base = ctx.t0 - 40 * sim.DAY
        out, inbound = calls["outcome"], calls["direction"] == 0
        self.inbound = inbound
        real = calls["phone"] > 0
        self.answered_in = inbound & (out == sim.ANSWERED)
        self.answered_any = (out == sim.ANSWERED) & ~calls["spam"] & real
        self.opportunity = inbound & np.isin(out, OPPORTUNITY)
        self.recovered_by = self._recovered()
        self.new_caller = self._new_caller()
        self.attributed_cents = np.zeros(len(calls), dtype=np.int64)
        self.repeat = {name: self._repeat(w) for name, w in REPEAT_WINDOWS.items()}

    def _recovered(self) -> np.ndarray:
        c = self.calls
        src = np.flatnonzero(self.opportunity)
        dst = np.flatnonzero(self.answered_any)
        hit = next_after(
            c["phone"][src],
            c["t"][src],
            c["phone"][dst],
            c["t"][dst],
            sim.RECOVERY_WINDOW,
            self.base,
        )
        out = np.full(len(c), -1, dtype=np.int64)
        out[src] = np.where(hit >= 0, dst[np.maximum(hit, 0)], -1)
        return out

    def _new_caller(self) -> np.ndarray:
        """First inbound call of a number at a location in the data set."""
        c = self.calls
        inbound = np.flatnonzero(self.inbound & (c["phone"] > 0))
        key = c["phone"][inbound] * 1024 + c["loc"][inbound]
        order = np.lexsort((c["key"][inbound], c["t"][inbound], key))
        first = np.ones(len(order), dtype=bool)
        first[1:] = key[order][1:] != key[order][:-1]
        out = np.zeros(len(c), dtype=bool)
        out[inbound[order[first]]] = True
        return out

    def _repeat(self, window: int) -> np.ndarray:
        c = self.calls
        src = np.flatnonzero(self.answered_in)
        dst = np.flatnonzero(self.inbound & ~c["spam"] & (c["phone"] > 0))
        hit = next_after(
            c["phone"][src], c["t"][src], c["phone"][dst], c["t"][dst], window, self.base
        )
        out = np.zeros(len(c), dtype=bool)
        out[src] = hit >= 0
        return out


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


class Attribution:
    """Applies METRICS.md's attribution rule to every payment, refund and deal."""

    def __init__(self, truth: Truth, log: MoneyLog) -> None:
        self.truth = truth
        self.log = log
        m = self.m = log.arrays()
        c = truth.calls
        n = len(m["kind"])
        self.call_index = np.full(n, -1, dtype=np.int64)
        self.rule = np.zeros(n, dtype=np.int8)
        self.revenue = m["status"] == 0  # COMPLETED payments and refunds, closedwon deals
        ans = np.flatnonzero(truth.answered_in & (c["phone"] > 0))
        kind, phone, t, loc = m["kind"], m["phone"], m["t"], m["loc"]
        base = truth.base
        pay = np.flatnonzero((kind == PAYMENT) & (phone > 0))
        if len(pay):
            hit = latest_before(
                phone[pay] * 1024 + loc[pay],
                t[pay],
                c["phone"][ans] * 1024 + c["loc"][ans],
                c["t"][ans],
                ATTRIBUTION_WINDOW,
                base,
            )
            self._set(pay, hit, ans, 1)
        deal = np.flatnonzero((kind == DEAL) & (phone > 0))
        if len(deal):
            hit = latest_before(
                phone[deal], t[deal], c["phone"][ans], c["t"][ans], ATTRIBUTION_WINDOW, base
            )
            self._set(deal, hit, ans, 2)
        payments = np.flatnonzero(kind == PAYMENT)
        refunds = np.flatnonzero(kind == REFUND)
        if len(refunds) and len(payments):
            by_seq = np.full(int(m["seq"][payments].max()) + 1, -1, dtype=np.int64)
            by_seq[m["seq"][payments]] = payments
            source = by_seq[m["pay_seq"][refunds]]
            linked = np.where(source >= 0, self.call_index[np.maximum(source, 0)], -1)
            self.call_index[refunds] = linked
            self.rule[refunds[linked >= 0]] = 3

    def _set(self, rows: np.ndarray, hit: np.ndarray, ans: np.ndarray, rule: int) -> None:
        ok = hit >= 0
        self.call_index[rows[ok]] = ans[hit[ok]]
        self.rule[rows[ok]] = rule


def _attributed_per_call(truth: Truth, attr: Attribution) -> np.ndarray:
    """Net revenue (payments - refunds + deals, cents) attributed to each call."""
    out = np.zeros(len(truth.calls), dtype=np.int64)
    hit = attr.revenue & (attr.call_index >= 0)
    sign = np.where(attr.m["kind"] == REFUND, -1, 1)
    np.add.at(out, attr.call_index[hit], (sign * attr.m["amount"])[hit])
    return out


def _write_csv(path: Path, header: list[str], rows: list[list[str]]) -> None:
    with path.open("w", newline="", encoding="utf-8") as fh:
        w = csv.writer(fh, lineterminator="\n")
        w.writerow(header)
        w.writerows(rows)


def write(
    out: Path, ctx: sim.Context, calls: Table, money: MoneyLog, converted: np.ndarray, seed: int
) -> list[str]:
    out.mkdir(parents=True, exist_ok=True)
    truth = Truth(ctx, calls)
    attr = Attribution(truth, money)
    loc_ids = [loc.location_id for loc in ctx.locs]
    files = []
    files.append(_outcomes(out, truth, loc_ids))
    files.extend(_revenue(out, ctx, truth, attr, loc_ids, seed))
    lost = _lost(out, truth, converted, loc_ids)
    files.append("lost_revenue.csv")
    truth.attributed_cents = _attributed_per_call(truth, attr)
    files.append(_calls_csv(out, ctx, truth, seed))
    files.append(_summary(out, ctx, truth, attr, lost, loc_ids))
    return sorted(files)


def _outcomes(out: Path, truth: Truth, loc_ids: list[str]) -> str:
    c = truth.calls
    counts = np.zeros((len(loc_ids), len(sim.OUTCOME_NAMES)), dtype=np.int64)
    inb = truth.inbound
    np.add.at(counts, (c["loc"][inb], c["outcome"][inb].astype(np.int64)), 1)
    rows = [
        [lid, name, str(counts[li, oi])]
        for li, lid in enumerate(loc_ids)
        for oi, name in enumerate(sim.OUTCOME_NAMES)
    ]
    _write_csv(out / "outcomes_by_location.csv", ["location_id", "outcome", "calls"], rows)
    return "outcomes_by_location.csv"


def _call_ref(truth: Truth, i: int, seed: int) -> tuple[str, str]:
    c = truth.calls
    cr = int(c["cr_ctr"][i])
    uid = int(c["uid_ctr"][i])
    return (
        callrail.call_id(seed, cr) if cr > 0 else "",
        f"{int(c['t'][i])}.{uid}" if uid >= 0 else "",
    )


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


def _revenue(
    out: Path, ctx: sim.Context, truth: Truth, attr: Attribution, loc_ids: list[str], seed: int
) -> list[str]:
    total: Cells = defaultdict(lambda: [0, 0, 0])
    attributed: Cells = defaultdict(lambda: [0, 0, 0])
    rev_idx = np.flatnonzero(attr.revenue)
    with (out / "attributions.csv").open("w", newline="", encoding="utf-8") as fh:
        w = csv.writer(fh, lineterminator="\n")
        w.writerow(ATTRIBUTION_HEADER)
        for lo in range(0, len(rev_idx), 50_000):  # bounded memory for a million records
            w.writerows(
                _attribution_rows(
                    ctx, truth, attr, rev_idx[lo : lo + 50_000], loc_ids, seed, total, attributed
                )
            )
    header = ["location_id", "date", "payments_usd", "refunds_usd", "deals_usd"]
    for name, table in (
        ("revenue_by_location_day.csv", total),
        ("attributed_revenue_by_location_day.csv", attributed),
    ):
        _write_csv(
            out / name,
            header,
            [
                [lid, day, usd(v[0]), usd(v[1]), usd(v[2])]
                for (lid, day), v in sorted(table.items())
            ],
        )
    return [
        "attributions.csv",
        "revenue_by_location_day.csv",
        "attributed_revenue_by_location_day.csv",
    ]


def _attribution_rows(
    ctx: sim.Context,
    truth: Truth,
    attr: Attribution,
    idx: np.ndarray,
    loc_ids: list[str],
    seed: int,
    total: Cells,
    attributed: Cells,
) -> list[list[str]]:
    c = truth.calls
    m = attr.m
    # Location of a record: its own (Square) or, for deals, the attributed call's.
    call_idx = attr.call_index[idx]
    call_loc = np.where(call_idx >= 0, c["loc"][np.maximum(call_idx, 0)].astype(np.int64), -1)
    loc = np.where(m["loc"][idx] >= 0, m["loc"][idx], call_loc).tolist()
    dates = _local_dates(ctx, np.array(loc, dtype=np.int64), m["t"][idx]).tolist()
    cols = {k: m[k][idx].tolist() for k in ("kind", "seq", "pay_seq", "step", "line", "amount")}
    rules = attr.rule[idx].tolist()
    rows = []
    for k, ci in enumerate(call_idx.tolist()):
        kind, amount = cols["kind"][k], cols["amount"][k]
        lid = loc_ids[loc[k]] if loc[k] >= 0 else "unknown"
        cell = (lid, dates[k])
        total[cell][kind] += amount
        cr_id, linked, call_key, call_loc_id = "", "", "", ""
        if ci >= 0:
            attributed[cell][kind] += amount
            cr_id, linked = _call_ref(truth, ci, seed)
            call_key, call_loc_id = str(int(c["key"][ci])), loc_ids[int(c["loc"][ci])]
        rows.append(
            [
                KIND_NAMES[kind],
                attr.log.record_id(kind, cols["seq"][k], cols["pay_seq"][k]),
                attr.log.file(kind, cols["step"][k]),
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


def _lost(
    out: Path, truth: Truth, converted: np.ndarray, loc_ids: list[str]
) -> dict[str, dict[str, int]]:
    """Would-buy intents whose first call was not answered and that never turned into a
    purchase, by the head call's location and outcome."""
    c = truth.calls
    head = (c["intent"] == c["key"]) & truth.inbound & c["would_buy"] & ~c["spam"]
    head &= np.isin(c["outcome"], (*OPPORTUNITY, sim.SHORT_ABANDON, sim.AFTER_HOURS))
    lost = head & ~np.isin(c["key"], converted)
    category = np.where(
        c["outcome"] == sim.AFTER_HOURS,
        "after_hours",
        np.where(c["outcome"] == sim.SHORT_ABANDON, "short_abandon", "missed_opportunity"),
    )
    result: dict[str, dict[str, int]] = {lid: {} for lid in loc_ids}
    rows = []
    for li, lid in enumerate(loc_ids):
        for cat in ("missed_opportunity", "after_hours", "short_abandon"):
            m = lost & (c["loc"] == li) & (category == cat)
            cents = int(c["ticket"][m].sum())
            result[lid][cat] = cents
            rows.append([lid, cat, str(int(m.sum())), usd(cents)])
    _write_csv(
        out / "lost_revenue.csv", ["location_id", "category", "lost_intents", "lost_usd"], rows
    )
    return result


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
    "attributed_revenue_usd",
]
ORIGINS = ("fresh", "retry", "follow_up", "callback")
TRANSFERS = ("", "agent", "escalation")


def _calls_csv(out: Path, ctx: sim.Context, truth: Truth, seed: int) -> str:
    c = truth.calls
    order = np.lexsort((c["key"], c["t"]))
    with (out / "calls.csv").open("w", newline="", encoding="utf-8") as fh:
        w = csv.writer(fh, lineterminator="\n")
        w.writerow(CALL_HEADER)
        for lo in range(0, len(order), 50_000):  # bounded memory for millions of calls
            w.writerows(_call_rows(ctx, truth, order[lo : lo + 50_000], seed))
    return "calls.csv"


def _flag(value: bool) -> str:
    return "true" if value else "false"


def _call_rows(ctx: sim.Context, truth: Truth, idx: np.ndarray, seed: int) -> list[list]:
    c = truth.calls
    start = c["t"][idx].astype("datetime64[s]").astype(str).tolist()
    cols = {k: c[k][idx].tolist() for k in c.cols}
    rec = truth.recovered_by[idx]
    rec_key = np.where(rec >= 0, c["key"][np.maximum(rec, 0)], -1).tolist()
    r24, r7 = truth.repeat["24h"][idx].tolist(), truth.repeat["7d"][idx].tolist()
    opp = truth.opportunity[idx].tolist()
    new = truth.new_caller[idx].tolist()
    attributed = truth.attributed_cents[idx].tolist()
    rows = []
    for j, i in enumerate(idx.tolist()):
        loc = ctx.locs[cols["loc"][j]]
        cr_id, linked = _call_ref(truth, i, seed)
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
                cr_id,
                linked,
                loc.trackers[cols["tracker"][j]].source if cols["tracked"][j] and inbound else "",
                outcome,
                _flag(opp[j]),
                rec_key[j] if rec_key[j] >= 0 else "",
                _flag(r24[j]),
                _flag(r7[j]),
                TRANSFERS[cols["xfer"][j]],
                cols["wait"][j],
                _flag(cols["would_buy"][j]),
                usd(cols["ticket"][j]),
                _flag(new[j]),
                usd(attributed[j]),
            ]
        )
    return rows


def _summary(
    out: Path,
    ctx: sim.Context,
    truth: Truth,
    attr: Attribution,
    lost: dict[str, dict[str, int]],
    loc_ids: list[str],
) -> str:
    c = truth.calls
    per: dict[str, dict] = {}
    scopes = [(lid, c["loc"] == li) for li, lid in enumerate(loc_ids)]
    scopes.append(("total", np.ones(len(c), dtype=bool)))
    money = MoneyArrays(truth, attr)
    for name, mask in scopes:
        per[name] = _scope_summary(truth, money, mask, loc_ids, name, lost)
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
    (out / "summary.json").write_text(json.dumps(doc, indent=2) + "\n", encoding="utf-8")
    return "summary.json"


class MoneyArrays:
    """Revenue records only: kind (0 payment, 1 refund, 2 deal), cents, location (a deal's is
    its attributed call's) and whether they are attributed."""

    def __init__(self, truth: Truth, attr: Attribution) -> None:
        c = truth.calls
        keep = np.flatnonzero(attr.revenue)
        self.kind = attr.m["kind"][keep]
        self.cents = attr.m["amount"][keep]
        call = attr.call_index[keep]
        call_loc = np.where(call >= 0, c["loc"][np.maximum(call, 0)].astype(np.int64), -1)
        own = attr.m["loc"][keep]
        self.loc = np.where(own >= 0, own, call_loc)
        self.attributed = call >= 0

    def sums(self, li: int | None, attributed_only: bool) -> dict[str, int]:
        mask = np.ones(len(self.kind), dtype=bool) if li is None else self.loc == li
        if attributed_only:
            mask &= self.attributed
        return {
            name: int(self.cents[mask & (self.kind == code)].sum())
            for code, name in enumerate(("payments", "refunds", "deals"))
        }


SERVICE_LEVEL_SECONDS = 20


def _ratio(num: int, den: int) -> float | None:
    return round(num / den, 6) if den else None


def _queue_stats(truth: Truth, inbound: np.ndarray) -> dict:
    """Queue measures over PBX queue calls (open hours, not spam): the PBX's CONNECT holdtime
    (ring time included) and ABANDON waittime."""
    c = truth.calls
    queue = inbound & truth.ctx.has_pbx[c["loc"]]
    answered = queue & (c["outcome"] == sim.ANSWERED)
    abandoned = queue & (c["outcome"] == sim.ABANDONED)
    wait = c["wait"].astype(np.int64)
    n_ans, n_ab = int(answered.sum()), int(abandoned.sum())
    within = int((answered & (wait <= SERVICE_LEVEL_SECONDS)).sum())
    late_ab = int((abandoned & (wait > SERVICE_LEVEL_SECONDS)).sum())
    return {
        "answered": n_ans,
        "abandoned": n_ab,
        "average_speed_of_answer_seconds": round(float(wait[answered].mean()), 3)
        if n_ans
        else None,
        "service_level_20s": _ratio(within, n_ans + late_ab),
        "abandonment_rate": _ratio(n_ab, n_ans + n_ab),
        "transfer_rate": _ratio(int((answered & (c["xfer"] > 0)).sum()), n_ans),
        "escalation_rate": _ratio(
            int((answered & (c["xfer"] == sim.XFER_ESCALATION)).sum()), n_ans
        ),
    }


def _scope_summary(
    truth: Truth,
    money: MoneyArrays,
    mask: np.ndarray,
    loc_ids: list[str],
    name: str,
    lost: dict[str, dict[str, int]],
) -> dict:
    c = truth.calls
    inb = mask & truth.inbound
    outcome = c["outcome"]
    counts = {n: int((inb & (outcome == i)).sum()) for i, n in enumerate(sim.OUTCOME_NAMES)}
    denom = sum(counts[k] for k in ("answered", "voicemail", "abandoned", "missed"))
    opp = mask & truth.opportunity
    rec = opp & (truth.recovered_by >= 0)
    minutes = (c["t"][truth.recovered_by[rec]] - c["t"][rec]) / 60.0
    answered = int((mask & truth.answered_in).sum())
    li = loc_ids.index(name) if name in loc_ids else None
    rev, att = money.sums(li, False), money.sums(li, True)
    lost_scope = (
        lost[name]
        if name in lost
        else {
            k: sum(v[k] for v in lost.values())
            for k in ("missed_opportunity", "after_hours", "short_abandon")
        }
    )
    return {
        "inbound_calls": int(inb.sum()),
        "outbound_calls": int((mask & ~truth.inbound).sum()),
        "outcomes": counts,
        "answered": counts["answered"],
        "answer_rate": round(counts["answered"] / denom, 6) if denom else None,
        "missed_opportunities": int(opp.sum()),
        "recovered_missed_opportunities": int(rec.sum()),
        "median_minutes_to_recovery": round(float(np.median(minutes)), 2) if len(minutes) else None,
        "answered_inbound": answered,
        "repeat_contacts_24h": int((mask & truth.repeat["24h"]).sum()),
        "repeat_contacts_7d": int((mask & truth.repeat["7d"]).sum()),
        "transfers": int((inb & (c["xfer"] > 0) & (outcome == sim.ANSWERED)).sum()),
        "escalations": int((inb & (c["xfer"] == sim.XFER_ESCALATION)).sum()),
        "queue": _queue_stats(truth, inb),
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
        "true_lost_revenue": {k: usd(v) for k, v in lost_scope.items()},
    }
