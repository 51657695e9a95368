"""Every rate of docs/metrics.md against the generator's answer key, per location (the session's
demo run: four locations, ten days, with the generator's defects).

Each rate is compared as its numerator and denominator, counted in marts.calls exactly as the
semantic model's measures count them (models/marts/calls/calls.yml), against the same counts
worked out here from the answer key: summary.json where it has them, else answer_key/calls.csv
(one row per call, with the simulation's truth: outcome, transfer, the caller's and the queue's
wait, voicemail, recovery) by the written definitions of docs/metrics.md. Nothing here is read
from the models.

The warehouse reads exports, the key knows what happened, so the two agree exactly where the
exports carry the whole truth. Where they do not, the difference is written down and bounded:

- Four call records are quarantined (two CDR lines of pbx_east, two CallRail lines, listed in
  answer_key/defects.json); each can change what the warehouse knows of one call only.
  On this data set none of them changes any count below (checked: every count is equal), so
  the tests allow no difference; a generator change that makes one matter must show here.
- An answered call only CallRail saw (loc_03: CallRail forwards to a mobile) has no wait the
  warehouse can measure (docs/metrics.md, "Two waits": unknown for answered calls only CallRail
  saw), so its wait neither adds a customer-effort event nor fails compliance, whatever the
  key's wait was. The expectation below applies that rule; the key's figures judging every
  call's true wait are printed beside it ("key, every wait"; they differ at loc_03 only).
"""

from __future__ import annotations

import csv
import datetime as dt
import json
from bisect import bisect_right
from collections import Counter, defaultdict
from pathlib import Path

import psycopg
import pytest

from tests.conftest import PipelineRun

SERVICE_LEVEL_SECONDS = 20  # var service_level_seconds (docs/metrics.md, Settings)
DAY = dt.timedelta(hours=24)  # 24 h repeats; var recovery_window_hours = 24
ELIGIBLE = ("answered", "voicemail", "abandoned", "missed")
OPPORTUNITY = ("voicemail", "abandoned", "missed")

# rate -> (numerator, denominator): names of the counts below
RATES = {
    "transfer_rate": ("transferred_answered_calls", "answered_calls"),
    "escalation_rate": ("escalated_answered_calls", "answered_calls"),
    "abandonment_rate": ("abandoned_calls", "answered_or_abandoned_calls"),
    "service_level": ("service_level_met_calls", "service_level_calls"),
    "average_speed_of_answer_seconds": ("speed_of_answer_seconds_sum", "speed_of_answer_calls"),
    "customer_effort_score": ("customer_effort_events", "answer_rate_eligible_calls"),
    "process_compliance_rate": ("compliant_calls", "compliance_eligible_calls"),
}


def _start(row: dict) -> dt.datetime:
    return dt.datetime.fromisoformat(row["start_utc"].replace("Z", "+00:00"))


def _later_inbound(calls: list[dict]) -> dict[str, list[dt.datetime]]:
    """Caller number -> starts of their inbound calls that are not spam, in order."""
    starts: dict[str, list[dt.datetime]] = defaultdict(list)
    for row in calls:
        if row["direction"] == "inbound" and row["outcome"] != "spam" and row["caller_e164"]:
            starts[row["caller_e164"]].append(_start(row))
    for values in starts.values():
        values.sort()
    return starts


def _service_wait(row: dict, measurable: bool) -> int | None:
    """The wait the service standard judges: the queue's clock where a queue saw the call,
    else the caller's; with ``measurable``, unknown for an answered call only CallRail saw."""
    if row["queue_wait_seconds"]:
        return int(row["queue_wait_seconds"])
    if measurable and row["outcome"] == "answered" and not row["pbx_linkedid"]:
        return None
    return int(row["wait_seconds"])


