"""Readers: turn one landing file into numbered records, or numbered problems.

A reader never raises for bad content. It yields ``Line`` items: the 1-based line number, the
raw text (kept for quarantine), and either the parsed record or the reason it could not be read.

How bytes become lines, for every format:

- **Lines are physical lines**: a file is split on ``\\n`` only (a ``\\r`` before it is dropped),
  never on U+2028, U+0085, form feeds or the other separators ``str.splitlines`` knows, so
  line numbers match what ``sed -n 12p`` shows. Blank lines are skipped and not counted.
- **A UTF-8 byte-order mark** at the start of a file is dropped, whatever the format.
- **Decoding** is per line and never silent (``Decoding``): JSON and CallRail CSV are UTF-8
  by their format, and a line that is not is quarantined with the offending byte and its
  offset. A PBX's files are decoded with its ``pbx_systems.encoding``; when that is empty,
  as UTF-8, and a line that is not valid UTF-8 is decoded as Latin-1 and counted
  (``ReadStats.decoded_latin1``).
- **What Postgres cannot store is refused here, by line**: a NUL byte, a JSON ``\\u0000`` or
  unpaired surrogate escape, ``NaN``/``Infinity``, a number beyond Postgres' numeric range.
  Raw control characters inside JSON strings are accepted (and escaped in ``_record``).
"""

from __future__ import annotations

import codecs
import csv
import io
import json
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import IO, Any, NamedTuple

from callshrink.ingest.tables import Format, Kind, RawTable

CDR_FIELD_COUNT = 21
QUEUE_LOG_MIN_FIELDS = 5
QUEUE_LOG_MAX_FIELDS = 10
BOM = b"\xef\xbb\xbf"
_CANNOT_STORE = ", which Postgres cannot store"


class Line(NamedTuple):  # a tuple, not a dataclass: millions are made per load
    number: int
    text: str
    record: dict[str, Any] | list[str] | None
    problem: str | None = None
    # the record's JSON text as delivered, fit for jsonb (kept as _record verbatim); None: the
    # record is serialised again
    json_text: str | None = None


@dataclass
class ReadStats:
    """What a reader noticed besides its lines, for the file's load result."""

    decoded_latin1: int = 0  # lines that were not valid UTF-8 and were read as Latin-1
    records_unreadable: int = 0  # records the file holds or announces that could not be read
    notes: list[str] = field(default_factory=list)  # for the person running the load


# --- decoding --------------------------------------------------------------------------------


@dataclass(frozen=True)
class Decoding:
    """How a file's bytes become text. ``latin1_fallback``: a line that is not valid in
    ``codec`` is read as Latin-1 (and counted) instead of quarantined."""

    codec: str = "utf-8"
    latin1_fallback: bool = False
    # JSON: undecodable bytes become surrogates (surrogateescape) for the JSON reader to
    # refuse by record, naming their offset, so one bad byte inside a page costs one call
    escape_invalid: bool = False

    @property
    def label(self) -> str:
        return "UTF-8" if self.is_utf8 else self.codec

    @property
    def is_utf8(self) -> bool:
        return codecs.lookup(self.codec).name == "utf-8"


UTF8 = Decoding()  # CSV: UTF-8 by its format
JSON_UTF8 = Decoding(escape_invalid=True)  # JSON: UTF-8 by its format
UTF8_OR_LATIN1 = Decoding(latin1_fallback=True)  # a PBX whose pbx_systems.encoding is empty

_ASCII_PROBE = '\n\r|,"09azAZ {}:'


def decoding_for(encoding: str | None) -> Decoding:
    """The decoding of a PBX's files from its ``pbx_systems.encoding`` (empty: UTF-8, else
    Latin-1 for a line that is not UTF-8). ValueError for a name Python does not know, or an
    encoding whose bytes for ASCII differ from ASCII (UTF-16: lines could not be split)."""
    name = (encoding or "").strip()
    if not name:
        return UTF8_OR_LATIN1
    try:
        codec = codecs.lookup(name).name
        ascii_compatible = (
            _ASCII_PROBE.encode(codec) == _ASCII_PROBE.encode("ascii")
            and _ASCII_PROBE.encode("ascii").decode(codec) == _ASCII_PROBE
        )
    except (LookupError, TypeError, UnicodeError):
        raise ValueError(f"{name!r} is not an encoding Python knows") from None
    if not ascii_compatible:
        raise ValueError(
            f"{name!r} does not write ASCII as ASCII (UTF-16 or UTF-32?): lines cannot be split"
        )
    return Decoding(codec)


