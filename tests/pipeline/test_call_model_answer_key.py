"""The call model against the generator's answer key, per location (the session's demo run).

The acceptance bar: recovered missed opportunities and repeat contacts (24 h, 7 d) within 2 %
of the answer key; missed opportunities, callbacks, new callers, median minutes to recovery,
average speed of answer and service level (20 s) within 1 %. (On this data set the warehouse
matches exactly; the tests allow the tolerance, not more.)
"""

from __future__ import annotations

import csv
import json
import re
from collections import Counter

import psycopg
import pytest

from tests.conftest import PipelineRun


def _close(ours: float | None, expected: float | None, tolerance: float) -> bool:
    """Within `tolerance` (a fraction) of the expected value; None only matches None."""
    if ours is None or expected is None:
        return ours is None and expected is None
    return abs(float(ours) - float(expected)) <= tolerance * abs(float(expected))


def _table(name: str, expected: dict, ours: dict) -> str:
    lines = [f"{name}:", f"  {'location':<10}{'answer key':>14}{'marts.calls':>14}"]
    for location in sorted(expected.keys() | ours.keys()):
        lines.append(f"  {location:<10}{expected.get(location)!s:>14}{ours.get(location)!s:>14}")
    return "\n".join(lines)


def _assert_within(name: str, expected: dict, ours: dict, tolerance: float) -> None:
    far = [
        location
        for location in sorted(expected.keys() | ours.keys())
        if not _close(ours.get(location), expected.get(location), tolerance)
    ]
    assert not far, f"not within {tolerance:.0%} at {far}\n" + _table(name, expected, ours)


@pytest.fixture(scope="module")
def summary(pipeline_run: PipelineRun) -> dict[str, dict]:
    """summary.json's figures per location."""
    path = pipeline_run.out / "answer_key" / "summary.json"
    return json.loads(path.read_text())["locations"]


@pytest.fixture(scope="module")
def ours(pipeline_run: PipelineRun, warehouse_url: str) -> dict[str, dict]:
    """The same figures from marts.calls, per location."""
    with psycopg.connect(warehouse_url) as connection:
        cursor = connection.execute(
            """
            select
                location_id,
                count(*) filter (where direction = 'inbound' and is_missed_opportunity)
                    as missed_opportunities,
                count(*) filter (where direction = 'inbound' and is_recovered)
                    as recovered_missed_opportunities,
                count(*) filter (where direction = 'inbound' and is_repeat_24h)
                    as repeat_contacts_24h,
                count(*) filter (where direction = 'inbound' and is_repeat_7d)
                    as repeat_contacts_7d,
                count(*) filter (where direction = 'outbound') as outbound_calls,
                count(*) filter (where direction = 'inbound' and caller_type = 'new')
                    as new_callers,
                percentile_cont(0.5) within group (order by minutes_to_recovery)
                    filter (where direction = 'inbound' and is_recovered)
                    as median_minutes_to_recovery,
                avg(speed_of_answer_seconds)::float as average_speed_of_answer_seconds,
                sum(meets_service_level::int)::float
                    / nullif(sum(counts_in_service_level::int), 0) as service_level_20s
            from marts.calls
            group by location_id
            """
        )
        columns = [column.name for column in cursor.description]
        return {row[0]: dict(zip(columns, row, strict=True)) for row in cursor.fetchall()}


def _figure(rows: dict[str, dict], name: str, queue: bool = False) -> dict:
    return {
        location: (figures["queue"] if queue else figures)[name]
        for location, figures in rows.items()
    }


@pytest.mark.parametrize(
    "figure", ["recovered_missed_opportunities", "repeat_contacts_24h", "repeat_contacts_7d"]
)
def test_recovery_and_repeat_contacts_are_within_2_percent(summary, ours, figure):
    assert set(ours) == set(summary)
    _assert_within(figure, _figure(summary, figure), _figure(ours, figure), 0.02)


@pytest.mark.parametrize(
    "figure", ["missed_opportunities", "outbound_calls", "median_minutes_to_recovery"]
)
def test_missed_opportunities_callbacks_and_recovery_time_are_within_1_percent(
    summary, ours, figure
):
    _assert_within(figure, _figure(summary, figure), _figure(ours, figure), 0.01)


@pytest.mark.parametrize("figure", ["average_speed_of_answer_seconds", "service_level_20s"])
def test_queue_figures_are_within_1_percent(summary, ours, figure):
    expected = _figure(summary, figure, queue=True)
    # the mobile-only location has no PBX queue: no figure on either side
    assert any(value is None for value in expected.values())
    assert any(value is not None for value in expected.values())
    _assert_within(figure, expected, _figure(ours, figure), 0.01)


def test_new_callers_are_within_1_percent(pipeline_run: PipelineRun, ours):
    with (pipeline_run.out / "answer_key" / "calls.csv").open() as handle:
        expected = Counter(
            row["location_id"] for row in csv.DictReader(handle) if row["is_new_caller"] == "true"
        )
    assert sum(expected.values()) > 0
    _assert_within("new callers", dict(expected), _figure(ours, "new_callers"), 0.01)


def test_every_missed_call_row_masks_the_caller(
    pipeline_run: PipelineRun, conn: psycopg.Connection
):
    rows = conn.execute(
        "select m.caller_masked, c.caller_phone_e164, m::text "
        "from marts.missed_calls m join marts.calls c using (call_id)"
    ).fetchall()
    assert len(rows) == conn.execute("select count(*) from marts.missed_calls").fetchone()[0]
    assert rows
    for masked, phone, row in rows:
        if phone is None:
            assert masked is None, row
            continue
        assert phone not in row, row  # the full number is nowhere in the row
        if len(phone) > 6:
            assert re.fullmatch(r"\+\d\*+\d{4}", masked), (masked, row)
            assert masked[:2] == phone[:2] and masked[-4:] == phone[-4:]
            assert len(masked) == len(phone)
        # no run of digits longer than the last four survives anywhere in the row's masked value
        assert not re.search(r"\d{5}", masked or ""), row


def test_missed_calls_has_one_row_per_missed_opportunity(summary, ours, conn: psycopg.Connection):
    rows = dict(
        conn.execute("select location_id, count(*) from marts.missed_calls group by 1").fetchall()
    )
    # exactly the model's missed opportunities, and those within 1 % of the answer key's
    assert rows == _figure(ours, "missed_opportunities"), _table(
        "missed_calls rows", _figure(ours, "missed_opportunities"), rows
    )
    _assert_within("missed_calls rows", _figure(summary, "missed_opportunities"), rows, 0.01)
    assert conn.execute(
        "select count(*) from marts.missed_calls m "
        "where not exists (select 1 from marts.calls c "
        "where c.call_id = m.call_id and c.is_missed_opportunity)"
    ).fetchone() == (0,)
