"""Each run validates the rows of the loads no passed validation has seen, and gets the verdict
of validating the whole table: a failed load stays pending until a corrected delivery or the
quarantine clears it, and a changed suite sees every row again. Files are loaded by the real
loader into a database of this module's own; the payments and their faults are written here."""

from __future__ import annotations

import json
import re
import uuid
from pathlib import Path

import psycopg
import pytest

from callshrink.ingest import ensure_raw_schema, load_table, table_by_key
from callshrink.ingest.loader import finish_load, start_load
from expectations import _rules as r
from expectations import runner
from expectations.runner import validate_raw_table
from tests.conftest import recreate_database

PAYMENTS = table_by_key("square", "payments")
FOLDER = "pos/square/payments"


def payment(payment_id: str, cents: int = 1000, refunded: int = 0, minute: int = 0) -> str:
    money = {"amount": cents, "currency": "USD"}
    record = {
        "id": payment_id,
        "created_at": f"2026-03-02T10:{minute:02d}:00Z",
        "updated_at": f"2026-03-02T10:{minute:02d}:02Z",
        "amount_money": money,
        "total_money": money,
        "status": "COMPLETED",
        "location_id": "L1",
    }
    if refunded:  # more than the payment: the loader takes it, the suite refuses it
        record["refunded_money"] = {"amount": refunded, "currency": "USD"}
    return json.dumps(record)


@pytest.fixture
def warehouse(server_url: str, tmp_path: Path):
    """(database URL, deliver(name, lines)): each delivery is written and loaded as a run
    loads it, one load per delivery."""
    url = recreate_database(server_url, "gx_test_new_loads")
    landing = tmp_path / "landing"

    def deliver(name: str, lines: list[str]) -> None:
        path = landing / FOLDER / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text("\n".join(lines) + "\n")
        with psycopg.connect(url, autocommit=True) as conn:
            ensure_raw_schema(conn)
            load_id = uuid.uuid4()
            start_load(conn, landing, load_id)
            loaded = load_table(conn, PAYMENTS, landing, load_id, log=lambda _message: None)
            finish_load(conn, load_id)
        assert loaded.total("rows_loaded") == len(lines)

    return url, deliver


def check(url: str):
    return validate_raw_table(url, "square_payments", new_loads_only=True)


def test_a_failed_load_stays_pending_until_a_correction_supersedes_it(warehouse):
    url, deliver = warehouse
    deliver("payments_a.jsonl", [payment("p1"), payment("p2", minute=1)])
    first = check(url)
    assert (first.success, first.loads_validated) == (True, 1)

    nothing_new = check(url)
    assert (nothing_new.success, nothing_new.loads_validated, nothing_new.evaluated) == (
        True,
        0,
        0,
    )
    assert nothing_new.describe() == (
        "raw.square_payments: no rows loaded since its last passed validation"
    )

    deliver("payments_b.jsonl", [payment("p3", refunded=2000, minute=2), payment("p4")])
    failed = check(url)
    assert not failed.success and failed.loads_validated == 1
    assert f"{FOLDER}/payments_b.jsonl:1" in failed.describe(), failed.describe()
    # the next run, with no new file, still validates that load and still blocks
    again = check(url)
    assert not again.success and again.loads_validated == 1, again.describe()
    assert f"{FOLDER}/payments_b.jsonl:1" in again.describe()
    # the whole table says the same
    assert not validate_raw_table(url, "square_payments").success

    deliver("payments_b_corrected.jsonl", [payment("p3", minute=2)])
    corrected = check(url)
    assert (corrected.success, corrected.loads_validated) == (True, 2), corrected.describe()
    assert check(url).loads_validated == 0
    assert validate_raw_table(url, "square_payments").success