def _physical_lines(handle: IO[bytes]) -> Iterator[tuple[int, bytes]]:
    """(number, bytes without the line end) per line split on b"\\n"; a \\r before it is
    kept (CSV needs it inside quoted fields), a BOM at the start of the file is not."""
    for number, raw in enumerate(handle, start=1):
        if number == 1 and raw.startswith(BOM):
            raw = raw[len(BOM) :]
        yield number, raw[:-1] if raw.endswith(b"\n") else raw


def _decoded(raw: bytes, decoding: Decoding, stats: ReadStats) -> tuple[str, str | None]:
    """The line as text, and None or the reason it cannot be read (then the text shows the
    bytes it could not decode as \\xNN)."""
    nul = raw.find(b"\x00")
    if nul >= 0:
        text = raw.decode(decoding.codec, "backslashreplace").replace("\x00", "\\x00")
        return text, f"a NUL byte (0x00) at byte offset {nul} of the line{_CANNOT_STORE}"
    try:
        return raw.decode(decoding.codec), None
    except UnicodeDecodeError as exc:
        if decoding.escape_invalid:
            return raw.decode(decoding.codec, "surrogateescape"), None
        if decoding.latin1_fallback:
            stats.decoded_latin1 += 1
            return raw.decode("latin-1"), None
        return raw.decode(decoding.codec, "backslashreplace"), (
            f"not valid {decoding.label}: byte 0x{raw[exc.start]:02X} at byte offset "
            f"{exc.start} of the line"
        )


def _text_lines(
    handle: IO[bytes], decoding: Decoding, stats: ReadStats
) -> Iterator[tuple[int, str, str | None]]:
    """(number, text, problem) per non-blank physical line, line end and \\r removed."""
    for number, raw in _physical_lines(handle):
        if raw.endswith(b"\r"):
            raw = raw[:-1]
        text, problem = _decoded(raw, decoding, stats)
        if problem is None and not text.strip():
            continue
        yield number, text, problem


# --- files -------------------------------------------------------------------------------------


def read_file(
    table: RawTable,
    path: Path,
    decoding: Decoding = UTF8_OR_LATIN1,
    stats: ReadStats | None = None,
) -> Iterator[Line]:
    """The file's lines. ``decoding`` applies to the PBX's files (``decoding_for`` its
    pbx_systems.encoding); JSON and CSV are UTF-8. ``stats`` collects what else it notices."""
    stats = stats if stats is not None else ReadStats()
    if table.format is Format.ASTERISK_CDR:
        return _with_file(path, lambda handle: _read_cdr(_text_lines(handle, decoding, stats)))
    if table.format is Format.ASTERISK_QUEUE_LOG:
        return _with_file(
            path, lambda handle: _read_queue_log(_text_lines(handle, decoding, stats))
        )
    if table.format is Format.CALLRAIL:
        if path.suffix.lower() == ".csv":
            lists = frozenset(f.column for f in table.fields if f.kind is Kind.JSON)
            return _with_file(path, lambda handle: _read_csv_with_header(handle, stats, lists))
        return _read_callrail_json(path.read_bytes(), stats)
    return _with_file(
        path, lambda handle: _read_json_lines(_text_lines(handle, JSON_UTF8, stats), stats)
    )


def _with_file(path: Path, read) -> Iterator[Line]:
    with path.open("rb") as handle:
        yield from read(handle)


class _OneLine:
    """Feeds one line at a time to a single csv.reader (a reader per line is twice as slow)."""

    line = ""

    def __iter__(self) -> _OneLine:
        return self

    def __next__(self) -> str:
        return self.line


