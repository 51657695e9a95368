"""Finance's reconciliation against the generator's answer key, to the cent.

Per location and local day, per record type (payments, refunds, deals apart): the revenue in the
source, the part attributed to calls and the rest (marts.revenue_reconciliation) equal the
answer key's revenue_by_location_day.csv and attributed_revenue_by_location_day.csv; the
totals equal summary.json; and every record of attributions.csv has the same rule, location,
date, amount, call and source file and line in marts.revenue_attributions.
"""

from __future__ import annotations

import csv
import json
import re
from collections import defaultdict
from decimal import Decimal
from pathlib import Path

import psycopg
import pytest

from tests.conftest import PipelineRun

# answer key column -> record_type of the marts
KEY_COLUMNS = {"payments_usd": "payment", "refunds_usd": "refund", "deals_usd": "deal"}
UNKNOWN = "unknown"  # the answer key's location of deals no call placed (null in the marts)
ZERO = Decimal("0.00")

Cell = tuple[str, str, str]  # location_id, local date, record_type


def _read(path: Path) -> list[dict[str, str]]:
    with path.open(newline="") as handle:
        return list(csv.DictReader(handle))


def _key_cells(path: Path) -> dict[Cell, Decimal]:
    cells = {}
    for row in _read(path):
        for column, record_type in KEY_COLUMNS.items():
            cells[(row["location_id"], row["date"], record_type)] = Decimal(row[column])
    return cells


@pytest.fixture(scope="module")
def mart_cells(pipeline_run: PipelineRun, warehouse_url: str) -> dict[str, dict[Cell, Decimal]]:
    with psycopg.connect(warehouse_url) as conn:
        rows = conn.execute(
            "select coalesce(location_id, %s), revenue_date::text, record_type, "
            "source_usd, attributed_usd, unattributed_usd from marts.revenue_reconciliation",
            (UNKNOWN,),
        ).fetchall()
    cells: dict[str, dict[Cell, Decimal]] = {"source": {}, "attributed": {}, "unattributed": {}}
    for location, day, record_type, source, attributed, unattributed in rows:
        for name, value in (
            ("source", source),
            ("attributed", attributed),
            ("unattributed", unattributed),
        ):
            cells[name][(location, day, record_type)] = value
    return cells


def _differences(expected: dict[Cell, Decimal], actual: dict[Cell, Decimal]) -> list[str]:
    """Cells whose dollars differ (a cell missing on one side counts as 0.00)."""
    return [
        f"{cell}: answer key {expected.get(cell, ZERO)}, mart {actual.get(cell, ZERO)}"
        for cell in sorted(expected.keys() | actual.keys())
        if expected.get(cell, ZERO) != actual.get(cell, ZERO)
    ]


def test_source_revenue_per_location_day_and_type_equals_the_answer_key(
    pipeline_run: PipelineRun, mart_cells
):
    expected = _key_cells(pipeline_run.out / "answer_key" / "revenue_by_location_day.csv")
    assert sum(expected.values()) > 0
    assert {cell[0] for cell in expected} >= {"loc_01", "loc_02", "loc_03", "loc_04", UNKNOWN}
    assert _differences(expected, mart_cells["source"]) == []


def test_attributed_and_unattributed_per_location_day_and_type_equal_the_answer_key(
    pipeline_run: PipelineRun, mart_cells
):
    key = pipeline_run.out / "answer_key"
    source = _key_cells(key / "revenue_by_location_day.csv")
    attributed = _key_cells(key / "attributed_revenue_by_location_day.csv")
    unattributed = {cell: amount - attributed.get(cell, ZERO) for cell, amount in source.items()}
    assert sum(attributed.values()) > 0 and sum(unattributed.values()) > 0
    assert _differences(attributed, mart_cells["attributed"]) == []
    assert _differences(unattributed, mart_cells["unattributed"]) == []