def test_a_changed_suite_validates_every_row_again(warehouse, monkeypatch):
    url, deliver = warehouse
    deliver("payments_a.jsonl", [payment("p1", cents=900), payment("p2", cents=120_000)])
    deliver("payments_b.jsonl", [payment("p3", cents=500)])
    assert check(url).loads_validated == 2
    assert check(url).loads_validated == 0

    built = runner.SUITES["square_payments"]

    def stricter():
        suite = built()
        suite.expectations.append(
            r.rows_where(
                "no payment of a thousand dollars or more",
                f"{r.as_number('amount_money_amount')} >= 100000",
                ["amount_money_amount"],
            )
        )
        return suite

    monkeypatch.setitem(runner.SUITES, "square_payments", stricter)
    changed = check(url)
    assert not changed.success and changed.loads_validated == 2
    assert f"{FOLDER}/payments_a.jsonl:2" in changed.describe(), changed.describe()


def test_the_rows_of_the_pending_loads_are_found_by_the_load_time_index(warehouse):
    """A day's validation reads a day's rows: the pending loads' rows are found through the
    raw table's _loaded_at index, not by reading every row ever loaded."""
    url, deliver = warehouse
    deliver("payments_a.jsonl", [payment("p1"), payment("p2", minute=1)])
    assert check(url).loads_validated == 1
    deliver("payments_b.jsonl", [payment("p3", minute=2), payment("p4", minute=3)])
    fingerprint = runner.suite_fingerprint(runner.SUITES["square_payments"]())
    pending, since = runner.pending_loads(url, "square_payments", fingerprint)
    assert len(pending) == 1
    query = runner.current_rows_query("raw", "square_payments", since, pending)
    with psycopg.connect(url) as conn:
        ids = {row[0] for row in conn.execute(f"select id from ({query}) as pending")}
        assert ids == {"p3", "p4"}
        # a table of four rows is read whole by any plan: left only indexes with a
        # condition, the planner shows whether the query gives the load-time index one
        conn.execute("set enable_seqscan = off")
        conn.execute("set enable_indexscan = off")
        for setting, value in runner.BATCH_SETTINGS.items():  # as the check plans it
            conn.execute(f"set {setting} = {value}")
        plan = "\n".join(row[0] for row in conn.execute(f"explain {query}"))
    # the rows themselves and their later deliveries: both since the first pending load, and
    # hashed (a nested loop read the day's rows once per row when the statistics, taken
    # before the day loaded, said there were none)
    assert plan.count("square_payments__records__loaded_at") == 2, plan
    assert "Nested Loop" not in plan, plan


def test_the_rows_checked_are_hashed_without_the_whole_json_record(warehouse):
    """Finding the current rows hashes one side of the anti-join. A JSON table's key is an
    expression on its record, and read whole, the hash kept each row's record (2.2 million
    CallRail calls spilled it to disk): both sides are read with the columns they need."""
    url, deliver = warehouse
    deliver("payments_a.jsonl", [payment("p1"), payment("p2", minute=1)])
    deliver("payments_b.jsonl", [payment("p2", minute=2)])
    query = runner.current_rows_query(
        "raw", "square_payments", columns=["id", "_source_file", "_line_number"]
    )
    with psycopg.connect(url) as conn:
        rows = conn.execute(f"select id, _source_file from ({query}) as rows order by id")
        assert rows.fetchall() == [
            ("p1", f"{FOLDER}/payments_a.jsonl"),
            ("p2", f"{FOLDER}/payments_b.jsonl"),
        ]
        for setting, value in runner.BATCH_SETTINGS.items():
            conn.execute(f"set {setting} = {value}")
        plan = [row[0] for row in conn.execute(f"explain (verbose, costs off) {query}")]
    hashed = [plan[i + 1] for i, line in enumerate(plan) if line.strip() == "->  Hash"]
    assert hashed and all("Output:" in line for line in hashed), plan
    # the record's fields, never the record itself
    assert not [line for line in hashed if re.search(r"\._record\b(?! ->)", line)], plan


def test_the_rows_checked_are_a_table_dropped_after_and_a_killed_runs_too(warehouse):
    url, deliver = warehouse
    deliver("payments_a.jsonl", [payment("p1")])
    with psycopg.connect(url, autocommit=True) as conn:  # as a run killed mid-check leaves it
        conn.execute("create table raw._checking_square_payments_0badf00d (id text)")
    assert check(url).success
    with psycopg.connect(url) as conn:
        left = conn.execute(
            "select relname from pg_class where relname like '\\_checking\\_%'"
        ).fetchall()
    assert left == []
