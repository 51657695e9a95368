"""Load one raw table from the landing folder: typed checks, quarantine, manifest, lineage.

Guarantees, per file:
- lines read = rows loaded + rows quarantined, recorded in ``raw._load_files``; a line is a
  physical line (split on ``\n``), and ``_line_number`` and the quarantine name it;
- no content error fails the load: a line that cannot be read, typed or stored (bad bytes, a
  NUL, a value breaking a rule of tables.py, anything the server refuses) is quarantined with
  its file, line and reason, and the rest of the file loads;
- a file's identity is its source folder and its content (SHA-256): a file whose content was
  loaded before from the same source folder (``tracking/callrail``, ``pbx/<pbx_id>/cdr``, ...),
  under any name, loads nothing; the same bytes under another PBX's folder are that PBX's
  records and load;
- the file's rows, its quarantine rows and its manifest row commit in one transaction, so an
  error or a kill mid-file leaves the raw tables as they were, and the next run loads it again;
- a file is read only when it is new or changed: each file's path, size and modification time
  are kept with its content's hash (``raw._file_fingerprints``), and a file whose three are
  those of a file already loaded is skipped unread, so a run's time does not grow with the
  landing folder. ``reread=True`` (``callshrink run --reread-files``) hashes every file.

Order: the files of a table load in order of modification time, then path, each in its own
transaction (so each a later ``_loaded_at``). Staging keeps the row loaded last of each record
(``_loaded_at``, then ``_line_number``), so when a corrected file and its original arrive in the
same run, the newer delivery wins whatever the names; a file copied without keeping its time
(``cp`` without ``-p``) counts as delivered when it was copied.

Encodings: a PBX's files are decoded with its ``pbx_systems.encoding`` (the reference folder's
pbx_systems.csv; empty or no column: UTF-8, and a line that is not is read as Latin-1 and
counted as such in the file's result); JSON and CSV are UTF-8 (readers.py).
"""

from __future__ import annotations

import csv
import hashlib
import json
import os
import re
import uuid
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any

import psycopg
from psycopg import sql

from callshrink import settings
from callshrink.ingest import records
from callshrink.ingest.passthrough import (
    LOADED_AT_DEFAULT,
    LOADED_AT_SETTING,
    SETTINGS,
    copy_file,
    line_number_sequence,
)
from callshrink.ingest.readers import (
    INVALID_UTF8,
    UTF8_OR_LATIN1,
    Decoding,
    Line,
    ReadStats,
    decoding_for,
    read_file,
)
from callshrink.ingest.tables import RAW_SCHEMA, RAW_TABLES, SQL_TYPES, Field, Kind, RawTable

LINEAGE_COLUMNS = ("_load_id", "_source_file", "_line_number", "_file_sha256")
LINEAGE_COLUMNS_ALL = (*LINEAGE_COLUMNS, "_loaded_at")  # _loaded_at: always its default
PROBLEMS_KEPT_PER_FILE = 20

Log = Callable[[str], None]


class FieldError(ValueError):
    """A field whose value cannot be typed; the message names the field."""


@dataclass
class FileResult:
    path: str  # relative to the landing folder
    sha256: str
    source_folder: str = ""  # the folder part of its identity: tracking/callrail, pbx/<id>/cdr
    skipped_as: str | None = None  # set when the same content was loaded before
    lines_read: int = 0
    rows_loaded: int = 0
    rows_quarantined: int = 0
    lines_decoded_latin1: int = 0  # of a PBX without an encoding: lines that were not UTF-8
    records_unreadable: int = 0  # records it holds or announces that could not be read
    problems: list[str] = field(default_factory=list)  # first few, "path:line: reason"
    notes: list[str] = field(default_factory=list)  # "path: what else the reader noticed"


@dataclass
class TableLoadResult:
    table: RawTable
    files: list[FileResult] = field(default_factory=list)

    def total(self, attr: str) -> int:
        return sum(getattr(f, attr) for f in self.files)

    @property
    def files_skipped(self) -> int:
        return sum(1 for f in self.files if f.skipped_as)

    def metadata(self) -> dict[str, int]:
        return {
            "files_seen": len(self.files),
            "files_skipped_already_loaded": self.files_skipped,
            "lines_read": self.total("lines_read"),
            "rows_loaded": self.total("rows_loaded"),
            "rows_quarantined": self.total("rows_quarantined"),
            "lines_decoded_as_latin1": self.total("lines_decoded_latin1"),
            "records_unreadable": self.total("records_unreadable"),
        }


# --- schema -------------------------------------------------------------------------------

