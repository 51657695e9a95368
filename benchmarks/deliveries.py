"""Damaged deliveries: what `callshrink run` does with files as real exports and hand edits
leave them, measured on the demo data set.

Usage: python benchmarks/deliveries.py [--only 1,3,10] [--keep]

Generates the demo data once (4 locations x 10 days, seed 11). Each scenario then copies its
landing and reference folders (modification times kept), damages the generated files as an
export or a hand edit does (a NUL, a byte-order mark, a page cut short, a U+2028, Latin-1
bytes, payments breaking the rules, a status no check allows, a corrected re-delivery, the
same file under two PBXs, two runs at once), and runs `callshrink run -q` into a fresh
database (on the private server unless --server names another), with a CALLSHRINK_HOME of
its own. What happened is read from the manifest (raw._load_files), the quarantine
(raw._quarantine), the raw tables, staging and the marts. Prints a Markdown table: scenario |
what happened (measured) | exit code of the run. About a minute per scenario; each database
is dropped afterwards.
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import psycopg
from build_bench import drop_database, fresh_database

from callshrink import db, settings
from callshrink.dbt import tool
from callshrink.generate import generate
from callshrink.ingest import table_by_key

PROJECT = Path(__file__).resolve().parent.parent
CDR_COLUMNS = [f.column for f in table_by_key("asterisk", "cdr").fields]
MARK = "\ue000"  # a private-use character an edit writes where the raw bytes of a damage go


# --- damaging a line ---------------------------------------------------------------------------


def edit_line(path: Path, number: int, edit: Callable[[bytes], bytes]) -> None:
    """Rewrite the 1-based physical line ``number`` of the file."""
    lines = path.read_bytes().split(b"\n")
    lines[number - 1] = edit(lines[number - 1])
    path.write_bytes(b"\n".join(lines))


def json_edit(change: Callable[[dict], object], raw: bytes = b"") -> Callable[[bytes], bytes]:
    """Change a JSON line's record, written back as the generator writes it; MARK -> raw."""

    def edit(line: bytes) -> bytes:
        record = json.loads(line)
        change(record)
        text = json.dumps(record, ensure_ascii=False, separators=(",", ":"))
        return text.encode().replace(MARK.encode(), raw)

    return edit


def cdr_edit(column: str, change: Callable[[str], str], raw: bytes = b"") -> Callable:
    """Change one field of a CDR line, quoted as Asterisk's cdr_csv quotes; MARK -> raw."""

    def edit(line: bytes) -> bytes:
        fields = next(csv.reader([line.decode()]))
        index = CDR_COLUMNS.index(column)
        fields[index] = change(fields[index])
        text = ",".join('"' + value.replace('"', '""') + '"' for value in fields)
        return text.encode().replace(MARK.encode(), raw)

    return edit


def cdr_records(path: Path) -> list[dict[str, str]]:
    """The CDR file's lines as records by column; the first is line 1."""
    lines = path.read_text().splitlines()
    return [dict(zip(CDR_COLUMNS, fields, strict=True)) for fields in csv.reader(lines)]


def line_where(path: Path, test: Callable[[dict], bool], start: int = 3) -> int:
    """The first JSON line from ``start`` whose record passes ``test``."""
    for number, line in enumerate(path.read_bytes().split(b"\n")[start - 1 :], start):
        if line and test(json.loads(line)):
            return number
    raise LookupError(f"no line of {path} fits")


def named(key: str) -> Callable[[dict], bool]:
    return lambda record: isinstance(record.get(key), str) and len(record[key]) >= 2


def physical_lines(path: Path) -> int:
    return path.read_bytes().count(b"\n")


def cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


# --- one scenario's folders, database and runs -------------------------------------------------


