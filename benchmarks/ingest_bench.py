"""Benchmark every loader against psql's COPY of the same records: records per second.

Usage: python benchmarks/ingest_bench.py [--records 200000] [--rounds 3] [--only NAME ...]

Builds, from generated demo data, one landing folder per loader with N records each:
CallRail calls as API pages (one page of 250 calls per file, as the generator writes them),
as JSON lines and as CSV; Square customers, payments and refunds; HubSpot contacts and deals
(JSON lines); Asterisk CDR (Master.csv) and queue_log. Then, on a fresh `callshrink_bench`
database (the configured server or the private one), for each loader:
  1. psql `\\copy` of the same records, one per line, into a table of one jsonb column (JSON
     sources: the server parses each record) or one text column (CSV, CDR, queue_log: each
     line as it is);
  2. callshrink's loader (types, lineage, manifest, quarantine) into its raw table.
Prints one table: records/s of each, and the ratio loader/psql (medians of the rounds).
"""

from __future__ import annotations

import argparse
import csv
import json
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import psycopg
from psycopg import sql

from callshrink import db
from callshrink.generate import generate
from callshrink.generate.callrail import FIELDS as CALLRAIL_FIELDS
from callshrink.generate.callrail import PER_PAGE, csv_value
from callshrink.ingest import ensure_raw_schema, load_table, table_by_key
from callshrink.ingest.loader import start_load

sys.path.insert(0, str(Path(__file__).resolve().parent))
from build_bench import fresh_database

BENCH_DB = "callshrink_bench"
# psql reads each line as one field: no byte of the data is this quote or this delimiter
WHOLE_LINE = "format csv, quote e'\\x01', delimiter e'\\x02'"


def psql_binary() -> str:
    found = shutil.which("psql")
    if found:
        return found
    import pgserver._commands

    return str(pgserver._commands.POSTGRES_BIN_PATH / "psql")


@dataclass
class Case:
    name: str  # as printed
    source: str  # raw table
    table: str
    write: Callable[[Path, list, int], Path]  # (landing, samples, records) -> the psql file
    samples: str  # which sample list it repeats
    column: str  # the psql table's column type: jsonb or text


def _repeat(samples: list, records: int) -> list:
    return [samples[i % len(samples)] for i in range(records)]


def _lines_file(path: Path, lines: list[str]) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", encoding="utf-8", newline="") as out:
        out.writelines(line + "\n" for line in lines)
    return path


def _compact(record: dict) -> str:
    return json.dumps(record, separators=(",", ":"))


def _json_lines(folder: str, name: str) -> Callable[[Path, list, int], Path]:
    def write(landing: Path, samples: list, records: int) -> Path:
        lines = [_compact(r) for r in _repeat(samples, records)]
        _lines_file(landing / folder / name, lines)
        return _lines_file(landing.parent / "psql" / name, lines)

    return write