_META_DDL = f"""
create schema if not exists {RAW_SCHEMA};
create table if not exists {RAW_SCHEMA}._loads (
    load_id uuid primary key,
    landing_dir text not null,
    started_at timestamptz not null default now(),
    finished_at timestamptz
);
create table if not exists {RAW_SCHEMA}._load_files (
    raw_table text not null,
    source_folder text not null,
    file_sha256 text not null,
    source_file text not null,
    size_bytes bigint not null,
    lines_read integer not null,
    rows_loaded integer not null,
    rows_quarantined integer not null,
    lines_decoded_latin1 integer not null default 0,
    records_unreadable integer not null default 0,
    load_id uuid not null references {RAW_SCHEMA}._loads (load_id),
    loaded_at timestamptz not null default now(),
    primary key (raw_table, source_folder, file_sha256),
    check (lines_read = rows_loaded + rows_quarantined)
);
create table if not exists {RAW_SCHEMA}._validated_loads (
    raw_table text not null,
    load_id uuid not null references {RAW_SCHEMA}._loads (load_id),
    suite_sha256 text not null,
    validated_at timestamptz not null default now(),
    primary key (raw_table, load_id, suite_sha256)
);
create table if not exists {RAW_SCHEMA}._quarantine (
    raw_table text not null,
    source_file text not null,
    line_number integer not null,
    file_sha256 text not null,
    raw_text text not null,
    reason text not null,
    load_id uuid not null references {RAW_SCHEMA}._loads (load_id),
    quarantined_at timestamptz not null default now()
);
alter table {RAW_SCHEMA}._quarantine add column if not exists record_key jsonb;
create table if not exists {RAW_SCHEMA}._file_fingerprints (
    raw_table text not null,
    source_file text not null,
    source_folder text not null,
    size_bytes bigint not null,
    modified_ns bigint not null,
    file_sha256 text not null,
    primary key (raw_table, source_file)
);
"""


def _column_ddl(table: RawTable, spec: Field) -> sql.Composed:
    name = sql.Identifier(spec.column)
    if not table.server_typed or spec.kind not in SQL_TYPES:
        if table.server_typed and spec.required:  # the server refuses what the loader would
            return sql.SQL("{} text not null check (btrim({}) <> '')").format(name, name)
        return sql.SQL("{} text").format(name)
    null = sql.SQL(" not null") if spec.required else sql.SQL("")
    return sql.SQL("{} {}{}").format(name, sql.SQL(SQL_TYPES[spec.kind]), null)


def _setting(column: str) -> sql.Composed:
    return sql.SQL("default current_setting({}, true)").format(sql.Literal(SETTINGS[column]))


def _table_ddl(table: RawTable) -> list[sql.Composed]:
    columns: list[sql.Composable] = []
    if table.has_pbx_id:
        columns.append(sql.SQL("pbx_id text not null {}").format(_setting("pbx_id")))
    if table.records_only:
        columns.append(sql.SQL("_record jsonb not null"))
    else:
        columns += [_column_ddl(table, spec) for spec in table.fields]
    sequence = sql.Identifier(RAW_SCHEMA, line_number_sequence(table))
    columns += [
        sql.SQL("_load_id uuid not null {}::uuid").format(_setting("_load_id")),
        sql.SQL("_source_file text not null {}").format(_setting("_source_file")),
        sql.SQL("_line_number integer not null default nextval({})").format(
            sql.Literal(f"{RAW_SCHEMA}.{line_number_sequence(table)}")
        ),
        sql.SQL("_file_sha256 text not null {}").format(_setting("_file_sha256")),
        sql.SQL("_loaded_at timestamptz not null default {}").format(LOADED_AT_DEFAULT),
    ]
    relation = sql.Identifier(RAW_SCHEMA, table.storage)
    create = [
        sql.SQL("create sequence if not exists {}").format(sequence),
        sql.SQL("create table if not exists {} ({})").format(relation, sql.SQL(", ").join(columns)),
    ]
    lookup = (
        records.lookup_columns(table)
        if table.records_only
        else sql.SQL(", ").join(map(sql.Identifier, table.lookup_key))
    )
    # Every delivery of a record by its lookup key, and the rows of the loads since a time:
    # incremental staging reads through both (the rows loaded since its last build, then
    # every delivery of the records they touch), and so do the checks for a later delivery
    # of the rows a run loaded. Rows are appended in load order, so the block ranges of a
    # BRIN index find a load's rows at almost no cost to loading (a B-tree on _loaded_at
    # cost a JSON-lines COPY a fifth of its time, the CDR's and queue_log's loaders a sixth).
    indexes = [
        sql.SQL("create index if not exists {} on {} ({})").format(
            sql.Identifier(f"{table.storage}__lookup"), relation, lookup
        ),
        sql.SQL("create index if not exists {} on {} using brin (_loaded_at)").format(
            sql.Identifier(f"{table.storage}__loaded_at"), relation
        ),
    ]
    if table.records_only:
        return [*create, *indexes, records.view_ddl(table, LINEAGE_COLUMNS_ALL)]
    return [*create, *indexes]