class Scenario:
    def __init__(self, number: int, pristine: Path, work: Path, server: str) -> None:
        self.dir = work / f"scenario_{number:02d}"
        self.landing, self.reference = self.dir / "landing", self.dir / "reference"
        shutil.copytree(pristine / "landing", self.landing)  # copy2: modification times kept
        shutil.copytree(pristine / "reference", self.reference)
        self.server, self.database = server, f"callshrink_deliveries_{number:02d}"
        self.url = fresh_database(server, self.database)
        self.env = {k: v for k, v in os.environ.items() if k != "DAGSTER_HOME"}
        self.env |= {settings.DATABASE_URL_VAR: self.url, "CALLSHRINK_HOME": str(self.dir / "home")}
        self.logs = 0

    def drop(self) -> None:
        drop_database(self.server, self.database)

    def path(self, pattern: str, index: int = 0) -> Path:
        return sorted(self.landing.glob(pattern))[index]

    def name(self, path: Path) -> str:
        return path.relative_to(self.landing).as_posix()

    def start(self, *args: str) -> tuple[subprocess.Popen, Path]:
        """`callshrink ARGS` in the background, stdout and stderr to a log of the scenario."""
        self.logs += 1
        log = self.dir / f"callshrink_{self.logs}.log"
        with log.open("w") as out:
            command = [tool("callshrink"), *args]
            process = subprocess.Popen(command, env=self.env, cwd=PROJECT, stdout=out, stderr=out)
        return process, log

    def callshrink(self, *args: str) -> tuple[int, str]:
        process, log = self.start(*args)
        return process.wait(), log.read_text()

    def run_args(self) -> list[str]:
        return ["run", "-q", "--landing", str(self.landing), "--reference", str(self.reference)]

    def run(self) -> tuple[int, str]:
        return self.callshrink(*self.run_args())

    def rows(self, query: str, *params: object) -> list[tuple]:
        with psycopg.connect(self.url) as conn:
            return conn.execute(query, params).fetchall()

    def value(self, query: str, *params: object) -> object:
        return self.rows(query, *params)[0][0]

    def exists(self, relation: str) -> bool:
        return self.value("select to_regclass(%s) is not null", relation)

    def count(self, relation: str) -> str:
        return str(self.value(f"select count(*) from {relation}")) if self.exists(relation) else "-"

    def loaded(self, path: Path) -> dict:
        """The file's manifest row (an empty dict when it was not loaded)."""
        found = self.rows(
            "select rows_loaded, rows_quarantined, lines_read, lines_decoded_latin1, "
            "records_unreadable from raw._load_files where source_file = %s",
            self.name(path),
        )
        keys = ("loaded", "quarantined", "read", "latin1", "unreadable")
        return dict(zip(keys, found[0], strict=True)) if found else {}

    def quarantine(self, path: Path) -> list[str]:
        return [
            f"{self.name(path)}:{line}: {reason}"
            for line, reason in self.rows(
                "select line_number, reason from raw._quarantine where source_file = %s "
                "order by line_number",
                self.name(path),
            )
        ]

    def file_outcome(self, path: Path, of: int | None = None, what: str = "lines") -> str:
        """Quarantined lines, and rows loaded of the file's lines (or ``of`` data rows)."""
        figures = self.loaded(path)
        total = physical_lines(path) if of is None else of
        quarantined = "; ".join(self.quarantine(path)) or f"nothing quarantined in {path.name}"
        return (
            f"{quarantined}; {path.name}: {figures.get('loaded', 'not')} loaded of {total} "
            f"{what} (lines_read {figures.get('read', '-')})"
        )


def failures(output: str) -> str:
    """The first FAILED line of the run's summary (a check or a step), if any."""
    failed = [line.strip() for line in output.splitlines() if line.startswith("  FAILED")]
    return f"; first FAILED line: `{failed[0][:220]}`" if failed else ""


def raw_summary(output: str) -> dict[str, list[int]]:
    """The run summary's raw table lines: asset key -> [loaded, quarantined, files skipped]."""
    lines = output.splitlines()
    start = next((i for i, line in enumerate(lines) if line.startswith("raw table")), len(lines))
    table = {}
    for line in lines[start + 1 :]:
        fields = line.split()
        if len(fields) != 4 or "/" not in fields[0]:
            break
        table[fields[0]] = [int(n) for n in fields[1:]]
    return table


def marts(s: Scenario) -> str:
    return (
        f"marts.calls {s.count('marts.calls')} rows, marts.revenue_attributions "
        f"{s.count('marts.revenue_attributions')} rows"
    )


# --- the scenarios -----------------------------------------------------------------------------

SCENARIOS: list[tuple[str, Callable[[Scenario], tuple[str, str]]]] = []


def scenario(title: str) -> Callable:
    def register(function: Callable[[Scenario], tuple[str, str]]) -> Callable:
        SCENARIOS.append((title, function))
        return function

    return register


@scenario("1. A NUL: a raw 0x00 in a CDR clid; a JSON `\\u0000` in a CallRail JSON-lines name")
def nul(s: Scenario) -> tuple[str, str]:
    cdr = s.path("pbx/pbx_east/cdr/*.csv", 1)
    edit_line(cdr, 5, cdr_edit("clid", lambda v: v[:3] + MARK + v[3:], raw=b"\x00"))
    calls = s.path("tracking/callrail/*.jsonl")
    line = line_where(calls, named("customer_name"))
    edit_line(calls, line, json_edit(lambda r: r.update(customer_name=f"{r['customer_name']}\0")))
    assert b"\\u0000" in calls.read_bytes().split(b"\n")[line - 1]
    code, output = s.run()
    return f"{s.file_outcome(cdr)}; {s.file_outcome(calls)}{failures(output)}", str(code)


