"""Benchmark the loader against psql's COPY: raw rows per second for Asterisk CDR lines.

Usage: python benchmarks/ingest_bench.py [--lines 1000000]

Builds a Master.csv of N lines from generated demo CDRs, then on the same database (a fresh
`callshrink_bench` on the configured server or the private one):
  1. psql `\\copy` of the file into a table of 21 text columns;
  2. callshrink's loader (parse, type checks, lineage, manifest, quarantine) into raw.asterisk_cdr.
Prints rows/s of each and the ratio loader/psql.
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import subprocess
import tempfile
import time
import uuid
from pathlib import Path

import psycopg
from psycopg import sql

from callshrink import db, settings
from callshrink.generate import generate
from callshrink.ingest import ensure_raw_schema, load_table, table_by_key
from callshrink.ingest.loader import start_load
from callshrink.ingest.passthrough import SETTINGS, copy_statement

BENCH_DB = "callshrink_bench"


def psql_binary() -> str:
    found = shutil.which("psql")
    if found:
        return found
    import pgserver._commands

    return str(pgserver._commands.POSTGRES_BIN_PATH / "psql")


def build_cdr_file(path: Path, lines: int) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        generate(Path(tmp), locations=4, days=7, seed=3)
        sample = [
            line
            for cdr in sorted(Path(tmp).glob("landing/pbx/*/cdr/*"))
            for line in cdr.read_text().splitlines()
            if line
        ]
    with path.open("w") as out:
        for i in range(lines):
            out.write(sample[i % len(sample)] + "\n")


def fresh_database(server_url: str) -> str:
    with psycopg.connect(server_url, autocommit=True) as conn:
        name = sql.Identifier(BENCH_DB)
        conn.execute(sql.SQL("drop database if exists {} with (force)").format(name))
        conn.execute(sql.SQL("create database {}").format(name))
    return settings.with_database(server_url, BENCH_DB)


def time_psql(url: str, cdr: Path, columns: list[str]) -> float:
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("drop table if exists bench_psql_copy")
        conn.execute(
            sql.SQL("create table bench_psql_copy ({})").format(
                sql.SQL(", ").join(sql.SQL("{} text").format(sql.Identifier(c)) for c in columns)
            )
        )
        conn.execute("checkpoint")
    started = time.perf_counter()
    command = f"\\copy bench_psql_copy from '{cdr}' with (format csv)"
    subprocess.run([psql_binary(), url, "-q", "-c", command], check=True)
    return time.perf_counter() - started


def time_psql_typed(url: str, cdr: Path) -> float:
    """psql \\copy into a copy of the typed raw table, lineage from the same defaults."""
    with psycopg.connect(url, autocommit=True) as conn:
        ensure_raw_schema(conn)
        conn.execute("drop table if exists bench_psql_typed")
        conn.execute("create table bench_psql_typed (like raw.asterisk_cdr including all)")
        conn.execute("checkpoint")
    statement = (
        str(copy_statement(table_by_key("asterisk", "cdr")).as_string(None))
        .replace('"raw"."asterisk_cdr"', "bench_psql_typed")
        .replace("from stdin", f"from '{cdr}'")
    )
    settings_sql = "select " + ", ".join(
        f"set_config('{SETTINGS[column]}', '{value}', false)"
        for column, value in {
            "_load_id": str(uuid.uuid4()),
            "_source_file": "bench.csv",
            "_file_sha256": "bench",
            "pbx_id": "pbx_bench",
        }.items()
    )
    started = time.perf_counter()
    subprocess.run(
        [psql_binary(), url, "-q", "-c", settings_sql, "-c", "\\" + statement], check=True
    )
    return time.perf_counter() - started


def time_loader(url: str, landing: Path, lines: int) -> float:
    table = table_by_key("asterisk", "cdr")
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("drop schema if exists raw cascade")
    with psycopg.connect(url) as conn:
        ensure_raw_schema(conn)
        load_id = start_load(conn, landing, uuid.uuid4())
        conn.execute("checkpoint")
        started = time.perf_counter()
        result = load_table(conn, table, landing, load_id, log=print)
        seconds = time.perf_counter() - started
    assert result.total("rows_loaded") == lines, result.metadata()
    return seconds


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--lines", type=int, default=1_000_000, help="CDR lines (default 1 M)")
    parser.add_argument("--rounds", type=int, default=3, help="rounds, medians shown (default 3)")
    args = parser.parse_args(argv)

    url = fresh_database(db.database_url())
    columns = [f.column for f in table_by_key("asterisk", "cdr").fields]
    with tempfile.TemporaryDirectory() as tmp:
        landing = Path(tmp) / "landing"
        cdr = landing / "pbx" / "pbx_bench" / "cdr" / "Master.csv"
        cdr.parent.mkdir(parents=True)
        build_cdr_file(cdr, args.lines)
        size_mb = cdr.stat().st_size / 1e6
        psql_runs, typed_runs, loader_runs = [], [], []
        for _ in range(args.rounds):  # alternate, so drift in the machine hits all alike
            psql_runs.append(time_psql(url, cdr, columns))
            loader_runs.append(time_loader(url, landing, args.lines))
            typed_runs.append(time_psql_typed(url, cdr))

    psql_seconds, loader_seconds = statistics.median(psql_runs), statistics.median(loader_runs)
    psql_rate, loader_rate = args.lines / psql_seconds, args.lines / loader_seconds
    print(f"file: {args.lines:,} CDR lines, {size_mb:,.0f} MB; median of {args.rounds} rounds")
    print(f"psql \\copy (text table):  {psql_seconds:6.2f} s  {psql_rate:10,.0f} rows/s")
    print(f"callshrink loader:        {loader_seconds:6.2f} s  {loader_rate:10,.0f} rows/s")
    print("  (typed columns, lineage, manifest, the same transaction guarantees)")
    typed_seconds = statistics.median(typed_runs)
    typed_rate = args.lines / typed_seconds
    print(f"psql \\copy (typed raw):   {typed_seconds:6.2f} s  {typed_rate:10,.0f} rows/s")
    print(
        f"ratio loader/psql: {loader_rate / psql_rate:.2f} against the text table, "
        f"{loader_rate / typed_rate:.2f} against the same typed raw table"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