def _migrate_loaded_at_index(conn: psycopg.Connection, table: RawTable) -> None:
    """Drop the B-tree on _loaded_at an older loader made (the CDR's and queue_log's), so
    that the BRIN index takes its name and place."""
    name = f"{table.storage}__loaded_at"
    older = conn.execute(
        "select 1 from pg_class as index join pg_am on pg_am.oid = index.relam "
        "where index.oid = to_regclass(%s) and pg_am.amname <> 'brin'",
        (f"{RAW_SCHEMA}.{name}",),
    ).fetchone()
    if older:
        conn.execute(sql.SQL("drop index {}").format(sql.Identifier(RAW_SCHEMA, name)))


def _migrate_loaded_at(conn: psycopg.Connection, table: RawTable) -> None:
    """Give a raw table made by an older loader (default now()) this _loaded_at default."""
    (default,) = conn.execute(
        "select pg_get_expr(d.adbin, d.adrelid) from pg_attrdef d join pg_attribute a "
        "on a.attrelid = d.adrelid and a.attnum = d.adnum "
        "where d.adrelid = %s::regclass and a.attname = '_loaded_at'",
        (f"{RAW_SCHEMA}.{table.storage}",),
    ).fetchone()
    if LOADED_AT_SETTING not in default:
        conn.execute(
            sql.SQL("alter table {} alter column _loaded_at set default {}").format(
                sql.Identifier(RAW_SCHEMA, table.storage), LOADED_AT_DEFAULT
            )
        )


def ensure_raw_schema(conn: psycopg.Connection) -> None:
    with conn.transaction():
        conn.execute("select pg_advisory_xact_lock(hashtext('callshrink.raw_schema'))")
        conn.execute(_META_DDL)
        _migrate_manifest(conn)
        for table in RAW_TABLES:
            if table.records_only:
                records.migrate(conn, table)
            _migrate_loaded_at_index(conn, table)
            for statement in _table_ddl(table):
                conn.execute(statement)
            _migrate_loaded_at(conn, table)
            if table.records_only:
                records.no_record_statistics(conn, table)


MANIFEST_KEY = ["raw_table", "source_folder", "file_sha256"]


def _migrate_manifest(conn: psycopg.Connection) -> None:
    """Bring a manifest written by an older loader to this one's: a file's identity was its
    content alone (primary key raw_table, file_sha256) and is now its source folder and
    content. Each existing row gets the source folder of the file it names (the first parts
    of its source_file), so every file loaded before stays loaded; only the same bytes under
    another PBX's folder, which the older loader skipped and never recorded, now load. Also
    adds the counts of lines decoded as Latin-1 and of unreadable records (0 for old rows)."""
    columns = {
        name
        for (name,) in conn.execute(
            "select column_name from information_schema.columns "
            "where table_schema = %s and table_name = '_load_files'",
            (RAW_SCHEMA,),
        )
    }
    manifest = sql.Identifier(RAW_SCHEMA, "_load_files")
    for column in ("lines_decoded_latin1", "records_unreadable"):
        if column not in columns:
            conn.execute(
                sql.SQL("alter table {} add column {} integer not null default 0").format(
                    manifest, sql.Identifier(column)
                )
            )
    if "source_folder" not in columns:
        folder = sql.SQL(" ").join(
            sql.SQL(
                "when {} then array_to_string((string_to_array(source_file, '/'))[1:{}], '/')"
            ).format(sql.Literal(table.identifier), sql.Literal(table.folder_depth))
            for table in RAW_TABLES
        )
        conn.execute(sql.SQL("alter table {} add column source_folder text").format(manifest))
        conn.execute(
            sql.SQL(
                "update {} set source_folder = case raw_table {} "
                "else regexp_replace(source_file, '/[^/]*$', '') end"
            ).format(manifest, folder)
        )
        conn.execute(
            sql.SQL("alter table {} alter column source_folder set not null").format(manifest)
        )
    key = conn.execute(
        "select c.conname, array_agg(a.attname::text order by k.ord) "
        "from pg_constraint c cross join unnest(c.conkey) with ordinality k(attnum, ord) "
        "join pg_attribute a on a.attrelid = c.conrelid and a.attnum = k.attnum "
        "where c.conrelid = %s::regclass and c.contype = 'p' group by c.conname",
        (f"{RAW_SCHEMA}._load_files",),
    ).fetchone()
    if key is None or key[1] != MANIFEST_KEY:
        drop = sql.SQL("")
        if key:
            drop = sql.SQL("drop constraint {}, ").format(sql.Identifier(key[0]))
        conn.execute(
            sql.SQL("alter table {} {}add primary key ({})").format(
                manifest, drop, sql.SQL(", ").join(map(sql.Identifier, MANIFEST_KEY))
            )
        )


