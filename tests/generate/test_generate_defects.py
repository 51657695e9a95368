"""--defects: every malformed line is where defects.json says, and nowhere else."""

from __future__ import annotations

import csv
import hashlib
import json
from pathlib import Path

from tests.generate.gen_readers import QUEUE_EVENTS, read_csv

KINDS = {
    "cdr_wrong_column_count",
    "cdr_bad_timestamp",
    "queue_log_unknown_event",
    "callrail_invalid_json",
    "callrail_csv_wrong_column_count",
    "square_invalid_json",
    "square_wrong_type",
    "duplicate_file",
    "superseded_record",
    "corrected_redelivery",
}


def _defects(out: Path) -> list[dict]:
    return json.loads((out / "answer_key" / "defects.json").read_text())["defects"]


def _bad_lines(out: Path) -> set[tuple[str, int]]:
    """Lines that a strict reader rejects or flags, found by reading every file."""
    landing = out / "landing"
    bad: set[tuple[str, int]] = set()
    for path in sorted(landing.rglob("*")):
        if not path.is_file():
            continue
        rel = path.relative_to(landing).as_posix()
        if "/cdr/" in rel:
            with path.open(newline="") as fh:
                for n, row in enumerate(csv.reader(fh), start=1):
                    if (
                        len(row) != 21
                        or not row[9][:4].isdigit()
                        or int(row[9][8:10]) > 29
                        or (int(row[9][11:13]) > 23)
                    ):
                        bad.add((rel, n))
        elif "/queue_log/" in rel:
            for n, line in enumerate(path.read_text().splitlines(), start=1):
                if line.split("|")[4] not in QUEUE_EVENTS:
                    bad.add((rel, n))
        elif rel.endswith(".jsonl"):
            for n, line in enumerate(path.read_text().splitlines(), start=1):
                try:
                    obj = json.loads(line)
                except json.JSONDecodeError:
                    bad.add((rel, n))
                    continue
                amount = obj.get("amount_money", {}).get("amount", 0)
                if not isinstance(amount, int):
                    bad.add((rel, n))
        elif rel.endswith(".csv"):
            with path.open(newline="") as fh:
                rows = list(csv.reader(fh))
            bad |= {(rel, n) for n, r in enumerate(rows, start=1) if len(r) != len(rows[0])}
    return bad


def test_defect_kinds_are_all_present(defect_out: Path) -> None:
    assert {d["kind"] for d in _defects(defect_out)} == KINDS
    for d in _defects(defect_out):
        assert (defect_out / "landing" / d["file"]).is_file()
        assert d["expected"]


def test_malformed_lines_are_exactly_the_declared_ones(defect_out: Path) -> None:
    declared = {
        (d["file"], d["line"])
        for d in _defects(defect_out)
        if d["kind"] not in {"duplicate_file", "superseded_record", "corrected_redelivery"}
    }
    assert _bad_lines(defect_out) == declared


def test_duplicate_file_is_byte_identical(defect_out: Path) -> None:
    d = next(x for x in _defects(defect_out) if x["kind"] == "duplicate_file")
    copy = defect_out / "landing" / d["file"]
    original = defect_out / "landing" / d["expected"].split(" of ")[1]
    assert (
        hashlib.sha256(copy.read_bytes()).digest() == hashlib.sha256(original.read_bytes()).digest()
    )


def test_corrected_redelivery_carries_the_true_amount(defect_out: Path, small_out: Path) -> None:
    d = next(x for x in _defects(defect_out) if x["kind"] == "corrected_redelivery")
    s = next(x for x in _defects(defect_out) if x["kind"] == "superseded_record")
    fixed = json.loads((defect_out / "landing" / d["file"]).read_text().splitlines()[d["line"] - 1])
    wrong = json.loads((defect_out / "landing" / s["file"]).read_text().splitlines()[s["line"] - 1])
    clean = json.loads((small_out / "landing" / s["file"]).read_text().splitlines()[s["line"] - 1])
    assert fixed["id"] == wrong["id"] == clean["id"]
    assert fixed["amount_money"] == clean["amount_money"] != wrong["amount_money"]
    assert fixed["updated_at"] > wrong["updated_at"]


def test_defects_do_not_change_the_answer_key(defect_out: Path, small_out: Path) -> None:
    for name in ("outcomes_by_location.csv", "revenue_by_location_day.csv", "summary.json"):
        assert (defect_out / "answer_key" / name).read_bytes() == (
            small_out / "answer_key" / name
        ).read_bytes()
    assert read_csv(defect_out / "answer_key" / "calls.csv")