def test_totals_per_type_equal_the_answer_key_and_tie_out(pipeline_run: PipelineRun, mart_cells):
    summary = json.loads((pipeline_run.out / "answer_key" / "summary.json").read_text())["total"]
    for name, key_name in (("source", "revenue"), ("attributed", "attributed_revenue")):
        for column, record_type in KEY_COLUMNS.items():
            total = sum((v for cell, v in mart_cells[name].items() if cell[2] == record_type), ZERO)
            assert total == Decimal(summary[key_name][column]), (name, record_type)
    for record_type in KEY_COLUMNS.values():
        source, attributed, unattributed = (
            sum((v for cell, v in mart_cells[name].items() if cell[2] == record_type), ZERO)
            for name in ("source", "attributed", "unattributed")
        )
        assert source == attributed + unattributed, record_type


def _our_call_id(row: dict[str, str], pbx_by_location: dict[str, str]) -> str | None:
    """The answer key's call as marts.calls names it: `<pbx_id>:<linkedid>` when a PBX saw
    it, else `callrail:<id>`."""
    if row["pbx_linkedid"]:
        return f"{pbx_by_location[row['call_location_id']]}:{row['pbx_linkedid']}"
    if row["callrail_id"]:
        return f"callrail:{row['callrail_id']}"
    return None


def _delivered_file(pipeline_run: PipelineRun) -> dict[str, str]:
    """The answer key names the file a record was first delivered in; a corrected
    re-delivery of the whole file (a declared defect) supersedes it, line for line, so the
    record traces to the re-delivery (staging keeps the latest delivery of each record)."""
    replaced = {}
    for defect in pipeline_run.defects:
        if defect["kind"] == "corrected_redelivery":
            original = re.search(r"same records as (\S+?),", defect["expected"]).group(1)
            replaced[original] = defect["file"]
    return replaced


def test_every_record_has_the_answer_keys_rule_call_and_source_line(
    pipeline_run: PipelineRun, conn: psycopg.Connection
):
    key = _read(pipeline_run.out / "answer_key" / "attributions.csv")
    delivered = _delivered_file(pipeline_run)
    assert delivered  # the session's data set has a corrected re-delivery of payments
    # the PBX of each location, from the data set's own calls
    pbx_by_location = dict(
        conn.execute(
            "select distinct location_id, split_part(call_id, ':', 1) from marts.calls "
            "where call_id not like 'callrail:%%' and location_id is not null"
        ).fetchall()
    )
    mart = {
        (record_type, record_id): rest
        for record_type, record_id, *rest in conn.execute(
            "select record_type, record_id, attribution_rule, coalesce(location_id, %s), "
            "revenue_date::text, amount_usd, call_id, call_location_id, source_file, "
            "source_line_number from marts.revenue_attributions",
            (UNKNOWN,),
        ).fetchall()
    }
    assert len(mart) == len(key)
    rules = defaultdict(int)
    differences = []
    for row in key:
        expected = [
            row["rule"],
            row["location_id"],
            row["date"],
            Decimal(row["amount_usd"]),
            _our_call_id(row, pbx_by_location),
            row["call_location_id"] or None,
            delivered.get(row["file"], row["file"]),
            int(row["line"]),
        ]
        actual = mart.get((row["record_type"], row["record_id"]))
        rules[row["rule"]] += 1
        if actual != expected:
            differences.append(f"{row['record_type']} {row['record_id']}: {expected} != {actual}")
    assert differences == [], f"{len(differences)} records differ:\n" + "\n".join(differences[:20])
    # every rule occurs, so each was checked
    assert set(rules) == {
        "same_number_same_location_30d",
        "same_number_any_location_30d",
        "refund_follows_payment",
        "unattributed",
    }, rules


def test_every_attributed_dollar_traces_to_a_source_record_file_and_line(
    pipeline_run: PipelineRun, conn: psycopg.Connection
):
    missing, attributed = conn.execute(
        "select count(*) filter (where record_id is null or source_file is null "
        "or source_line_number is null or call_id is null), count(*) "
        "from marts.revenue_attributions where is_attributed"
    ).fetchone()
    assert attributed > 0 and missing == 0
    # each source file named is a landing file and each line exists in it
    files = conn.execute(
        "select source_file, max(source_line_number) from marts.revenue_attributions "
        "group by source_file"
    ).fetchall()
    for name, last_line in files:
        path = pipeline_run.landing / name
        assert path.is_file(), name
        assert len(path.read_text().splitlines()) >= last_line, name