def start_load(
    conn: psycopg.Connection, landing: Path, load_id: uuid.UUID | None = None
) -> uuid.UUID:
    """Record a load (one per pipeline run; its assets share it) and return its id."""
    load_id = load_id or uuid.uuid4()
    with conn.transaction():
        conn.execute(
            f"insert into {RAW_SCHEMA}._loads (load_id, landing_dir) values (%s, %s) "
            "on conflict (load_id) do nothing",
            (load_id, str(landing)),
        )
    return load_id


def finish_load(conn: psycopg.Connection, load_id: uuid.UUID) -> None:
    """Mark the load finished (each raw asset of a run does; the last one's time stays)."""
    with conn.transaction():
        conn.execute(
            f"update {RAW_SCHEMA}._loads set finished_at = now() where load_id = %s", (load_id,)
        )


# --- typing ---------------------------------------------------------------------------------


def _dig(record: Any, path: tuple[str | int, ...]) -> Any:
    value = record
    for key in path:
        if isinstance(value, dict):
            value = value.get(key)
        elif isinstance(value, list) and isinstance(key, int):
            value = value[key] if key < len(value) else None
        else:
            return None
        if value is None:
            return None
    return value


def _as_text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, dict | list):
        return json.dumps(value, default=str)
    return str(value)


MAX_INTEGER_DIGITS = 18  # fits bigint


def _is_integer_text(digits: str) -> bool:
    return 0 < len(digits) <= MAX_INTEGER_DIGITS and digits.isascii() and digits.isdigit()


_TRUE = {"true", "t", "1", "yes"}
_FALSE = {"false", "f", "0", "no"}


def _typed(spec: Field, value: Any) -> str | None:
    """The field's value as text for the raw column; FieldError when it does not fit its kind."""
    if value is None or (isinstance(value, str) and not value.strip() and spec.kind != Kind.TEXT):
        if spec.required:
            raise FieldError(f"field '{spec.column}' is missing")
        return None
    kind = spec.kind
    if kind is Kind.TEXT:
        text = _as_text(value)
        if spec.required and not text.strip():
            raise FieldError(f"field '{spec.column}' is empty")
        return text
    if kind is Kind.JSON:
        if isinstance(value, str):
            try:
                json.loads(value)
            except json.JSONDecodeError:
                # the view of a records-only table gives the text as it is (readers.py turns
                # CSV's comma-separated lists into lists)
                raise FieldError(f"field '{spec.column}': {value[:60]!r} is not JSON") from None
            return value
        return json.dumps(value, default=str)
    text = _as_text(value).strip()
    try:
        if kind is Kind.BOOLEAN:
            lowered = text.lower()
            if lowered in _TRUE:
                return "true"
            if lowered in _FALSE:
                return "false"
            raise ValueError
        if kind in (Kind.INTEGER, Kind.EPOCH):
            if isinstance(value, bool) or not _is_integer_text(text.removeprefix("-")):
                raise ValueError
            return text
        if kind is Kind.DECIMAL:
            if isinstance(value, bool) or not Decimal(text).is_finite():
                raise ValueError
            return text
        if kind is Kind.TIMESTAMP:
            if datetime.fromisoformat(text).tzinfo is None:
                raise FieldError(f"field '{spec.column}': {text!r} has no UTC offset")
            return text
        if kind is Kind.LOCAL_TIMESTAMP:
            if len(text) != 19:
                raise ValueError
            datetime.fromisoformat(text)
            return text
    except (ValueError, InvalidOperation) as exc:
        if isinstance(exc, FieldError):
            raise
        raise FieldError(f"field '{spec.column}': {text[:60]!r} is not a valid {kind}") from None
    raise AssertionError(kind)


Check = Callable[[Any], "str | None"]


def _fast_check(spec: Field) -> Check:
    """A quick check for one field's kind; raises ValueError, and `_typed` then says why."""
    kind = spec.kind
    if kind is Kind.LOCAL_TIMESTAMP:

        def check(value: Any) -> str:
            if len(value) != 19:
                raise ValueError
            datetime.fromisoformat(value)
            return value

    elif kind in (Kind.INTEGER, Kind.EPOCH):

        def check(value: Any) -> str:
            text = value if isinstance(value, str) else _as_text(value)
            digits = text[1:] if text[:1] == "-" else text
            if isinstance(value, bool) or not _is_integer_text(digits):
                raise ValueError
            return text

    elif kind is Kind.TEXT:

        def check(value: Any) -> str:
            if not isinstance(value, str) or not value.strip():
                raise ValueError
            return value

    else:
        return lambda value: _typed(spec, value)
    return check


