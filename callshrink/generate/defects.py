"""``--defects``: malformed lines and re-deliveries in known places, listed in defects.json.

Every malformed line is an *extra* line (a record that is not part of the truth), appended to
the first file of its folder, so rejecting it leaves the answer key unchanged. The two
re-deliveries are:

- ``duplicate_file``: an exact copy of a payments file under another name (load once).
- ``corrected_redelivery``: the original payments file gets one amount changed to a wrong
  value (``amount_money.amount`` + 1000 cents, same ``updated_at``); a second file re-delivers
  the same records with the true amount and a newer ``updated_at``. The answer key holds the
  true (corrected) amount, so the newest ``updated_at`` must win.
"""

from __future__ import annotations

import datetime as dt
import json
import shutil
from pathlib import Path
from typing import Any


def _files(folder: Path, pattern: str) -> list[Path]:
    return sorted(p for p in folder.glob(pattern) if p.is_file())


def _append(path: Path, text: str) -> int:
    """Append one line; return its 1-based line number."""
    existing = path.read_text(encoding="utf-8")
    if existing and not existing.endswith("\n"):
        existing += "\n"
    path.write_text(existing + text + "\n", encoding="utf-8", newline="")
    return existing.count("\n") + 1


def _entry(landing: Path, path: Path, line: int | None, kind: str, reason: str) -> dict[str, Any]:
    return {
        "file": path.relative_to(landing).as_posix(),
        "line": line,
        "kind": kind,
        "expected": reason,
    }


def _cdr_defects(landing: Path) -> list[dict[str, Any]]:
    out = []
    pbx_dirs = sorted(p for p in (landing / "pbx").iterdir() if p.is_dir())
    cdr = _files(pbx_dirs[0] / "cdr", "*.csv")[0]
    short = ",".join(
        f'"{v}"'
        for v in [
            "",
            "+16175550199",
            "4010",
            "ext-queues",
            '"" <+16175550199>',
            "PJSIP/telnyx-in-ffff0001",
            "",
            "Queue",
            "4010,t,,,90,,,,,",
            "2026-02-23 10:00:00",
            "2026-02-23 10:00:00",
            "2026-02-23 10:01:00",
            "60",
            "60",
            "ANSWERED",
            "DOCUMENTATION",
            "1771858800.999001",
            "",
            "",
            "1771858800.999001",
        ]
    )
    line = _append(cdr, short)
    out.append(
        _entry(landing, cdr, line, "cdr_wrong_column_count", "reject: 20 columns instead of 21")
    )
    bad_time = ",".join(
        f'"{v}"'
        for v in [
            "",
            "+16175550198",
            "4010",
            "ext-queues",
            '"" <+16175550198>',
            "PJSIP/telnyx-in-ffff0002",
            "",
            "Queue",
            "4010,t,,,90,,,,,",
            "2026-02-30 25:61:00",
            "2026-02-30 25:61:00",
            "2026-02-30 25:62:00",
            "60",
            "60",
            "ANSWERED",
            "DOCUMENTATION",
            "1771858800.999002",
            "",
            "",
            "1771858800.999002",
            "999002",
        ]
    )
    line = _append(cdr, bad_time)
    out.append(
        _entry(
            landing,
            cdr,
            line,
            "cdr_bad_timestamp",
            "reject: start/answer/end are not valid timestamps",
        )
    )
    qlog = _files(pbx_dirs[0] / "queue_log", "*")[0]
    line = _append(qlog, "1771858800|1771858800.999003|4010|NONE|SPACEWARP|42|x")
    out.append(
        _entry(
            landing,
            qlog,
            line,
            "queue_log_unknown_event",
            "keep as unknown event SPACEWARP; it is not part of any call",
        )
    )
    return out


def _callrail_defects(landing: Path) -> list[dict[str, Any]]:
    out = []
    folder = landing / "tracking" / "callrail"
    jsonl = _files(folder, "*.jsonl")
    if jsonl:
        line = _append(jsonl[0], '{"id":"CALdefect0000000000000000000000001","answered":tru')
        out.append(
            _entry(
                landing, jsonl[0], line, "callrail_invalid_json", "reject: line is not valid JSON"
            )
        )
    csvs = _files(folder, "*.csv")
    if csvs:
        line = _append(csvs[0], "CALdefect0000000000000000000000002,true,+16175550100")
        out.append(
            _entry(
                landing,
                csvs[0],
                line,
                "callrail_csv_wrong_column_count",
                "reject: 3 fields instead of the header's",
            )
        )
    return out