@scenario("2. A UTF-8 BOM before the CallRail CSV export's header")
def bom(s: Scenario) -> tuple[str, str]:
    export = s.path("tracking/callrail/*.csv")
    export.write_bytes(b"\xef\xbb\xbf" + export.read_bytes())
    first_id = export.read_bytes().split(b"\n")[1].split(b",")[0].decode()
    code, output = s.run()
    loaded_id = s.rows(
        "select id from raw.callrail_calls where _source_file = %s and _line_number = 2",
        s.name(export),
    )
    return (
        f"{s.file_outcome(export, physical_lines(export) - 1, 'data rows')}; the first row's id "
        f"as loaded {'= ' if loaded_id == [(first_id,)] else '!= '}{first_id} "
        f"(loaded: {loaded_id[0][0] if loaded_id else 'nothing'!r}){failures(output)}",
        str(code),
    )


@scenario("3. A CallRail API page (`*_p1.json`) cut at 60% of its bytes, inside a call")
def truncated_page(s: Scenario) -> tuple[str, str]:
    page = s.path("tracking/callrail/*_p1.json")
    data = page.read_bytes()
    calls = len(json.loads(data)["calls"])
    cut = int(len(data) * 0.6)
    complete = data.count(b'{"id": ', 0, cut) - 1  # the last call begun is the one cut
    page.write_bytes(data[:cut])
    code, output = s.run()
    figures = s.loaded(page)
    note = f"{s.name(page)}: the page is cut short at"
    said = [line[line.index(note) :] for line in output.splitlines() if note in line]
    return (
        f"{figures.get('loaded')} calls loaded of the page's {calls} ({complete} complete before "
        f"the cut); quarantined {figures.get('quarantined')}: {'; '.join(s.quarantine(page))}; "
        f"records_unreadable {figures.get('unreadable')}; run output: "
        f"`{said[0] if said else 'no line says the page is cut short'}`{failures(output)}",
        str(code),
    )


@scenario("4. A raw U+2028 (bytes e2 80 a8) in a CallRail JSON-lines customer_name")
def line_separator(s: Scenario) -> tuple[str, str]:
    calls = s.path("tracking/callrail/*.jsonl", 1)
    line = line_where(calls, lambda r: " " in str(r.get("customer_name")), start=2)
    edit_line(
        calls,
        line,
        json_edit(
            lambda r: r.update(customer_name=r["customer_name"].replace(" ", MARK, 1)),
            raw="\u2028".encode(),
        ),
    )
    physical = {
        json.loads(text)["id"]: number
        for number, text in enumerate(calls.read_bytes().split(b"\n"), 1)
        if text
    }
    code, output = s.run()
    loaded = dict(
        s.rows(
            "select id, _line_number from raw.callrail_calls where _source_file = %s",
            s.name(calls),
        )
    )
    name = s.rows(
        "select customer_name from raw.callrail_calls where _source_file = %s and "
        "strpos(customer_name, %s) > 0",
        s.name(calls),
        "\u2028",
    )
    after = [i for i, number in physical.items() if number > line]
    wrong = [i for i in after if loaded.get(i) != physical[i]]
    found = f"yes, {name[0][0]!r}" if name else "no"
    return (
        f"line {line} loaded with U+2028 in customer_name: {found}; "
        f"{s.file_outcome(calls)}; of the {len(after)} records after it, {len(after) - len(wrong)} "
        f"have _line_number = their physical line (b'\\n' count), {len(wrong)} do not"
        f"{failures(output)}",
        str(code),
    )


@scenario("5. Latin-1 bytes: `\\xe9` in a CDR clid (PBX encoding empty); in a Square given_name")
def latin1(s: Scenario) -> tuple[str, str]:
    cdr = s.path("pbx/pbx_west/cdr/*.csv", 2)
    edit_line(cdr, 7, cdr_edit("clid", lambda v: f'"Jos{MARK}" <{v.partition("<")[2]}', b"\xe9"))
    customers = s.path("pos/square/customers/*.jsonl", 3)
    line = line_where(customers, named("given_name"))
    edit_line(customers, line, json_edit(lambda r: r.update(given_name=f"Jos{MARK}"), b"\xe9"))
    code, output = s.run()
    clid = s.rows(
        "select clid from raw.asterisk_cdr where _source_file = %s and _line_number = 7",
        s.name(cdr),
    )
    return (
        f"CDR line 7 clid as loaded: {clid[0][0] if clid else 'not loaded'!r}; "
        f"lines_decoded_latin1 of {cdr.name} = {s.loaded(cdr).get('latin1')}; "
        f"{s.file_outcome(cdr)}; {s.file_outcome(customers)}{failures(output)}",
        str(code),
    )


