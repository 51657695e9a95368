"""A real Postgres database of raw tables for the suites: the private server, own database."""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable, Iterator
from typing import Any

import psycopg
import pytest
from psycopg import sql

from callshrink.ingest import RAW_SCHEMA, RAW_TABLES, RawTable, ensure_raw_schema
from tests.conftest import recreate_database

# Own database on the shared private server, so other people's tests and loads never meet ours.
TEST_DB = "gx_test_expectations"

Insert = Callable[..., None]


@pytest.fixture(scope="session")
def gx_database_url(server_url: str) -> str:
    test_url = recreate_database(server_url, TEST_DB)
    with psycopg.connect(test_url, autocommit=True) as conn:
        ensure_raw_schema(conn)
    return test_url


@pytest.fixture
def raw_rows(gx_database_url: str) -> Iterator[Insert]:
    """``raw_rows(identifier, [{column: text}], source_file=...)`` inserts rows, lines 1, 2, ...

    Every raw table is emptied first, so a test sees only its own rows.
    """
    with psycopg.connect(gx_database_url, autocommit=True) as conn:
        conn.execute(
            sql.SQL("truncate {}").format(
                sql.SQL(", ").join(sql.Identifier(RAW_SCHEMA, t.storage) for t in RAW_TABLES)
            )
        )
        load_id = uuid.uuid4()

        def insert(identifier: str, rows: list[dict[str, Any]], source_file: str = "") -> None:
            table = next(t for t in RAW_TABLES if t.identifier == identifier)
            file = source_file or f"{table.folder.replace('*', 'pbx1')}/test.dat"
            for line_number, row in enumerate(rows, start=1):
                values = _as_record(table, row) if table.records_only else dict(row)
                values |= {
                    "_load_id": load_id,
                    "_source_file": file,
                    "_line_number": line_number,
                    "_file_sha256": "0" * 64,
                }
                conn.execute(
                    sql.SQL("insert into {} ({}) values ({})").format(
                        sql.Identifier(RAW_SCHEMA, identifier),
                        sql.SQL(", ").join(map(sql.Identifier, values)),
                        sql.SQL(", ").join(sql.Placeholder() * len(values)),
                    ),
                    list(values.values()),
                )

        yield insert


def _as_record(table: RawTable, row: dict[str, Any]) -> dict[str, Any]:
    """A records-only table's row: its field values placed in ``_record`` at their paths
    (strings, as a delivery could hold them; the view gives them back as columns)."""
    record: dict[str, Any] = {}
    paths = {spec.column: spec.path for spec in table.fields}
    values = {}
    for column, value in row.items():
        if column not in paths:
            values[column] = value
            continue
        *parents, key = paths[column]
        place = record
        for parent in parents:
            place = place.setdefault(parent, {})
        place[key] = value
    if "_record" not in values:
        values["_record"] = json.dumps(record)
    return values