def _read_cdr(lines: Iterable[tuple[int, str, str | None]]) -> Iterator[Line]:
    feed = _OneLine()
    reader = csv.reader(feed, strict=True)
    for number, line, problem in lines:
        if problem is not None:
            yield Line(number, line, None, problem)
            continue
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


def _read_queue_log(lines: Iterable[tuple[int, str, str | None]]) -> Iterator[Line]:
    for number, line, problem in lines:
        if problem is not None:
            yield Line(number, line, None, problem)
            continue
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


def _read_csv_with_header(
    handle: IO[bytes], stats: ReadStats, lists: frozenset[str] = frozenset()
) -> Iterator[Line]:
    """CallRail CSV: a header row, then one call per row (a quoted field may span lines; the
    row then has the number of its first line). Columns are found by their header names. A
    column of ``lists`` (a JSON field) holding text that is not JSON is a comma-separated
    list, as CSV exports write one (``spam, repeat``): the record gets the list."""
    refused: list[Line] = []  # lines that could not be decoded, not given to the CSV reader
    record_lines: list[tuple[int, str]] = []  # the physical lines of the row being read

    def feed() -> Iterator[str]:
        for number, raw in _physical_lines(handle):
            text, problem = _decoded(raw, UTF8, stats)
            if problem is not None:
                refused.append(Line(number, text.removesuffix("\r"), None, problem))
                continue
            record_lines.append((number, text.removesuffix("\r")))
            yield text + "\n"  # a \r before it stays: CSV keeps \r\n inside quoted fields

    rows = csv.reader(feed(), strict=True)
    header: list[str] | None = None
    while True:
        record_lines.clear()
        error: csv.Error | None = None
        try:
            row = next(rows)
        except StopIteration:
            yield from refused
            return
        except csv.Error as exc:
            row, error = [], exc
        yield from refused
        refused.clear()
        if not record_lines:
            continue
        number = record_lines[0][0]
        raw = "\n".join(text for _, text in record_lines)
        if error is not None:
            yield Line(number, raw, None, f"not a valid CSV line: {error}")
            continue
        if not any(cell.strip() for cell in row):
            continue
        if header is None:
            header = [name.strip() for name in row]
            continue
        if len(row) != len(header):
            reason = f"expected {len(header)} fields as in the header, found {len(row)}"
            yield Line(number, raw, None, reason)
            continue
        yield Line(number, raw, _with_lists(dict(zip(header, row, strict=True)), lists))


def _with_lists(record: dict[str, str], lists: frozenset[str]) -> dict[str, Any]:
    for column in lists & record.keys():
        text = record[column]
        if text.strip() and not _parses(text):
            record[column] = [part.strip() for part in text.split(",") if part.strip()]
    return record


# --- JSON -------------------------------------------------------------------------------------


class _Unstorable:
    """A JSON value Python reads but Postgres does not (NaN, a number beyond numeric's range);
    the parser puts one in the record, and the line is refused naming the field."""

    def __init__(self, why: str) -> None:
        self.why = why


# numeric's range: 131072 digits before the point, 16383 after
_MIN_EXPONENT, _MAX_EXPONENT = -16_000, 130_000


# Set by the parser hooks when the text parsed last holds an _Unstorable (reset before each
# parse): the record then needs a closer look, found without searching its text again.
_parsed = {"unstorable": False}


def _number(text: str) -> Decimal | _Unstorable:
    value = Decimal(text)
    if not _MIN_EXPONENT < value.adjusted() < _MAX_EXPONENT:
        _parsed["unstorable"] = True
        return _Unstorable(f"the number {text[:24]} is beyond the range Postgres stores")
    return value


def _constant(name: str) -> _Unstorable:
    _parsed["unstorable"] = True
    return _Unstorable(f"{name} is not a JSON value")


def _decode(text: str, pos: int) -> tuple[Any, int]:
    """_DECODER.raw_decode, noting in _parsed whether the value holds an _Unstorable."""
    _parsed["unstorable"] = False
    return _DECODER.raw_decode(text, pos)