def row_builder(table: RawTable) -> Callable[[Line, str | None], list]:
    """A function turning a readable line into the row to load, or raising FieldError.

    Text fields pass through untouched; only typed and required fields are checked, each by a
    check made once per table. When a check fails, `_typed` runs again on that field to give
    the reason a person reads, so fast and careful paths cannot disagree on the message. Then
    the fields' value rules (tables.py) are checked on the typed values.
    """
    fields = table.fields
    offset = 1 if table.has_pbx_id else 0
    positional = table.positional
    checks = [
        (index, spec, _fast_check(spec))
        for index, spec in enumerate(fields)
        if spec.kind is not Kind.TEXT or spec.required
    ]
    ruled = [(index, spec, spec.rule) for index, spec in enumerate(fields) if spec.rule]
    width = len(fields)
    records_only = table.records_only

    def values_of(line: Line) -> list:
        if positional:
            values = list(line.record)
            return values + [None] * (width - len(values)) if len(values) < width else values
        return [_dig(line.record, spec.path) for spec in fields]

    def build(line: Line, pbx_id: str | None) -> list:
        values = values_of(line)
        for index, spec, check in checks:
            value = values[index]
            if value is None or value == "":
                values[index] = _typed(spec, value)  # None, "" (text) or FieldError if required
                continue
            try:
                values[index] = check(value)
            except (ValueError, TypeError, InvalidOperation):
                values[index] = _typed(spec, value)  # raises FieldError, with the reason
        if not positional:
            values = [v if v is None or isinstance(v, str) else _as_text(v) for v in values]
        for index, spec, rule in ruled:
            value = values[index]
            if value is not None and not rule.holds(value):
                raise FieldError(f"field '{spec.column}': {value[:60]!r} {rule.broken}")
        if records_only:  # the values were the check; the view gives them from the record
            kept = line.json_text
            return [kept if kept is not None else json.dumps(line.record, default=str)]
        return [pbx_id, *values] if offset else values

    return build


# --- loading --------------------------------------------------------------------------------


def _files(table: RawTable, landing: Path) -> list[Path]:
    """The table's files in load order: modification time, then path. A later delivery of
    a record (a corrected file) loads after the earlier one, so staging keeps it."""
    files = [
        p
        for d in landing.glob(table.folder)
        if d.is_dir()
        for p in d.rglob("*")
        if p.is_file() and not p.name.startswith(".")
    ]
    return sorted(files, key=lambda p: (p.stat().st_mtime_ns, p.relative_to(landing).as_posix()))


def _has_files(table: RawTable, landing: Path) -> bool:
    return any(
        p.is_file() and not p.name.startswith(".")
        for d in landing.glob(table.folder)
        if d.is_dir()
        for p in d.rglob("*")
    )


def landing_problem(landing: Path) -> str | None:
    """Why ``landing`` cannot be loaded from, naming it, or None when it can: it does not
    exist, is not a folder, or holds no file in any raw table's folder (a run on it would load
    nothing and build on empty raw tables). A ``landing`` folder inside it is suggested."""
    if not landing.exists():
        return f"the landing folder {landing} does not exist"
    if not landing.is_dir():
        return f"the landing folder {landing} is a file, not a folder"
    if any(_has_files(table, landing) for table in RAW_TABLES):
        return None
    folders = ", ".join(f"{table.folder.replace('*', '<pbx_id>')}/" for table in RAW_TABLES)
    problem = f"the landing folder {landing} holds no export files (none below {folders})"
    if (landing / "landing").is_dir():
        problem += f"; did you mean {landing / 'landing'}?"
    return problem


def _pbx_id(table: RawTable, landing: Path, path: Path) -> str | None:
    if not table.has_pbx_id:
        return None
    return path.relative_to(landing).parts[1]  # pbx/<pbx_id>/cdr/...


def _source_folder(table: RawTable, landing: Path, path: Path) -> str:
    """The folder part of a file's identity: its table's folder, with the PBX's own for
    pbx/*/... (pbx/pbx_east/cdr)."""
    return "/".join(path.relative_to(landing).parts[: table.folder_depth])


def pbx_encodings(reference: Path | None = None) -> dict[str, str]:
    """pbx_id -> ``encoding`` of the reference pbx_systems.csv (the reference folder of
    settings.reference_dir() unless given). The column is optional; no file, no row or an
    empty value all mean the default (UTF-8, Latin-1 for a line that is not)."""
    path = (reference or settings.reference_dir()) / "pbx_systems.csv"
    if not path.is_file():
        return {}
    with path.open(newline="", encoding="utf-8-sig") as handle:
        return {
            (row.get("pbx_id") or "").strip(): (row.get("encoding") or "").strip()
            for row in csv.DictReader(handle)
        }