@scenario("6. Square payments breaking rules: amount_money.amount -500; currency EUR")
def payment_rules(s: Scenario) -> tuple[str, str]:
    payments = s.path("pos/square/payments/*.jsonl", 1)
    edit_line(payments, 3, json_edit(lambda r: r["amount_money"].update(amount=-500)))
    edit_line(payments, 5, json_edit(lambda r: r["amount_money"].update(currency="EUR")))
    code, output = s.run()
    left_out = (
        s.rows(
            "select line_number, record_id, amount, currency from marts.revenue_left_out "
            "where source_file = %s order by line_number",
            s.name(payments),
        )
        if s.exists("marts.revenue_left_out")
        else []
    )
    listed = ", ".join(f"line {n} {i} {a} {c}" for n, i, a, c in left_out) or "none"
    return (
        f"{s.file_outcome(payments)}; {marts(s)}; marts.revenue_left_out lists: {listed}"
        f"{failures(output)}",
        str(code),
    )


@scenario("7. A VOIDED payment in a new payments file; then `quarantine --move` it and run again")
def blocked_then_cleared(s: Scenario) -> tuple[str, str]:
    source = s.path("pos/square/payments/*.jsonl", -1)
    voided = source.with_name(source.stem + "_voided.jsonl")
    record = json.loads(source.read_bytes().split(b"\n")[0])
    record |= {"id": "BENCHVOIDED000000000001", "status": "VOIDED"}
    voided.write_text(json.dumps(record, separators=(",", ":")) + "\n")
    first, output = s.run()
    before = f"run 1: {marts(s)}{failures(output)}"
    moved, move_output = s.callshrink(
        "quarantine", "--move", f"{s.name(voided)}:1", "--reason", "voided"
    )
    second, output = s.run()
    return (
        f"{before}; quarantine --move: `{move_output.strip().splitlines()[0][:120]}`; "
        f"run 2: {marts(s)}; {'; '.join(s.quarantine(voided))}{failures(output)}",
        f"run 1: {first}; move: {moved}; run 2: {second}",
    )


@scenario("8. A corrected CDR file named to sort before its original, modified after it")
def corrected_cdr(s: Scenario) -> tuple[str, str]:
    original = s.path("pbx/pbx_east/cdr/*.csv", 3)
    corrected = original.with_name("0_corrected_" + original.name)
    shutil.copy2(original, corrected)
    line, leg = next(
        (n, leg)
        for n, leg in enumerate(cdr_records(original), 1)
        if n > 1 and leg["disposition"] == "ANSWERED" and int(leg["billsec"]) > 1
    )
    billsec, uniqueid, sequence = int(leg["billsec"]), leg["uniqueid"], leg["sequence"]
    edit_line(corrected, line, cdr_edit("billsec", lambda v: str(billsec - 1)))
    mtime = original.stat().st_mtime + 60
    os.utime(corrected, (mtime, mtime))
    code, output = s.run()
    kept = (
        s.rows(
            "select billable_seconds, _source_file, _line_number from staging.stg_asterisk__cdr "
            "where pbx_id = 'pbx_east' and uniqueid = %s and leg_sequence = %s",
            uniqueid,
            int(sequence),
        )
        if s.exists("staging.stg_asterisk__cdr")
        else []
    )
    order = s.rows(
        "select source_file from raw._load_files where source_file in (%s, %s) order by loaded_at",
        s.name(original),
        s.name(corrected),
    )
    raw = s.value(
        "select count(*) from raw.asterisk_cdr where pbx_id = 'pbx_east' and uniqueid = %s "
        "and sequence = %s",
        uniqueid,
        sequence,
    )
    winner = kept[0] if kept else ("-", "not in staging", "-")
    return (
        f"leg {uniqueid}/{sequence}: billsec {billsec} in {original.name}:{line}, {billsec - 1} "
        f"in {corrected.name}:{line} (mtime +60 s); raw holds {raw} rows; load order "
        f"{' then '.join(Path(f).name for (f,) in order)}; staging.stg_asterisk__cdr keeps "
        f"billable_seconds {winner[0]} from {winner[1]}:{winner[2]}{failures(output)}",
        str(code),
    )