_DECODER = json.JSONDecoder(parse_float=_number, parse_constant=_constant, strict=False)

# What surrogateescape makes of bytes that are not UTF-8 (JSON text is decoded that way, so a
# bad byte inside one call of a page does not cost the others).
INVALID_UTF8 = re.compile("[\udc80-\udcff]")
# What in a parsed JSON text needs a closer look (a miss costs nothing but that look): what
# the parser hooks noted (NaN, Infinity, a number beyond numeric's range), a control character
# other than the whitespace JSON allows between tokens, an invalid byte, a \u0000 or surrogate
# escape, a tab or line end inside a string. Cheap searches first: most records have none.
_CONTROL_OR_BAD_BYTE = re.compile(r"[\x00-\x1f\udc80-\udcff]")
_UNSTORABLE_CHARACTER = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\udc80-\udcff]")
_ESCAPE = re.compile(r"\\u(?:0000|[dD][89a-fA-F])")
_WHITESPACE_CONTROL = re.compile(r"[\t\n\r]")
_JSON_STRING = re.compile(r'"(?:[^"\\]|\\.)*"', re.DOTALL)
_CONTROL = re.compile(r"[\x00-\x1f]")


def _needs_closer_look(text: str) -> bool:
    """Whether the JSON text parsed last may hold what Postgres cannot store (the strings are
    found from the left, so each match starts at an opening quote)."""
    if _parsed["unstorable"] or ("\\u" in text and _ESCAPE.search(text)):
        return True
    if not _CONTROL_OR_BAD_BYTE.search(text):
        return False
    return bool(
        _UNSTORABLE_CHARACTER.search(text)
        or any(_WHITESPACE_CONTROL.search(string) for string in _JSON_STRING.findall(text))
    )


_WHITESPACE = re.compile(r"[ \t\r\n]*")


def _loads(text: str) -> Any:
    """json.loads with the parser hooks; raises ValueError (JSONDecodeError among them)."""
    value, end = _decode(text, _WHITESPACE.match(text).end())
    end = _WHITESPACE.match(text, end).end()
    if end != len(text):
        raise json.JSONDecodeError("Extra data", text, end)
    return value


def _error_position(exc: ValueError, text: str) -> int:
    return exc.pos if isinstance(exc, json.JSONDecodeError) else len(text)


def _json_problem(exc: ValueError) -> str:
    if isinstance(exc, json.JSONDecodeError):
        return f"invalid JSON: {exc.msg} at column {exc.colno}"
    return f"invalid JSON: {exc}"


def _invalid_utf8(
    text: str, start: int = 0, end: int | None = None, of: str = "line"
) -> str | None:
    """The reason text[start:end] cannot be read, when it holds bytes that are not UTF-8."""
    found = INVALID_UTF8.search(text, start, len(text) if end is None else end)
    if found is None:
        return None
    offset = len(text[: found.start()].encode("utf-8", "surrogateescape"))
    byte = ord(found.group()) - 0xDC00
    return f"not valid UTF-8: byte 0x{byte:02X} at byte offset {offset} of the {of}"


def _escape_controls(text: str) -> str:
    """The JSON text with raw control characters inside its strings written as \\u00XX
    escapes: Python's parser accepts them there (strict=False), Postgres' json does not."""

    def escape(string: re.Match[str]) -> str:
        return _CONTROL.sub(lambda c: f"\\u{ord(c.group()):04x}", string.group())

    return _JSON_STRING.sub(escape, text)


def _unstorable(value: Any, where: str = "") -> str | None:
    """Why the record cannot be stored (naming the field), or None."""
    if isinstance(value, str):
        if value.isascii():
            if "\x00" in value:
                return f"field '{where}' contains a NUL character (\\u0000){_CANNOT_STORE}"
            return None
        try:
            value.encode("utf-8")
        except UnicodeEncodeError as exc:
            surrogate = f"\\u{ord(value[exc.start]):04x}"
            return f"field '{where}' contains an unpaired surrogate {surrogate}{_CANNOT_STORE}"
        return None
    if isinstance(value, dict):
        for key, item in value.items():
            path = f"{where}.{key}" if where else str(key)
            problem = _unstorable(key, f"{path} (a key)") or _unstorable(item, path)
            if problem:
                return problem
        return None
    if isinstance(value, list):
        for index, item in enumerate(value):
            problem = _unstorable(item, f"{where}[{index}]")
            if problem:
                return problem
        return None
    if isinstance(value, _Unstorable):
        return f"field '{where}': {value.why}"
    return None


