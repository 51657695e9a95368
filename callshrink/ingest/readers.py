"""Readers: turn one landing file into numbered records, or numbered problems.

A reader never raises for bad content. It yields ``Line`` items: the 1-based line number, the
raw text (kept for quarantine), and either the parsed record or the reason it could not be read.
"""

from __future__ import annotations

import csv
import io
import json
import re
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any, NamedTuple

from callshrink.ingest.tables import Format, RawTable

CDR_FIELD_COUNT = 21
QUEUE_LOG_MIN_FIELDS = 5
QUEUE_LOG_MAX_FIELDS = 10


class Line(NamedTuple):  # a tuple, not a dataclass: millions are made per load
    number: int
    text: str
    record: dict[str, Any] | list[str] | None
    problem: str | None = None
    text_is_json: bool = False  # the raw text is the record's JSON (kept as _record verbatim)


def read_file(table: RawTable, path: Path) -> Iterator[Line]:
    text = path.read_text(encoding="utf-8", errors="replace")
    if table.format is Format.ASTERISK_CDR:
        return _read_cdr(text)
    if table.format is Format.ASTERISK_QUEUE_LOG:
        return _read_queue_log(text)
    if table.format is Format.CALLRAIL:
        if path.suffix.lower() == ".csv":
            return _read_csv_with_header(text)
        if _is_single_document(text):
            return _read_callrail_page(text)
        return _expand_pages(_read_json_lines(text))
    return _read_json_lines(text)


def _lines(text: str) -> Iterator[tuple[int, str]]:
    for number, line in enumerate(text.splitlines(), start=1):
        if line.strip():
            yield number, line


class _OneLine:
    """Feeds one line at a time to a single csv.reader (a reader per line is twice as slow)."""

    line = ""

    def __iter__(self) -> _OneLine:
        return self

    def __next__(self) -> str:
        return self.line


def _read_cdr(text: str) -> Iterator[Line]:
    feed = _OneLine()
    reader = csv.reader(feed, strict=True)
    for number, line in _lines(text):
        if line.count('"') % 2:  # an open quote would make the reader swallow the next line
            yield Line(number, line, None, "not a valid CSV line: unbalanced double quotes")
            continue
        feed.line = line
        try:
            fields = next(reader)
        except csv.Error as exc:
            reader = csv.reader(feed, strict=True)
            yield Line(number, line, None, f"not a valid CSV line: {exc}")
            continue
        if len(fields) != CDR_FIELD_COUNT:
            yield Line(
                number, line, None, f"expected {CDR_FIELD_COUNT} fields, found {len(fields)}"
            )
            continue
        yield Line(number, line, fields)


def _read_queue_log(text: str) -> Iterator[Line]:
    for number, line in _lines(text):
        fields = line.split("|")
        if not QUEUE_LOG_MIN_FIELDS <= len(fields) <= QUEUE_LOG_MAX_FIELDS:
            yield Line(
                number,
                line,
                None,
                f"expected {QUEUE_LOG_MIN_FIELDS} to {QUEUE_LOG_MAX_FIELDS} '|'-separated "
                f"fields, found {len(fields)}",
            )
            continue
        yield Line(number, line, fields)


def _read_json_lines(text: str) -> Iterator[Line]:
    for number, line in _lines(text):
        try:
            record = json.loads(line, parse_float=Decimal)
        except json.JSONDecodeError as exc:
            yield Line(number, line, None, f"invalid JSON: {exc.msg} at column {exc.colno}")
            continue
        if not isinstance(record, dict):
            yield Line(number, line, None, "a JSON line must be an object")
            continue
        yield Line(number, line, record, text_is_json=True)


def _expand_pages(lines: Iterator[Line]) -> Iterator[Line]:
    """JSON lines where a line may also be a whole API page written on one line."""
    for line in lines:
        calls = line.record.get("calls") if isinstance(line.record, dict) else None
        if not isinstance(calls, list):
            yield line
            continue
        yield from _page_lines(line.text, calls, line_number=line.number)


def _read_csv_with_header(text: str) -> Iterator[Line]:
    rows = csv.reader(io.StringIO(text, newline=""), strict=True)
    try:
        header = next(rows)
    except (StopIteration, csv.Error):
        return
    raw_lines = text.splitlines()
    while True:
        try:
            row = next(rows)
        except StopIteration:
            return
        except csv.Error as exc:
            number = rows.line_num
            yield Line(number, _raw(raw_lines, number), None, f"not a valid CSV line: {exc}")
            continue
        number = rows.line_num
        if not any(cell.strip() for cell in row):
            continue
        if len(row) != len(header):
            yield Line(
                number,
                _raw(raw_lines, number),
                None,
                f"expected {len(header)} fields as in the header, found {len(row)}",
            )
            continue
        yield Line(number, _raw(raw_lines, number), dict(zip(header, row, strict=True)))


def _raw(lines: list[str], number: int) -> str:
    return lines[number - 1] if 0 < number <= len(lines) else ""


def _is_single_document(text: str) -> bool:
    """True for an API page (one JSON document over many lines), False for JSON lines."""
    first = next((line for line in text.splitlines() if line.strip()), "")
    if not first.lstrip().startswith("{"):
        return False
    try:
        json.loads(first)
    except json.JSONDecodeError:
        return True
    return False


_CALLS_ARRAY = re.compile(r'"calls"\s*:\s*\[')


def _read_callrail_page(text: str) -> Iterator[Line]:
    """A CallRail API page: {"calls": [...], "page": 1, ...}. Each call keeps its line number."""
    try:
        page = json.loads(text, parse_float=Decimal)
    except json.JSONDecodeError as exc:
        yield Line(exc.lineno, text, None, f"invalid JSON page: {exc.msg} at column {exc.colno}")
        return
    calls = page.get("calls") if isinstance(page, dict) else None
    if not isinstance(calls, list):
        yield Line(1, text, None, 'a CallRail page must have a "calls" array')
        return
    yield from _page_lines(text, calls)


def _page_lines(text: str, calls: list, line_number: int | None = None) -> Iterator[Line]:
    """A Line per call of a page. line_number: the page is one line of a file (all its calls
    share it, and a call whose text is not found keeps the page line's text)."""
    for (number, raw), call in zip(_element_positions(text, len(calls)), calls, strict=True):
        where = number if line_number is None else line_number
        kept = raw if line_number is None else raw or text
        if isinstance(call, dict):
            yield Line(where, kept, call, text_is_json=bool(raw))
        else:
            yield Line(where, kept, None, "a call must be a JSON object")


def _element_positions(text: str, count: int) -> list[tuple[int, str]]:
    """Line number and text of each element of the page's "calls" array."""
    match = _CALLS_ARRAY.search(text)
    decoder = json.JSONDecoder()
    positions: list[tuple[int, str]] = []
    pos = match.end() if match else 0
    line, counted_to = 1, 0
    for _ in range(count if match else 0):
        while text[pos] in " \t\r\n,":
            pos += 1
        _, end = decoder.raw_decode(text, pos)
        line += text.count("\n", counted_to, pos)
        counted_to = pos
        positions.append((line, text[pos:end]))
        pos = end
    if len(positions) != count:  # "calls" key not found where expected: fall back to indexes
        return [(i, "") for i in range(1, count + 1)]
    return positions