def expected_counts(answer_key: Path, measurable: bool = True) -> dict[str, Counter]:
    """Per location, every numerator and denominator of RATES, from the answer key alone;
    ``measurable`` False judges the true wait of calls the warehouse cannot time."""
    with (answer_key / "calls.csv").open(newline="", encoding="utf-8") as handle:
        calls = list(csv.DictReader(handle))
    summary = json.loads((answer_key / "summary.json").read_text())["locations"]
    later = _later_inbound(calls)
    counts: dict[str, Counter] = {location: Counter() for location in summary}
    for row in calls:
        if row["direction"] != "inbound":
            continue
        c, outcome = counts[row["location_id"]], row["outcome"]
        queue_wait = int(row["queue_wait_seconds"]) if row["queue_wait_seconds"] else None
        wait = _service_wait(row, measurable)
        if outcome == "answered" and row["transfer"]:
            c["transferred_answered_calls"] += 1
        if outcome == "answered" and row["transfer"] == "escalation":
            c["escalated_answered_calls"] += 1
        # service level, formula 4, and speed of answer: PBX queue calls, the queue's clock
        if queue_wait is not None and outcome == "answered":
            c["service_level_calls"] += 1
            c["service_level_met_calls"] += queue_wait <= SERVICE_LEVEL_SECONDS
            c["speed_of_answer_seconds_sum"] += queue_wait
            c["speed_of_answer_calls"] += 1
        if queue_wait is not None and outcome == "abandoned":
            c["service_level_calls"] += queue_wait > SERVICE_LEVEL_SECONDS
        # customer effort: per answer-rate eligible call
        if outcome in ELIGIBLE:
            c["answer_rate_eligible_calls"] += 1
            starts = later.get(row["caller_e164"], [])
            start = _start(row)
            within_a_day = bisect_right(starts, start + DAY) - bisect_right(starts, start)
            c["customer_effort_events"] += (
                (wait is not None and wait > SERVICE_LEVEL_SECONDS)
                + bool(row["transfer"])  # one transfer at most per call in the simulation
                + (within_a_day if outcome == "answered" else 0)
                + (outcome == "abandoned" and within_a_day > 0)
            )
        # process compliance: answer-rate eligible and after-hours calls
        if outcome in ELIGIBLE or outcome == "after_hours":
            c["compliance_eligible_calls"] += 1
            if outcome == "answered":
                compliant = wait is None or wait <= SERVICE_LEVEL_SECONDS
            elif outcome in OPPORTUNITY:
                compliant = bool(row["recovered_by_call_key"])
            elif outcome == "after_hours":
                compliant = row["has_voicemail"] == "true"
            c["compliant_calls"] += compliant
    for location, figures in summary.items():
        outcomes = figures["outcomes"]
        c = counts[location]
        c["answered_calls"] = outcomes["answered"]
        c["abandoned_calls"] = outcomes["abandoned"]
        c["answered_or_abandoned_calls"] = outcomes["answered"] + outcomes["abandoned"]
        # summary.json's own counts, which calls.csv must repeat
        assert c["transferred_answered_calls"] == figures["transfers"], location
        assert c["escalated_answered_calls"] == figures["escalations"], location
        queue = figures["queue"]
        assert c["speed_of_answer_calls"] == queue["answered"], location
        if queue["answered"]:
            assert queue["service_level_20s"] == round(
                c["service_level_met_calls"] / c["service_level_calls"], 6
            ), location
            assert queue["average_speed_of_answer_seconds"] == round(
                c["speed_of_answer_seconds_sum"] / c["speed_of_answer_calls"], 3
            ), location
    return counts


WAREHOUSE_COUNTS = """
select
    location_id,
    count(*) filter (where is_answered and is_transferred) as transferred_answered_calls,
    count(*) filter (where is_answered and is_escalated) as escalated_answered_calls,
    count(*) filter (where is_answered) as answered_calls,
    count(*) filter (where outcome = 'abandoned') as abandoned_calls,
    count(*) filter (where outcome in ('answered', 'abandoned')) as answered_or_abandoned_calls,
    count(*) filter (where meets_service_level) as service_level_met_calls,
    count(*) filter (where counts_in_service_level) as service_level_calls,
    coalesce(sum(speed_of_answer_seconds), 0) as speed_of_answer_seconds_sum,
    count(speed_of_answer_seconds) as speed_of_answer_calls,
    coalesce(sum(customer_effort_events), 0) as customer_effort_events,
    count(*) filter (where is_answer_rate_eligible) as answer_rate_eligible_calls,
    count(*) filter (where is_compliant) as compliant_calls,
    count(*) filter (where is_compliant is not null) as compliance_eligible_calls
from marts.calls
where direction = 'inbound'
group by location_id
"""


def warehouse_counts(connection: psycopg.Connection) -> dict[str, Counter]:
    cursor = connection.execute(WAREHOUSE_COUNTS)
    names = [column.name for column in cursor.description][1:]
    return {
        row[0]: Counter({name: int(value) for name, value in zip(names, row[1:], strict=True)})
        for row in cursor.fetchall()
    }


def _rate(numerator: int, denominator: int) -> str:
    ratio = f" = {numerator / denominator:.4f}" if denominator else ""
    return f"{numerator}/{denominator}{ratio}"


@pytest.fixture(scope="module")
def counts(pipeline_run: PipelineRun, warehouse_url: str) -> tuple[dict, dict]:
    """(answer key, marts.calls): per location, the counts behind every rate."""
    with psycopg.connect(warehouse_url) as connection:
        ours = warehouse_counts(connection)
    key = pipeline_run.out / "answer_key"
    return expected_counts(key), ours, expected_counts(key, measurable=False)


@pytest.mark.parametrize("rate", list(RATES))
def test_rate_per_location_equals_the_answer_key(counts, rate):
    expected, ours, true = counts
    numerator, denominator = RATES[rate]
    assert set(ours) == set(expected)
    lines = [f"\n{rate} ({numerator} / {denominator})", f"  {'location':<10}{'answer key':>24}"]
    lines[-1] += f"{'marts.calls':>24}{'key, every wait':>24}"
    wrong = []
    for location in sorted(expected):
        key = (expected[location][numerator], expected[location][denominator])
        got = (ours[location][numerator], ours[location][denominator])
        every_wait = _rate(true[location][numerator], true[location][denominator])
        lines.append(f"  {location:<10}{_rate(*key):>24}{_rate(*got):>24}{every_wait:>24}")
        if got != key:
            wrong.append((location, key, got))
        if expected[location]["speed_of_answer_calls"]:  # a PBX location: every wait is seen
            assert (true[location][numerator], true[location][denominator]) == key, location
    print("\n".join(lines))
    assert not wrong, wrong