def _record_line(
    number: int, text: str, record: Any, not_object: str, bad_bytes: str | None = None
) -> Line:
    """The Line of a parsed JSON record, or of the reason it cannot be stored. ``bad_bytes``:
    why its text is not UTF-8 (already found by the caller, who knows the offset's base)."""
    if bad_bytes:
        return Line(number, text, None, bad_bytes)
    if not isinstance(record, dict):
        return Line(number, text, None, not_object)
    if not _needs_closer_look(text):
        return Line(number, text, record, json_text=text)
    problem = _unstorable(record)
    if problem:
        return Line(number, text, None, problem)
    return Line(number, text, record, json_text=_escape_controls(text))


def _read_json_lines(
    lines: Iterable[tuple[int, str, str | None]],
    stats: ReadStats,
    pages: bool = False,
) -> Iterator[Line]:
    """One JSON object per line. pages: a line may also be a whole CallRail API page, whose
    calls are read one by one (a page line cut short keeps its complete calls)."""
    for number, line, problem in lines:
        if problem is not None:
            yield Line(number, line, None, problem)
            continue
        try:
            record = _loads(line)
        except ValueError as exc:
            match = CALLS_ARRAY.search(line) if pages else None
            if match and _error_position(exc, line) >= match.end():
                yield from _page_lines(line, match, stats, line_number=number)
                continue
            yield Line(number, line, None, _invalid_utf8(line) or _json_problem(exc))
            continue
        calls = record.get("calls") if pages and isinstance(record, dict) else None
        match = CALLS_ARRAY.search(line) if isinstance(calls, list) else None
        if match:
            yield from _whole_page_lines(line, match, calls, stats, line_number=number)
            continue
        not_object = "a JSON line must be an object"
        yield _record_line(number, line, record, not_object, _invalid_utf8(line))


def _read_callrail_json(data: bytes, stats: ReadStats) -> Iterator[Line]:
    """An API page (one JSON document, over one line or many), or JSON lines where a line
    may also be a whole page."""
    if data.startswith(BOM):
        data = data[len(BOM) :]
    text = data.decode("utf-8", "surrogateescape")
    first = next((line for line in text.split("\n", 50) if line.strip()), "")
    if first.lstrip().startswith("{") and not _parses(first):
        match = CALLS_ARRAY.search(text)
        try:
            page = _loads(text)
        except ValueError as exc:
            if match and _error_position(exc, text) >= match.end():  # broken in its calls
                yield from _page_lines(text, match, stats)
                return
        else:
            calls = page.get("calls") if isinstance(page, dict) else None
            if not isinstance(calls, list) or not match:
                yield Line(1, text, None, 'a CallRail page must have a "calls" array')
                return
            yield from _whole_page_lines(text, match, calls, stats)
            return
    lines = _text_lines(io.BytesIO(data), JSON_UTF8, stats)
    yield from _read_json_lines(lines, stats, pages=True)


def _parses(text: str) -> bool:
    try:
        _loads(text)
    except ValueError:
        return False
    return True


CALLS_ARRAY = re.compile(r'"calls"\s*:\s*\[')
_PAGE_FIGURE = re.compile(r'"(page|per_page|total_pages|total_records)"\s*:\s*(\d+)')


def announced_calls(header: str) -> int | None:
    """How many calls the page says it holds, from the figures before its calls array."""
    figures = {name: int(value) for name, value in _PAGE_FIGURE.findall(header)}
    try:
        page, per_page = figures["page"], figures["per_page"]
        total_pages, total = figures["total_pages"], figures["total_records"]
    except KeyError:
        return None
    if not 1 <= page <= total_pages or per_page < 1:
        return None
    count = per_page if page < total_pages else total - per_page * (total_pages - 1)
    return count if 0 <= count <= per_page else None


