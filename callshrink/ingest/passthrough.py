"""The bulk path: a file goes to COPY as it is, and Postgres parses and types it.

Parsing every field in Python runs at a third to a fifth of COPY's speed, so two kinds of
table load their files' bytes by COPY unchanged:
- tables whose columns the server can type (`RawTable.server_typed`, the Asterisk CDR): the
  file streams to `COPY ... (format csv)`, and the server checks what the careful path checks:
  column types (timestamps, integers), required fields (NOT NULL and non-blank CHECKs) and
  the number of fields;
- records-only tables (JSON lines, records.py): each line goes whole into ``_record`` (jsonb,
  so the server parses it), and then one query over the file's rows checks their fields
  (records.check_sql); a CallRail page on one line is parsed, stored and checked by one
  statement.
Lineage comes from column defaults: session settings for the load, file and PBX, a per-table
sequence (reset for each file) for line numbers.

When the server refuses a file (one bad line is enough: a NUL byte, bytes that are not UTF-8,
a field of the wrong type or count, a record the check does not accept), the attempt is
rolled back to its savepoint and the caller loads the file on the careful path, which names
the bad lines and quarantines them.
The two paths store identical rows: FORCE_NULL / FORCE_NOT_NULL make the server read empty
fields as the careful path does (typed: null; text: ''), a UTF-8 byte-order mark at the start
of the file is dropped on both, and a PBX that writes another encoding (pbx_systems.encoding)
has its bytes decoded by Python's codec on both, here chunk by chunk before COPY. A file of a
PBX whose encoding is empty goes to COPY as it is: the server accepts only UTF-8, and a file
with a line that is not (Latin-1, say) takes the careful path, which reads that line as
Latin-1 and counts it.
"""

from __future__ import annotations

import codecs
import re
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import psycopg
from psycopg import sql

from callshrink.ingest import records
from callshrink.ingest.readers import BOM, CALLS_ARRAY, announced_calls
from callshrink.ingest.tables import RAW_SCHEMA, Format, Kind, RawTable

CHUNK_BYTES = 1 << 20
SETTINGS = {  # lineage column -> the session setting its default reads
    "_load_id": "callshrink.load_id",
    "_source_file": "callshrink.source_file",
    "_file_sha256": "callshrink.file_sha256",
    "pbx_id": "callshrink.pbx_id",
}


# _loaded_at is the time a file's transaction took its table's loading lock (set by the
# loader, _load_file), not the transaction's start: files of a table take the lock one at a
# time, so a file committed later always has a later _loaded_at, and incremental staging,
# which reads the rows loaded after the newest it has staged, cannot miss a file that started
# first and committed last. Rows inserted another way get the transaction's start.
LOADED_AT_SETTING = "callshrink.loaded_at"
LOADED_AT_DEFAULT = sql.SQL(
    "coalesce(nullif(current_setting({}, true), '')::timestamptz, now())"
).format(sql.Literal(LOADED_AT_SETTING))


def line_number_sequence(table: RawTable) -> str:
    return f"{table.identifier}__line_number"


def copy_statement(table: RawTable) -> sql.Composed:
    if table.records_only:  # each line one field: no byte of JSON text is this quote or delimiter
        return sql.SQL(
            "copy {} (_record) from stdin with (format csv, quote e'\\x01', delimiter e'\\x02')"
        ).format(sql.Identifier(RAW_SCHEMA, table.storage))
    fields = [spec.column for spec in table.fields]
    text = [spec.column for spec in table.fields if spec.kind is Kind.TEXT]
    typed = [spec.column for spec in table.fields if spec.kind is not Kind.TEXT]

    def names(columns: list[str]) -> sql.Composed:
        return sql.SQL(", ").join(map(sql.Identifier, columns))

    return sql.SQL(
        "copy {}.{} ({}) from stdin with (format csv, force_null ({}), force_not_null ({}))"
    ).format(
        sql.Identifier(RAW_SCHEMA),
        sql.Identifier(table.identifier),
        names(fields),
        names(typed),
        names(text),
    )


_BLANK_LINE = re.compile(rb"\n\r?\n")  # searched in tail + chunk; tail starts as "\n"


def _chunks(path: Path) -> Iterator[bytes]:
    with path.open("rb") as handle:
        yield from iter(lambda: handle.read(CHUNK_BYTES), b"")


def _without_bom(chunks: Iterator[bytes]) -> Iterator[bytes]:
    """The file's chunks without a UTF-8 byte-order mark at its start (COPY would keep it in
    the first field)."""
    first = True
    for chunk in chunks:
        if first:
            first = False
            chunk = chunk.removeprefix(BOM)
        yield chunk


class _ToUtf8:
    """Re-encodes a file's chunks from its encoding to UTF-8 (the connection's encoding);
    UnicodeDecodeError for bytes that are not valid in it, which sends the file to the
    careful path."""

    def __init__(self, codec: str) -> None:
        self.decoder = codecs.getincrementaldecoder(codec)("strict")

    def __call__(self, chunk: bytes, final: bool = False) -> bytes:
        return self.decoder.decode(chunk, final).encode("utf-8")


class _LineCounter:
    """Counts a file's lines as its chunks stream by; refuses blank lines, which would break
    the numbering (the careful path skips them, COPY would not)."""

    def __init__(self) -> None:
        self.lines, self.tail, self.last = 0, b"\n", b""

    def add(self, chunk: bytes) -> None:
        if _BLANK_LINE.search(self.tail + chunk):
            raise _Refused
        self.lines += chunk.count(b"\n")
        self.tail, self.last = chunk[-2:], chunk[-1:]

    def total(self) -> int:
        return self.lines + (1 if self.last not in (b"", b"\n") else 0)