def _decodings(encodings: Mapping[str, str]) -> dict[str, Decoding]:
    """Each PBX's decoding; ValueError naming the PBX for an encoding that cannot be used,
    before any file loads (its lines would otherwise be quarantined for good)."""
    decodings = {}
    for pbx_id, encoding in encodings.items():
        try:
            decodings[pbx_id] = decoding_for(encoding)
        except ValueError as exc:
            raise ValueError(f"pbx_systems.encoding of {pbx_id}: {exc}") from None
    return decodings


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def load_table(
    conn: psycopg.Connection,
    table: RawTable,
    landing: Path,
    load_id: uuid.UUID,
    log: Log = print,
    *,
    encodings: Mapping[str, str] | None = None,
    reread: bool = False,
) -> TableLoadResult:
    """Load every file of ``table`` under ``landing`` that was not loaded before, oldest
    first. ``encodings``: pbx_id -> encoding of its files (default: the reference
    pbx_systems.csv, ``pbx_encodings``). ``reread``: hash every file, even one whose path,
    size and modification time say it was loaded before. Call it outside a transaction:
    each file commits on its own."""
    decodings = {}
    if table.has_pbx_id:
        decodings = _decodings(pbx_encodings() if encodings is None else encodings)
    result = TableLoadResult(table)
    loaded = {} if reread else _loaded_fingerprints(conn, table)
    for path in _files(table, landing):
        unread = _skip_unread(landing, path, loaded)
        if unread is not None:
            result.files.append(unread)
            continue
        pbx_id = _pbx_id(table, landing, path)
        decoding = decodings.get(pbx_id or "", UTF8_OR_LATIN1)
        file_result = _load_file(conn, table, landing, path, load_id, decoding)
        result.files.append(file_result)
        if file_result.skipped_as:
            continue
        for note in file_result.notes:
            log(note)
        for problem in file_result.problems:
            log(f"quarantined {problem}")
        hidden = file_result.rows_quarantined - len(file_result.problems)
        if hidden > 0:
            log(f"quarantined {hidden} more lines of {file_result.path}: `callshrink quarantine`")
    _refresh_statistics(conn, table, result.total("rows_loaded"))
    return result


def _refresh_statistics(conn: psycopg.Connection, table: RawTable, rows_loaded: int) -> None:
    """Analyze the table when this load changed it enough to matter, so the models that read
    it next plan with its real size: dbt can start before autovacuum gets to a new table, and
    a guessed plan took int_pbx_calls_grouped from 6 s to 200 s. "Enough" is autovacuum's own
    default, a tenth of the rows; a day's files on a large table are left to autovacuum
    (analysing 6.5 M raw rows after a 0.1 M-row load took 3 s)."""
    if not rows_loaded:
        return
    name = sql.SQL("{}.{}").format(sql.Identifier(RAW_SCHEMA), sql.Identifier(table.storage))
    with conn.transaction():
        (estimated_rows,) = conn.execute(
            "select reltuples from pg_class where oid = %s::regclass",
            (name.as_string(conn),),
        ).fetchone()
    if estimated_rows < 0 or rows_loaded >= 0.1 * estimated_rows:  # -1: never analysed
        with conn.transaction():  # not left open: the next file's transaction is its own
            conn.execute(sql.SQL("analyze {}").format(name))


@dataclass(frozen=True)
class _Fingerprint:
    size_bytes: int
    modified_ns: int
    sha256: str
    source_folder: str
    loaded_as: str  # the source_file of the manifest row of its content


def _loaded_fingerprints(conn: psycopg.Connection, table: RawTable) -> dict[str, _Fingerprint]:
    """source_file -> its fingerprint when last read, for the files whose content is loaded
    (in the manifest): one query per table, not one per file."""
    with conn.transaction():
        rows = conn.execute(
            f"select seen.source_file, seen.size_bytes, seen.modified_ns, seen.file_sha256, "
            f"seen.source_folder, loaded.source_file "
            f"from {RAW_SCHEMA}._file_fingerprints as seen "
            f"inner join {RAW_SCHEMA}._load_files as loaded "
            "on loaded.raw_table = seen.raw_table and loaded.source_folder = seen.source_folder "
            "and loaded.file_sha256 = seen.file_sha256 "
            "where seen.raw_table = %s",
            (table.identifier,),
        ).fetchall()
    return {row[0]: _Fingerprint(*row[1:]) for row in rows}


def _skip_unread(
    landing: Path, path: Path, loaded: Mapping[str, _Fingerprint]
) -> FileResult | None:
    """The result of skipping ``path`` without reading it, when its size and modification
    time are those it had when its content was loaded (or skipped as loaded); else None."""
    relative = path.relative_to(landing).as_posix()
    seen = loaded.get(relative)
    if seen is None:
        return None
    stat = path.stat()
    if (stat.st_size, stat.st_mtime_ns) != (seen.size_bytes, seen.modified_ns):
        return None
    return FileResult(relative, seen.sha256, seen.source_folder, skipped_as=seen.loaded_as)


