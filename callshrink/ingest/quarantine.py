"""The quarantine: landing lines that could not be loaded, and why; and moving a loaded line
there by hand, when a validation check finds it wrong and no corrected delivery will come."""

from __future__ import annotations

from fnmatch import fnmatch
from pathlib import Path, PurePosixPath

import psycopg
from psycopg import sql

from callshrink import db, settings
from callshrink.ingest.tables import RAW_SCHEMA, RAW_TABLES, RawTable


def quarantined_rows(table: str | None = None, limit: int = 50) -> list[tuple]:
    query = (
        f"select raw_table, source_file, line_number, reason, left(raw_text, 120) "
        f"from {RAW_SCHEMA}._quarantine where %(table)s::text is null or raw_table = %(table)s "
        "order by quarantined_at desc, raw_table, source_file, line_number limit %(limit)s"
    )
    with db.connect() as conn:
        if not conn.execute("select to_regclass(%s)", (f"{RAW_SCHEMA}._quarantine",)).fetchone()[0]:
            return []
        return conn.execute(query, {"table": table, "limit": limit}).fetchall()


def print_quarantine(table: str | None = None, limit: int = 50) -> int:
    rows = quarantined_rows(table, limit)
    if not rows:
        print("no quarantined lines")
        return 0
    for raw_table, source_file, line_number, reason, raw_text in rows:
        print(f"{raw_table}  {source_file}:{line_number}: {reason}\n    {raw_text}")
    print(f"({len(rows)} shown; --limit for more)")
    return 0


# --- moving loaded lines into the quarantine ------------------------------------------------


class MoveError(ValueError):
    """A line to move that cannot be found, said so the person can correct it."""


def _target(text: str) -> tuple[str, int | None]:
    """'FILE:LINE' or 'FILE' (every line of the file), FILE relative to the landing folder
    (a path inside it, absolute or ./, is made so)."""
    path, _, line = text.rpartition(":")
    number = int(line) if path and line.isdigit() else None
    path = path if number is not None else text
    landing = settings.landing_dir()
    given = Path(path)
    if given.is_absolute() and given.resolve().is_relative_to(landing):
        path = given.resolve().relative_to(landing).as_posix()
    return PurePosixPath(path).as_posix().removeprefix("./"), number


def _table_of(path: str) -> RawTable:
    parts = PurePosixPath(path).parts
    for table in RAW_TABLES:
        depth = table.folder_depth
        if len(parts) > depth and fnmatch("/".join(parts[:depth]), table.folder):
            return table
    raise MoveError(
        f"{path}: not below a landing folder of a raw table (tracking/callrail, "
        "pbx/<pbx_id>/cdr, pos/square/payments, ...); give the file as the run and "
        "`callshrink quarantine` name it"
    )


def move_to_quarantine(conn: psycopg.Connection, targets: list[str], reason: str) -> list[str]:
    """Move loaded raw rows (``FILE:LINE``, or ``FILE`` for all its rows) into the quarantine
    with ``reason``, in one transaction: each row's record (its JSON as delivered, or its
    values) is kept in ``_quarantine`` and the file's manifest counts it as quarantined. Of a
    file delivered several times under one name, the delivery loaded last is meant (the one
    the checks judge). The next run rebuilds without the rows, so a check they broke passes.
    Returns what was done, a line per target; MoveError (nothing moved) when a target names
    no loaded row."""
    done = []
    with conn.transaction():
        for text in targets:
            path, line = _target(text)
            table = _table_of(path)
            relation = sql.Identifier(RAW_SCHEMA, table.identifier)
            record = sql.SQL("t._record::text" if table.records_only else "row_to_json(t)::text")
            # the record's natural key, so incremental staging rebuilds the record (from an
            # earlier delivery, or without it) and forgets the moved row (macros/dedupe_latest)
            key = sql.SQL("jsonb_build_object({})").format(
                sql.SQL(", ").join(
                    sql.SQL("{}, t.{}").format(sql.Literal(column), sql.Identifier(column))
                    for column in table.natural_key
                )
            )
            moved = conn.execute(
                sql.SQL(
                    "with delivery as (select file_sha256 from {}._load_files "
                    "where raw_table = %(table)s and source_file = %(path)s "
                    "order by loaded_at desc limit 1), "
                    "moved as (delete from {} t using delivery "
                    "where t._source_file = %(path)s and t._file_sha256 = delivery.file_sha256 "
                    "and (%(line)s::integer is null or t._line_number = %(line)s) "
                    "returning t.*, {} as raw_text, {} as record_key) "
                    "insert into {}._quarantine (raw_table, source_file, line_number, "
                    "file_sha256, raw_text, reason, load_id, record_key) "
                    "select %(table)s, _source_file, _line_number, _file_sha256, raw_text, "
                    "%(reason)s, _load_id, record_key from moved "
                    "returning file_sha256"
                ).format(
                    sql.Identifier(RAW_SCHEMA), relation, record, key, sql.Identifier(RAW_SCHEMA)
                ),
                {"path": path, "line": line, "table": table.identifier, "reason": reason},
            ).fetchall()
            if not moved:
                where = f"line {line} of {path}" if line else path
                raise MoveError(
                    f"{where}: no row of raw.{table.identifier} was loaded from it (already "
                    "quarantined, or another file? `callshrink quarantine` lists the "
                    "quarantine, the failing check names file and line)"
                )
            conn.execute(
                f"update {RAW_SCHEMA}._load_files set rows_loaded = rows_loaded - %s, "
                "rows_quarantined = rows_quarantined + %s "
                "where raw_table = %s and file_sha256 = %s and source_file = %s",
                (len(moved), len(moved), table.identifier, moved[0][0], path),
            )
            done.append(f"{text}: {len(moved)} row(s) of raw.{table.identifier} quarantined")
    return done