@scenario("9. The same queue_log bytes under pbx_east and a new pbx_copy folder")
def same_bytes_two_pbxs(s: Scenario) -> tuple[str, str]:
    original = s.path("pbx/pbx_east/queue_log/*")
    copy = s.landing / "pbx" / "pbx_copy" / "queue_log" / original.name
    copy.parent.mkdir(parents=True)
    shutil.copy2(original, copy)
    systems = s.reference / "pbx_systems.csv"
    east = next(row for row in systems.read_text().splitlines() if row.startswith("pbx_east,"))
    systems.write_text(systems.read_text() + east.replace("pbx_east,", "pbx_copy,", 1) + "\n")
    code, output = s.run()
    loaded = "; ".join(
        f"{s.name(p)}: {s.loaded(p).get('loaded', 'not loaded')} rows loaded of "
        f"{physical_lines(p)} lines"
        for p in (original, copy)
    )
    rows, quarantined, skipped = raw_summary(output).get("asterisk/queue_log", ["-"] * 3)
    return (
        f"{loaded}; run summary of asterisk/queue_log: {rows} rows loaded, {quarantined} "
        f"quarantined, {skipped} files skipped{failures(output)}",
        str(code),
    )


@scenario("10. Two `callshrink run` at once on the same fresh database (started 1 s apart)")
def two_runs(s: Scenario) -> tuple[str, str]:
    first, first_log = s.start(*s.run_args())
    time.sleep(1)
    second, second_log = s.start(*s.run_args())
    codes = first.wait(), second.wait()
    outputs = first_log.read_text(), second_log.read_text()
    waited = [n for n, text in enumerate(outputs, 1) if "another run is building" in text]
    shares = [
        f"run {n} loaded {sum(f[0] for f in raw_summary(text).values())} rows and skipped "
        f"{sum(f[2] for f in raw_summary(text).values())} files as already loaded"
        for n, text in enumerate(outputs, 1)
    ]
    cdr_lines = sum(physical_lines(p) for p in s.landing.glob("pbx/*/cdr/*.csv"))
    raw_cdr = (
        s.value("select count(*) from raw.asterisk_cdr") if s.exists("raw.asterisk_cdr") else 0
    )
    return (
        f"'another run is building this warehouse' in the output of run "
        f"{' and '.join(map(str, waited)) or 'neither'}; raw.asterisk_cdr {raw_cdr} rows for "
        f"{cdr_lines} CDR lines; {'; '.join(shares)}; {marts(s)}"
        + "".join(
            f"; run {n}{failures(text)}" for n, text in enumerate(outputs, 1) if failures(text)
        ),
        f"run 1: {codes[0]}; run 2: {codes[1]}",
    )


# --- main --------------------------------------------------------------------------------------


def numbers(text: str) -> list[int]:
    chosen = sorted({int(n) for n in text.split(",")})
    if not all(1 <= n <= len(SCENARIOS) for n in chosen):
        raise argparse.ArgumentTypeError(f"scenarios are numbered 1 to {len(SCENARIOS)}")
    return chosen


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__.split("\n\n")[0],
        epilog="scenarios:\n" + "\n".join(f"  {title}" for title, _ in SCENARIOS),
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument(
        "--only", type=numbers, metavar="N,M", help="run only these scenarios, e.g. 1,3,10"
    )
    parser.add_argument("--keep", action="store_true", help="keep the work folder (and its logs)")
    parser.add_argument(
        "--server",
        help="URL of a role that may create databases (default: the warehouse's, "
        "CALLSHRINK_DATABASE_URL or the private server)",
    )
    args = parser.parse_args(argv)
    server = args.server or db.database_url()

    started = time.monotonic()
    work = Path(tempfile.mkdtemp(prefix="callshrink_deliveries_"))
    rows = []
    try:
        print(f"generating the demo data in {work} ...", file=sys.stderr)
        generate(work / "demo", locations=4, days=10, seed=11)
        for number in args.only or range(1, len(SCENARIOS) + 1):
            title, measure = SCENARIOS[number - 1]
            print(f"[{number}] {title} ...", file=sys.stderr, flush=True)
            clock = time.monotonic()
            s = Scenario(number, work / "demo", work, server)
            try:
                rows.append((title, *measure(s)))
            finally:
                s.drop()
            print(f"[{number}] done in {time.monotonic() - clock:.0f} s", file=sys.stderr)
    finally:
        if args.keep:
            print(f"work folder kept: {work}", file=sys.stderr)
        else:
            shutil.rmtree(work, ignore_errors=True)

    print("| scenario | what happened (measured) | exit code |")
    print("|---|---|---|")
    for row in rows:
        print("| " + " | ".join(cell(text) for text in row) + " |")
    print(f"\ntotal: {time.monotonic() - started:.0f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
