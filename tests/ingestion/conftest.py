"""What the ingestion tests share."""

from __future__ import annotations

from collections.abc import Iterator

import psycopg
import pytest

from callshrink.ingest import ensure_raw_schema
from tests.conftest import recreate_database


@pytest.fixture
def raw_conn(server_url: str) -> Iterator[psycopg.Connection]:
    """A database of its own, recreated for each test, with the raw schema in place."""
    url = recreate_database(server_url, "callshrink_test_ingest")
    with psycopg.connect(url) as conn:
        ensure_raw_schema(conn)
        yield conn
