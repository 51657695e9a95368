"""The answer key is written while the generator runs: the state it carries between days is
pruned as the truth rules' windows close, and a run longer than those windows still gives an
answer key that agrees with itself and with the files."""

from __future__ import annotations

import datetime as dt
import json
from collections import Counter, defaultdict
from pathlib import Path

import numpy as np
import pytest

from callshrink.generate import answer_key, generate
from tests.generate.gen_readers import cents, read_csv, recount_outcomes, recount_recovery

# Longer than the attribution look-back (30 days + refunds), at low volume: a few seconds.
LONG = {"locations": 2, "days": 80, "seed": 4, "calls_per_location_day": 15.0}


@pytest.fixture(scope="module")
def long_run(
    tmp_path_factory: pytest.TempPathFactory,
) -> tuple[Path, dict, list[dict]]:
    """The long run, with what the answer key carried after each step."""
    out = tmp_path_factory.mktemp("gen_long")
    states: list[dict] = []
    original = answer_key.AnswerKey.end_step

    def spy(self: answer_key.AnswerKey, step: int) -> None:
        original(self, step)
        states.append(
            {
                "step": step,
                "window_steps": [w[0] for w in self.window],
                "candidate_steps": {d for d, c in self.candidates.items() if len(c)},
                "converted_steps": set(self.converted),
                "payment_steps": set(self.payment_steps),
                "payments": len(self.payment_call),
                "pending_money": len(self.money_pending),
                "parts": set(self.parts),
            }
        )

    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(answer_key.AnswerKey, "end_step", spy)
        summary = generate(out, **LONG)
    return out, summary, states


def test_state_between_days_is_pruned(long_run: tuple[Path, dict, list[dict]]) -> None:
    out, summary, states = long_run
    assert [s["step"] for s in states] == list(range(LONG["days"] + 1))
    for s in states:
        step = s["step"]
        assert all(step - answer_key.FLAG_LAG < d <= step for d in s["window_steps"])
        assert all(step - 1 - answer_key.ATTRIBUTION_LAG < d <= step for d in s["candidate_steps"])
        assert all(step - 1 - answer_key.ATTRIBUTION_LAG < d <= step for d in s["parts"])
        assert all(step - answer_key.FLAG_LAG <= d <= step for d in s["converted_steps"])
        assert all(step - 2 - answer_key.PAYMENT_MEMORY <= d < step for d in s["payment_steps"])
        assert s["pending_money"] == 1
    # Past the look-back the carried calls stop growing with the number of days.
    assert summary["max_carried_calls"] < summary["calls"] / 2
    assert not (out / "answer_key" / ".calls_parts").exists()


def test_long_run_calls_csv_is_complete_and_ordered(
    long_run: tuple[Path, dict, list[dict]],
) -> None:
    out, summary, _ = long_run
    calls = read_csv(out / "answer_key" / "calls.csv")
    assert len(calls) == summary["calls"]
    starts = [c["start_utc"] for c in calls]
    assert starts == sorted(starts)
    last = dt.date.fromisoformat(starts[-1][:10]) - dt.date.fromisoformat(starts[0][:10])
    assert last.days >= LONG["days"] - 1


def test_long_run_attributed_revenue_per_call_matches_attributions(
    long_run: tuple[Path, dict, list[dict]],
) -> None:
    out, _, _ = long_run
    sign = {"payment": 1, "refund": -1, "deal": 1}
    expected: Counter = Counter()
    for r in read_csv(out / "answer_key" / "attributions.csv"):
        if r["call_key"]:
            expected[r["call_key"]] += sign[r["record_type"]] * cents(r["amount_usd"])
    calls = read_csv(out / "answer_key" / "calls.csv")
    got = Counter({c["call_key"]: cents(c["attributed_revenue_usd"]) for c in calls})
    assert +got == +expected  # unary + drops zero entries
    # Some calls from the first days got money more than a week later.
    late = [c for c in calls if c["start_utc"] < "2026-03-01" and got[c["call_key"]]]
    assert late
    attributed = cents(
        json.loads((out / "answer_key" / "summary.json").read_text())["total"][
            "attributed_revenue"
        ]["net_usd"]
    )
    assert sum(got.values()) == attributed > 0


def test_long_run_flags_agree_with_the_files(long_run: tuple[Path, dict, list[dict]]) -> None:
    out, _, _ = long_run
    summary = json.loads((out / "answer_key" / "summary.json").read_text())
    recovered, repeats = recount_recovery(out)
    for loc, v in summary["locations"].items():
        assert v["recovered_missed_opportunities"] == recovered[loc], loc
        assert v["repeat_contacts_24h"] == repeats[loc], loc
    outcomes = Counter(
        {
            (r["location_id"], r["outcome"]): int(r["calls"])
            for r in read_csv(out / "answer_key" / "outcomes_by_location.csv")
            if int(r["calls"])
        }
    )
    assert recount_outcomes(out) == outcomes
    firsts: dict[tuple[str, str], list[str]] = defaultdict(list)
    for c in read_csv(out / "answer_key" / "calls.csv"):
        if c["direction"] == "inbound" and c["caller_e164"]:
            firsts[(c["caller_e164"], c["location_id"])].append(c["is_new_caller"])
    assert all(flags[0] == "true" and "true" not in flags[1:] for flags in firsts.values())
    assert any(len(flags) > 1 for flags in firsts.values())


def test_sorted_keys_membership() -> None:
    keys = answer_key.SortedKeys()
    rng = np.random.default_rng(1)
    added: set[int] = set()
    for _ in range(30):
        batch = np.unique(rng.integers(0, 10**12, 9_000))
        batch = batch[~keys.contains(batch)]
        keys.add(batch)
        added.update(batch.tolist())
    probe = np.array([*sorted(added)[::97], -1, 10**13], dtype=np.int64)
    assert keys.contains(probe).tolist() == [True] * (len(probe) - 2) + [False, False]
    assert len(keys) == len(added)