def _record_fingerprint(
    conn: psycopg.Connection, table: RawTable, result: FileResult, stat: os.stat_result
) -> None:
    conn.execute(
        f"insert into {RAW_SCHEMA}._file_fingerprints (raw_table, source_file, source_folder, "
        "size_bytes, modified_ns, file_sha256) values (%s, %s, %s, %s, %s, %s) "
        "on conflict (raw_table, source_file) do update set source_folder = "
        "excluded.source_folder, size_bytes = excluded.size_bytes, "
        "modified_ns = excluded.modified_ns, file_sha256 = excluded.file_sha256",
        (
            table.identifier,
            result.path,
            result.source_folder,
            stat.st_size,
            stat.st_mtime_ns,
            result.sha256,
        ),
    )


def _load_file(
    conn: psycopg.Connection,
    table: RawTable,
    landing: Path,
    path: Path,
    load_id: uuid.UUID,
    decoding: Decoding = UTF8_OR_LATIN1,
) -> FileResult:
    relative = path.relative_to(landing).as_posix()
    stat = path.stat()  # before reading: a file that changes while it is read differs next run
    result = FileResult(relative, _sha256(path), _source_folder(table, landing, path))
    with conn.transaction():
        # One loader per table at a time, so two runs cannot both load the same new file.
        conn.execute("select pg_advisory_xact_lock(hashtext(%s))", (table.identifier,))
        _record_fingerprint(conn, table, result, stat)
        conn.execute("select set_config(%s, clock_timestamp()::text, true)", (LOADED_AT_SETTING,))
        earlier = conn.execute(
            f"select source_file from {RAW_SCHEMA}._load_files "
            "where raw_table = %s and source_folder = %s and file_sha256 = %s",
            (table.identifier, result.source_folder, result.sha256),
        ).fetchone()
        if earlier:
            result.skipped_as = earlier[0]
            return result
        pbx_id = _pbx_id(table, landing, path)
        copied = None
        if table.server_typed or table.records_only:
            copied = copy_file(
                conn,
                table,
                path,
                load_id=load_id,
                source_file=relative,
                file_sha256=result.sha256,
                pbx_id=pbx_id,
                codec=None if decoding.is_utf8 else decoding.codec,
            )
        if copied is not None:
            result.lines_read = result.rows_loaded = copied
            quarantine: list[tuple[int, str, str]] = []
        else:
            quarantine = _load_lines(conn, table, path, decoding, result, pbx_id, load_id)
        _write_quarantine(conn, table, result, quarantine, load_id)
        conn.execute(
            f"insert into {RAW_SCHEMA}._load_files (raw_table, source_folder, file_sha256, "
            "source_file, size_bytes, lines_read, rows_loaded, rows_quarantined, "
            "lines_decoded_latin1, records_unreadable, load_id) "
            "values (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s)",
            (
                table.identifier,
                result.source_folder,
                result.sha256,
                relative,
                path.stat().st_size,
                result.lines_read,
                result.rows_loaded,
                result.rows_quarantined,
                result.lines_decoded_latin1,
                result.records_unreadable,
                load_id,
            ),
        )
    return result


def _load_lines(
    conn: psycopg.Connection,
    table: RawTable,
    path: Path,
    decoding: Decoding,
    result: FileResult,
    pbx_id: str | None,
    load_id: uuid.UUID,
) -> list[tuple[int, str, str]]:
    """The careful path: the file read line by line, each line checked, the good ones copied.
    Should the server still refuse a row the checks let through, the file is copied again in
    batches, and a refused batch row by row, so only the refused rows are quarantined."""
    stats = ReadStats()
    try:
        with conn.transaction():
            lines = read_file(table, path, decoding, stats)
            quarantine = _copy_rows(conn, table, lines, result, pbx_id, load_id)
    except (psycopg.DataError, psycopg.IntegrityError):
        result.lines_read = result.rows_loaded = 0
        stats = ReadStats()
        lines = read_file(table, path, decoding, stats)
        quarantine = _copy_rows_in_batches(conn, table, lines, result, pbx_id, load_id)
    result.lines_decoded_latin1 = stats.decoded_latin1
    result.records_unreadable = stats.records_unreadable
    if stats.decoded_latin1:
        result.notes.append(
            f"{result.path}: {stats.decoded_latin1} lines are not valid UTF-8 and were decoded "
            "as Latin-1 (set the PBX's encoding in pbx_systems to say which it writes)"
        )
    result.notes += [f"{result.path}: {note}" for note in stats.notes]
    return quarantine