class _Refused(Exception):
    """COPY read a different number of rows than the file has lines."""


def copy_file(
    conn: psycopg.Connection,
    table: RawTable,
    path: Path,
    *,
    load_id: uuid.UUID,
    source_file: str,
    file_sha256: str,
    pbx_id: str | None,
    codec: str | None = None,
) -> int | None:
    """COPY the file's bytes; return the rows loaded, or None when the server refused it.
    ``codec``: the file's encoding when it is not UTF-8 (the bytes are decoded with it)."""
    if table.format is Format.CALLRAIL and path.suffix.lower() == ".csv":
        return None  # CSV with a header: the careful path maps its columns
    lineage = {
        "_load_id": str(load_id),
        "_source_file": source_file,
        "_file_sha256": file_sha256,
        "pbx_id": pbx_id or "",
    }
    try:
        with conn.transaction(), conn.cursor() as cursor:
            # line numbers restart at 1 for each file; the table's advisory lock, held by the
            # caller until commit, keeps other loaders off this sequence meanwhile
            sequence = f"{RAW_SCHEMA}.{line_number_sequence(table)}"
            settings = sql.SQL(", ").join(
                sql.SQL("set_config({}, {}, true)").format(
                    sql.Literal(SETTINGS[column]), sql.Literal(value)
                )
                for column, value in lineage.items()
            )
            cursor.execute(
                sql.SQL("select {}, setval({}::regclass, 1, false)").format(
                    settings, sql.Literal(sequence)
                )
            )
            page = _one_line_page(table, path)
            if page is not None:
                loaded = _insert_page(cursor, table, page)
            else:
                loaded = _copy_lines(cursor, table, path, codec)
                if table.records_only and _any_refused(cursor, table, source_file):
                    raise _Refused
    except (psycopg.DataError, psycopg.IntegrityError, UnicodeDecodeError, _Refused):
        return None
    return loaded


def _copy_lines(cursor: psycopg.Cursor, table: RawTable, path: Path, codec: str | None) -> int:
    """COPY the file, a row per line; the rows, or _Refused when the server read a different
    number of rows than the file has lines."""
    counter = _LineCounter()
    utf8 = None if codec is None or codecs.lookup(codec).name == "utf-8" else _ToUtf8(codec)
    with cursor.copy(copy_statement(table)) as copy:
        for chunk in _without_bom(_chunks(path)):
            counter.add(chunk)  # while the server parses the previous chunk
            copy.write(chunk if utf8 is None else utf8(chunk))
        if utf8 is not None:
            copy.write(utf8(b"", final=True))
    if cursor.rowcount != counter.total():
        raise _Refused
    return counter.total()


@dataclass(frozen=True)
class _Page:
    text: str
    announced: int | None  # the calls its figures announce


PAGE_BYTES = 64 << 20  # a larger file is not one API page: it goes line by line


def _one_line_page(table: RawTable, path: Path) -> _Page | None:
    """A CallRail API page written on one line (as the API returns it), else None. The
    careful path gives every call of such a page line 1 and the page's figures announce its
    calls, so the server can explode it alone. A page over many lines, and JSON lines, are
    not: their calls are numbered by the line each starts on."""
    size = path.stat().st_size
    if table.format is not Format.CALLRAIL or size > PAGE_BYTES:
        return None
    with path.open("rb") as handle:  # the first chunk tells a file of lines, unread beyond
        head = handle.read(CHUNK_BYTES)
        newline = head.find(b"\n")
        if 0 <= newline < size - 1 or not head.removeprefix(BOM).lstrip().startswith(b"{"):
            return None  # a line ends before the file's last byte (or no page starts it)
        data = (head + handle.read()).removeprefix(BOM)  # the rest, the head not read again
    if b"\n" in data.rstrip(b"\r\n"):  # a first line longer than the chunk
        return None
    text = data.decode("utf-8")  # not UTF-8: UnicodeDecodeError, the careful path
    match = CALLS_ARRAY.search(text)
    if match is None:
        return None
    return _Page(text, announced_calls(text[: match.start()]))


def _insert_page(cursor: psycopg.Cursor, table: RawTable, page: _Page) -> int:
    """Store the page's calls, each at line 1, and check them as they are stored; the rows, or
    _Refused when a call is one the careful path would not load as it is, or when they are
    not the calls the page announces (the careful path then says which are missing).
    Postgres refuses a page that is not JSON or whose ``calls`` is not an array."""
    insert = sql.SQL(
        "with inserted as (insert into {} (_record, _line_number) select call, 1 "
        "from jsonb_array_elements(coalesce(%s::jsonb -> 'calls', 'null')) as call "
        "returning _record) "
    ).format(sql.Identifier(RAW_SCHEMA, table.storage))
    # the page as a parameter: as a literal in the statement it cost half as much again
    cursor.execute(insert + records.check_sql(table, sql.Identifier("inserted")), (page.text,))
    rows, refused = cursor.fetchone()
    if refused or (page.announced is not None and rows != page.announced):
        raise _Refused
    return rows


def _any_refused(cursor: psycopg.Cursor, table: RawTable, source_file: str) -> bool:
    """Whether a record the file's COPY stored is one the careful path would not load as it
    is (its rows: this file's, at this load's ``_loaded_at``, which its BRIN index finds)."""
    cursor.execute(sql.SQL("select {}").format(LOADED_AT_DEFAULT))
    (loaded_at,) = cursor.fetchone()
    rows = sql.SQL("stored._loaded_at = {} and stored._source_file = {}").format(
        sql.Literal(loaded_at), sql.Literal(source_file)
    )
    cursor.execute(records.check_sql(table, sql.Identifier(RAW_SCHEMA, table.storage), rows))
    return cursor.fetchone()[1] > 0
