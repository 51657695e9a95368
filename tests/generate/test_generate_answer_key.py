"""The answer key agrees with what the landing files say."""

from __future__ import annotations

import csv
import json
from collections import Counter
from pathlib import Path

from tests.generate.gen_readers import (
    cents,
    read_csv,
    recount_outcomes,
    recount_recovery,
    recount_square,
)

OUTCOMES = ("answered", "voicemail", "abandoned", "missed", "short_abandon", "after_hours", "spam")


def _key_outcomes(out: Path) -> Counter:
    return Counter(
        {
            (r["location_id"], r["outcome"]): int(r["calls"])
            for r in read_csv(out / "answer_key" / "outcomes_by_location.csv")
            if int(r["calls"])
        }
    )


def test_outcome_names_are_those_of_metrics(small_out: Path) -> None:
    rows = read_csv(small_out / "answer_key" / "outcomes_by_location.csv")
    assert {r["outcome"] for r in rows} == set(OUTCOMES)
    assert list(rows[0]) == ["location_id", "outcome", "calls"]


def test_outcomes_recounted_from_files_match_the_key(small_out: Path) -> None:
    assert recount_outcomes(small_out) == _key_outcomes(small_out)


def test_every_outcome_occurs(small_out: Path) -> None:
    seen = {outcome for (_, outcome), n in _key_outcomes(small_out).items() if n}
    assert seen == set(OUTCOMES)


def test_square_revenue_recounted_from_files_matches_the_key(small_out: Path) -> None:
    files = recount_square(small_out)
    key = {
        (r["location_id"], r["date"]): [cents(r["payments_usd"]), cents(r["refunds_usd"])]
        for r in read_csv(small_out / "answer_key" / "revenue_by_location_day.csv")
        if r["location_id"] != "unknown"
    }
    key = {k: v for k, v in key.items() if any(v)}
    assert {k: v for k, v in files.items() if any(v)} == key


def test_summary_totals_are_consistent(small_out: Path) -> None:
    summary = json.loads((small_out / "answer_key" / "summary.json").read_text())
    locs = summary["locations"]
    total = summary["total"]
    assert total["inbound_calls"] == sum(v["inbound_calls"] for v in locs.values())
    assert total["answered"] == sum(v["answered"] for v in locs.values())
    o = total["outcomes"]
    denom = o["answered"] + o["voicemail"] + o["abandoned"] + o["missed"]
    assert abs(total["answer_rate"] - o["answered"] / denom) < 1e-6
    net = sum(cents(v["revenue"]["net_usd"]) for v in locs.values())
    rows = read_csv(small_out / "answer_key" / "revenue_by_location_day.csv")
    all_net = sum(
        cents(r["payments_usd"]) - cents(r["refunds_usd"]) + cents(r["deals_usd"]) for r in rows
    )
    unknown = sum(cents(r["deals_usd"]) for r in rows if r["location_id"] == "unknown")
    assert net + unknown == all_net == cents(total["revenue"]["net_usd"])


def test_unanswered_share_differs_between_locations(small_out: Path) -> None:
    summary = json.loads((small_out / "answer_key" / "summary.json").read_text())
    rates = [v["answer_rate"] for v in summary["locations"].values()]
    assert max(rates) - min(rates) > 0.08
    assert all(0.55 < r < 0.95 for r in rates)


def test_attributions_reconcile_to_revenue(small_out: Path) -> None:
    rows = read_csv(small_out / "answer_key" / "attributions.csv")
    revenue = read_csv(small_out / "answer_key" / "revenue_by_location_day.csv")
    attributed = read_csv(small_out / "answer_key" / "attributed_revenue_by_location_day.csv")
    for kind, col in (
        ("payment", "payments_usd"),
        ("refund", "refunds_usd"),
        ("deal", "deals_usd"),
    ):
        assert sum(cents(r["amount_usd"]) for r in rows if r["record_type"] == kind) == sum(
            cents(r[col]) for r in revenue
        )
        assert sum(
            cents(r["amount_usd"]) for r in rows if r["record_type"] == kind and r["call_key"]
        ) == sum(cents(r[col]) for r in attributed)
    rules = Counter(r["rule"] for r in rows)
    assert rules["same_number_same_location_30d"] > 0 and rules["unattributed"] > 0


def test_attributed_calls_are_answered_inbound_before_the_payment(small_out: Path) -> None:
    calls = {r["call_key"]: r for r in read_csv(small_out / "answer_key" / "calls.csv")}
    for r in read_csv(small_out / "answer_key" / "attributions.csv"):
        if not r["call_key"]:
            continue
        call = calls[r["call_key"]]
        assert call["direction"] == "inbound" and call["outcome"] == "answered"
        if r["record_type"] == "payment":
            assert call["location_id"] == r["location_id"]


def test_answer_key_money_is_decimal_strings(small_out: Path) -> None:
    with (small_out / "answer_key" / "revenue_by_location_day.csv").open() as fh:
        for row in csv.DictReader(fh):
            for col in ("payments_usd", "refunds_usd", "deals_usd"):
                whole, frac = row[col].lstrip("-").split(".")
                assert whole.isdigit() and len(frac) == 2


def test_recovery_and_repeat_contacts_recounted_from_files(small_out: Path) -> None:
    recovered, repeats = recount_recovery(small_out)
    summary = json.loads((small_out / "answer_key" / "summary.json").read_text())
    for loc, v in summary["locations"].items():
        assert v["recovered_missed_opportunities"] == recovered[loc], loc
        assert v["repeat_contacts_24h"] == repeats[loc], loc
    assert sum(recovered.values()) > 0 and sum(repeats.values()) > 0


def test_per_call_attributed_revenue_sums_to_the_summary(small_out: Path) -> None:
    calls = read_csv(small_out / "answer_key" / "calls.csv")
    summary = json.loads((small_out / "answer_key" / "summary.json").read_text())
    per_call = sum(cents(c["attributed_revenue_usd"]) for c in calls)
    assert per_call == cents(summary["total"]["attributed_revenue"]["net_usd"]) > 0
    assert all(
        c["direction"] == "inbound" and c["outcome"] == "answered"
        for c in calls
        if cents(c["attributed_revenue_usd"])
    )
    new = [c for c in calls if c["is_new_caller"] == "true"]
    assert 0 < len(new) < len([c for c in calls if c["direction"] == "inbound"])