def _copy_statement(table: RawTable) -> sql.Composed:
    data = ["_record"] if table.records_only else table.columns
    columns = sql.SQL(", ").join(map(sql.Identifier, [*data, *LINEAGE_COLUMNS]))
    return sql.SQL("copy {}.{} ({}) from stdin").format(
        sql.Identifier(RAW_SCHEMA), sql.Identifier(table.storage), columns
    )


def _rows(
    table: RawTable,
    lines: Iterable[Line],
    result: FileResult,
    pbx_id: str | None,
    load_id: uuid.UUID,
    quarantine: list[tuple[int, str, str]],
) -> Iterator[tuple[Line, list]]:
    """Each line that can be loaded with its row (lineage included); the others are put in
    ``quarantine``. Counts the lines read."""
    lineage = [str(load_id), result.path, None, result.sha256]
    build = row_builder(table)
    for line in lines:
        result.lines_read += 1
        reason = line.problem
        if reason is None:
            try:
                row = build(line, pbx_id)
            except FieldError as exc:
                reason = str(exc)
        if reason is not None:
            quarantine.append((line.number, line.text, reason))
            continue
        lineage[2] = line.number
        yield line, [*row, *lineage]


def _copy_rows(
    conn: psycopg.Connection,
    table: RawTable,
    lines: Iterable[Line],
    result: FileResult,
    pbx_id: str | None,
    load_id: uuid.UUID,
) -> list[tuple[int, str, str]]:
    quarantine: list[tuple[int, str, str]] = []
    with conn.cursor() as cursor, cursor.copy(_copy_statement(table)) as copy:
        for _, row in _rows(table, lines, result, pbx_id, load_id, quarantine):
            copy.write_row(row)
            result.rows_loaded += 1
    return quarantine


BATCH_ROWS = 1000


def _copy_rows_in_batches(
    conn: psycopg.Connection,
    table: RawTable,
    lines: Iterable[Line],
    result: FileResult,
    pbx_id: str | None,
    load_id: uuid.UUID,
) -> list[tuple[int, str, str]]:
    quarantine: list[tuple[int, str, str]] = []
    statement = _copy_statement(table)

    def copy_rows(rows: list[tuple[Line, list]]) -> None:
        with conn.transaction(), conn.cursor() as cursor, cursor.copy(statement) as copy:
            for _, row in rows:
                copy.write_row(row)

    def load(batch: list[tuple[Line, list]]) -> None:
        if len(batch) > 1:
            try:
                copy_rows(batch)
                result.rows_loaded += len(batch)
                return
            except (psycopg.DataError, psycopg.IntegrityError):
                pass  # one by one, to find the refused rows
        for one in batch:
            try:
                copy_rows([one])
                result.rows_loaded += 1
            except (psycopg.DataError, psycopg.IntegrityError) as exc:
                line = one[0]
                quarantine.append((line.number, line.text, f"refused by Postgres: {_said(exc)}"))

    batch: list[tuple[Line, list]] = []
    for item in _rows(table, lines, result, pbx_id, load_id, quarantine):
        batch.append(item)
        if len(batch) == BATCH_ROWS:
            load(batch)
            batch = []
    if batch:
        load(batch)
    return quarantine


def _said(exc: psycopg.Error) -> str:
    """The server's message, without the COPY context (its line is always 1)."""
    message = exc.diag.message_primary or str(exc)
    column = re.search(r"column (\w+)", exc.diag.context or "")
    return f"{message} (column {column.group(1)})" if column else message


def _storable(text: str) -> str:
    """Quarantine text Postgres can store: a NUL as \\x00, undecodable bytes as \\xNN."""
    if INVALID_UTF8.search(text):
        text = text.encode("utf-8", "surrogateescape").decode("utf-8", "backslashreplace")
    return text.replace("\x00", "\\x00")


def _write_quarantine(
    conn: psycopg.Connection,
    table: RawTable,
    result: FileResult,
    quarantine: list[tuple[int, str, str]],
    load_id: uuid.UUID,
) -> None:
    result.rows_quarantined = len(quarantine)
    result.problems = [
        f"{result.path}:{number}: {reason}"
        for number, _, reason in quarantine[:PROBLEMS_KEPT_PER_FILE]
    ]
    if not quarantine:
        return
    with conn.cursor() as cursor:
        cursor.executemany(
            f"insert into {RAW_SCHEMA}._quarantine (raw_table, source_file, line_number, "
            "file_sha256, raw_text, reason, load_id) values (%s, %s, %s, %s, %s, %s, %s)",
            [
                (
                    table.identifier,
                    result.path,
                    number,
                    result.sha256,
                    _storable(text),
                    _storable(reason),
                    load_id,
                )
                for number, text, reason in quarantine
            ],
        )