def _square_defects(landing: Path) -> list[dict[str, Any]]:
    out = []
    folder = landing / "pos" / "square" / "payments"
    files = [p for p in _files(folder, "*.jsonl") if p.stat().st_size > 0]
    first = files[0]
    line = _append(first, '{"id":"DEFECTpayment000000001","created_at":"2026-02-23T15:00:00.000Z",')
    out.append(
        _entry(landing, first, line, "square_invalid_json", "reject: line is not valid JSON")
    )
    bad_type = {
        "id": "DEFECTpayment000000002",
        "created_at": "2026-02-23T15:00:00.000Z",
        "updated_at": "2026-02-23T15:00:02.000Z",
        "amount_money": {"amount": "12.5x", "currency": "USD"},
        "total_money": {"amount": "12.5x", "currency": "USD"},
        "status": "COMPLETED",
        "source_type": "CARD",
        "location_id": "LDEFECTLOC01",
    }
    line = _append(first, json.dumps(bad_type, separators=(",", ":")))
    out.append(
        _entry(
            landing,
            first,
            line,
            "square_wrong_type",
            "reject: amount_money.amount is not an integer",
        )
    )
    dup_src = files[1] if len(files) > 1 else first
    dup = dup_src.with_name(dup_src.stem + "_redelivered.jsonl")
    shutil.copyfile(dup_src, dup)
    out.append(
        _entry(
            landing,
            dup,
            None,
            "duplicate_file",
            f"ignore: byte-identical copy of {dup_src.relative_to(landing).as_posix()}",
        )
    )
    candidates = files[2:] + files[:2]  # prefer a file without other defects
    original = next((f for f in candidates if _correctable(f) is not None), None)
    if original is not None:
        out.extend(_corrected(landing, original))
    return out


def _correctable(path: Path) -> int | None:
    """Line index of a COMPLETED payment without refunds, or None."""
    for i, text in enumerate(path.read_text(encoding="utf-8").splitlines()):
        if (
            '"status":"COMPLETED"' in text
            and "refunded_money" not in text
            and not text.startswith('{"id":"DEFECT')
        ):
            return i
    return None


def _corrected(landing: Path, original: Path) -> list[dict[str, Any]]:
    lines = original.read_text(encoding="utf-8").splitlines()
    target = _correctable(original)
    assert target is not None
    record = json.loads(lines[target])
    true_amount = record["amount_money"]["amount"]
    wrong = json.loads(lines[target])
    wrong["amount_money"]["amount"] = true_amount + 1000
    wrong["total_money"]["amount"] = wrong["total_money"]["amount"] + 1000
    corrected = json.loads(lines[target])
    corrected["updated_at"] = _later(corrected["updated_at"])
    wrong_lines = list(lines)
    wrong_lines[target] = json.dumps(wrong, separators=(",", ":"))
    original.write_text("\n".join(wrong_lines) + "\n", encoding="utf-8", newline="")
    fixed_lines = list(lines)
    fixed_lines[target] = json.dumps(corrected, separators=(",", ":"))
    fixed = original.with_name(original.stem + "_corrected.jsonl")
    fixed.write_text("\n".join(fixed_lines) + "\n", encoding="utf-8", newline="")
    return [
        _entry(
            landing,
            original,
            target + 1,
            "superseded_record",
            f"superseded: payment {record['id']} amount {true_amount + 1000} is wrong; the "
            f"corrected re-delivery has {true_amount} with a newer updated_at",
        ),
        _entry(
            landing,
            fixed,
            target + 1,
            "corrected_redelivery",
            f"use: same records as {original.relative_to(landing).as_posix()}, payment "
            f"{record['id']} corrected to amount {true_amount} (the answer key's value)",
        ),
    ]


def _later(stamp: str) -> str:
    """An RFC 3339 UTC stamp one day later (same format)."""
    parsed = dt.datetime.strptime(stamp, "%Y-%m-%dT%H:%M:%S.%fZ")
    later = parsed + dt.timedelta(days=1)
    return later.strftime("%Y-%m-%dT%H:%M:%S.") + f"{later.microsecond // 1000:03d}Z"


def inject(out: Path) -> list[dict[str, Any]]:
    """Add the defects to ``out/landing``; write ``out/answer_key/defects.json``."""
    landing = out / "landing"
    defects = [*_cdr_defects(landing), *_callrail_defects(landing), *_square_defects(landing)]
    doc = {
        "note": "line is 1-based; null for whole-file defects. Rejected lines are extra records "
        "that are not part of the answer key.",
        "defects": defects,
    }
    (out / "answer_key" / "defects.json").write_text(
        json.dumps(doc, indent=2) + "\n", encoding="utf-8"
    )
    return defects