def _whole_page_lines(
    text: str,
    match: re.Match[str],
    calls: list,
    stats: ReadStats,
    line_number: int | None = None,
) -> Iterator[Line]:
    """The calls of a page that parsed whole. Each keeps the line its text starts on; when
    the array found is not the page's own (its elements differ), they keep their index."""
    found = ReadStats()
    lines = list(_page_lines(text, match, found, line_number))
    if len(lines) == len(calls):
        stats.records_unreadable += found.records_unreadable
        stats.notes += found.notes
        yield from lines
        return
    for index, call in enumerate(calls, start=1):
        where = index if line_number is None else line_number
        kept = "" if line_number is None else text
        if not isinstance(call, dict):
            yield Line(where, kept, None, "a call must be a JSON object")
            continue
        problem = _unstorable(call)
        yield Line(where, kept, None, problem) if problem else Line(where, kept, call)


def _page_lines(
    text: str,
    match: re.Match[str],
    stats: ReadStats,
    line_number: int | None = None,
) -> Iterator[Line]:
    """A Line per element of a page's "calls" array, with the line its text starts on
    (line_number: the page is one line of a file, and all its calls share it).

    The elements are read one by one, so a page cut short (or broken) keeps every complete
    call before the break. The rest of the page is one quarantined entry at the line where
    the broken element starts, and the calls that could not be read are counted
    (``stats.records_unreadable``): the ones the page's own figures announce that are
    missing, else the broken one."""
    announced = announced_calls(text[: match.start()])
    of = "file" if line_number is None else "line"
    pos, line, counted_to = match.end(), 1, 0
    read = 0
    size = len(text)
    while True:
        while pos < size and text[pos] in " \t\r\n,":
            pos += 1
        line += text.count("\n", counted_to, pos)
        counted_to = pos
        where = line if line_number is None else line_number
        if pos < size and text[pos] == "]":
            break
        try:
            call, end = _decode(text, pos)
        except ValueError as exc:
            yield _broken_tail(text, pos, where, exc, read, announced, stats, line_number)
            return
        read += 1
        bad_bytes = _invalid_utf8(text, pos, end, of)
        yield _record_line(where, text[pos:end], call, "a call must be a JSON object", bad_bytes)
        pos = end
    rest = text[pos + 1 :]
    if not _closes_page(rest):
        stats.notes.append(f"the page is not valid JSON after its calls array (line {where})")
        reason = f"the page is not valid JSON after its calls array; its {read} calls were read"
        yield Line(where, rest, None, reason)
    if announced is not None and read < announced:
        stats.records_unreadable += announced - read
        stats.notes.append(f"the page holds {read} calls of the {announced} it announces")


def _broken_tail(
    text: str,
    pos: int,
    where: int,
    exc: ValueError,
    read: int,
    announced: int | None,
    stats: ReadStats,
    line_number: int | None,
) -> Line:
    """The quarantine entry for the rest of a page from an element that cannot be read."""
    tail = text[pos:]
    if not tail.strip():
        reason = "the page ends before its calls array closes: it was cut short"
    elif isinstance(exc, json.JSONDecodeError):
        at = f"column {exc.colno}" if line_number else f"line {exc.lineno}, column {exc.colno}"
        reason = f"the page is cut short or broken here: {exc.msg} ({at})"
    else:
        reason = f"the page is cut short or broken here: {exc}"
    lost = max(1 if tail.strip() else 0, (announced or 0) - read)
    stats.records_unreadable += lost
    stats.notes.append(
        f"the page is cut short at line {where}: {read} complete calls read, {lost} could not be"
        + (f" (it announces {announced})" if announced is not None else "")
    )
    return Line(where, tail, None, f"{reason}; the {read} calls before it were read")


def _closes_page(rest: str) -> bool:
    """True when what follows a page's calls array ends the page: more members, then }."""
    try:
        _loads('{"calls": []' + rest)
    except ValueError:
        return False
    return True