def _callrail_pages(landing: Path, samples: list, records: int) -> Path:
    calls = _repeat(samples, records)
    pages = -(-records // PER_PAGE)
    folder = landing / "tracking" / "callrail"
    folder.mkdir(parents=True, exist_ok=True)
    for number in range(pages):
        page = calls[number * PER_PAGE : (number + 1) * PER_PAGE]
        doc = {
            "page": number + 1,
            "per_page": PER_PAGE,
            "total_pages": pages,
            "total_records": records,
            "calls": page,
        }
        (folder / f"calls_p{number + 1:05d}.json").write_text(json.dumps(doc) + "\n")
    return _lines_file(landing.parent / "psql" / "calls.jsonl", [_compact(c) for c in calls])


def _callrail_csv(landing: Path, samples: list, records: int) -> Path:
    path = landing / "tracking" / "callrail" / "calls.csv"
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", encoding="utf-8", newline="") as out:
        writer = csv.writer(out, lineterminator="\n")
        writer.writerow(CALLRAIL_FIELDS)
        for call in _repeat(samples, records):
            writer.writerow([csv_value(call.get(f)) for f in CALLRAIL_FIELDS])
    psql_file = landing.parent / "psql" / "calls.csv"
    psql_file.parent.mkdir(parents=True, exist_ok=True)
    with path.open(encoding="utf-8") as source, psql_file.open("w", encoding="utf-8") as out:
        next(source)  # the header: psql copies the records
        shutil.copyfileobj(source, out)
    return psql_file


def _pbx_lines(folder: str, name: str) -> Callable[[Path, list, int], Path]:
    def write(landing: Path, samples: list, records: int) -> Path:
        lines = _repeat(samples, records)
        _lines_file(landing / "pbx" / "pbx_bench" / folder / name, lines)
        return _lines_file(landing.parent / "psql" / name, lines)

    return write


CASES = [
    Case("callrail pages", "callrail", "calls", _callrail_pages, "calls", "jsonb"),
    Case("callrail json lines", "callrail", "calls", _json_lines("tracking/callrail", "c.json"),
         "calls", "jsonb"),
    Case("callrail csv", "callrail", "calls", _callrail_csv, "calls", "text"),
    Case("square customers", "square", "customers",
         _json_lines("pos/square/customers", "c.jsonl"), "customers", "jsonb"),
    Case("square payments", "square", "payments",
         _json_lines("pos/square/payments", "p.jsonl"), "payments", "jsonb"),
    Case("square refunds", "square", "refunds", _json_lines("pos/square/refunds", "r.jsonl"),
         "refunds", "jsonb"),
    Case("hubspot contacts", "hubspot", "contacts",
         _json_lines("crm/hubspot/contacts", "c.jsonl"), "contacts", "jsonb"),
    Case("hubspot deals", "hubspot", "deals", _json_lines("crm/hubspot/deals", "d.jsonl"),
         "deals", "jsonb"),
    Case("asterisk cdr", "asterisk", "cdr", _pbx_lines("cdr", "Master.csv"), "cdr", "text"),
    Case("asterisk queue_log", "asterisk", "queue_log", _pbx_lines("queue_log", "queue_log"),
         "queue_log", "text"),
]  # fmt: skip


def samples_of(generated: Path) -> dict[str, list]:
    """The generated records of each kind: JSON objects, or lines of the PBX files."""
    landing = generated / "landing"

    def objects(folder: str) -> list[dict]:
        found = []
        for path in sorted((landing / folder).rglob("*.jsonl")):
            found += [json.loads(line) for line in path.read_text().splitlines() if line]
        return found

    def lines(pattern: str) -> list[str]:
        return [
            line
            for path in sorted(landing.glob(pattern))
            for line in path.read_text().splitlines()
            if line
        ]

    calls: list[dict] = []
    for path in sorted((landing / "tracking" / "callrail").rglob("*")):
        if path.suffix == ".json":
            calls += json.loads(path.read_text())["calls"]
        elif path.suffix == ".jsonl":
            calls += [json.loads(line) for line in path.read_text().splitlines() if line]
        elif path.suffix == ".csv":
            continue  # CSV loses the types: the JSON ones are the samples
    return {
        "calls": calls,
        "customers": objects("pos/square/customers"),
        "payments": objects("pos/square/payments"),
        "refunds": objects("pos/square/refunds"),
        "contacts": objects("crm/hubspot/contacts"),
        "deals": objects("crm/hubspot/deals"),
        "cdr": lines("pbx/*/cdr/*"),
        "queue_log": lines("pbx/*/queue_log/*"),
    }


def time_psql(url: str, path: Path, column: str) -> float:
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("drop table if exists bench_psql_copy")
        conn.execute(sql.SQL("create table bench_psql_copy (record {})").format(sql.SQL(column)))
        conn.execute("checkpoint")
    started = time.perf_counter()
    command = f"\\copy bench_psql_copy from '{path}' with ({WHOLE_LINE})"
    subprocess.run([psql_binary(), url, "-q", "-c", command], check=True)
    return time.perf_counter() - started


def time_loader(url: str, landing: Path, case: Case, records: int) -> float:
    table = table_by_key(case.source, case.table)
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("drop schema if exists raw cascade")
    with psycopg.connect(url) as conn:
        ensure_raw_schema(conn)
        load_id = start_load(conn, landing, uuid.uuid4())
        conn.execute("checkpoint")
        conn.commit()
        started = time.perf_counter()
        result = load_table(conn, table, landing, load_id, log=print, encodings={})
        seconds = time.perf_counter() - started
    assert result.total("rows_loaded") == records, (case.name, result.metadata())
    return seconds


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--records", type=int, default=200_000, help="per loader (200 k)")
    parser.add_argument("--rounds", type=int, default=3, help="rounds, medians shown (3)")
    parser.add_argument("--only", nargs="*", help="loaders to run (names as printed)")
    args = parser.parse_args(argv)
    cases = [c for c in CASES if not args.only or c.name in args.only]

    url = fresh_database(db.database_url(), BENCH_DB)
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        generate(Path(tmp) / "generated", locations=4, days=7, seed=3)
        samples = samples_of(Path(tmp) / "generated")
        for number, case in enumerate(cases):
            work = Path(tmp) / f"case{number}"
            landing = work / "landing"
            psql_file = case.write(landing, samples[case.samples], args.records)
            psql_runs, loader_runs = [], []
            for _ in range(args.rounds):  # alternate, so drift in the machine hits both alike
                psql_runs.append(time_psql(url, psql_file, case.column))
                loader_runs.append(time_loader(url, landing, case, args.records))
            shutil.rmtree(work)
            psql_rate = args.records / statistics.median(psql_runs)
            loader_rate = args.records / statistics.median(loader_runs)
            rows.append((case.name, case.column, psql_rate, loader_rate))
            print(f"{case.name}: psql {psql_rate:,.0f}/s, loader {loader_rate:,.0f}/s", flush=True)

    print(f"\n{args.records:,} records per loader; median of {args.rounds} rounds")
    into = "psql \\copy into"
    print(f"{'loader':<22}{into:>22}{'records/s':>12}{'loader':>12}{'ratio':>8}")
    for name, column, psql_rate, loader_rate in rows:
        print(
            f"{name:<22}{'one ' + column + ' column':>22}{psql_rate:>12,.0f}"
            f"{loader_rate:>12,.0f}{loader_rate / psql_rate:>8.2f}"
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
