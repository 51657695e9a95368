"""Test harness: a fresh database on a real PostgreSQL server for the whole session.

The server is the one CALLSHRINK_DATABASE_URL names, else the project's private server (started
here, stopped at the end if it was not running before). The suite works in its own database,
`callshrink_test`, created anew every session, and points CALLSHRINK_DATABASE_URL at it; it also
points CALLSHRINK_HOME at an empty folder, so a private server started by mistake would show.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest
from psycopg import sql

from callshrink import db, settings

TEST_DATABASE = "callshrink_test"


def _recreate_database(server_url: str, name: str) -> str:
    with psycopg.connect(server_url, autocommit=True) as conn:
        conn.execute(sql.SQL("drop database if exists {} with (force)").format(sql.Identifier(name)))
        conn.execute(sql.SQL("create database {}").format(sql.Identifier(name)))
    return settings.with_database(server_url, name)


@pytest.fixture(scope="session")
def server_url() -> Iterator[str]:
    """A URL of the server the tests use (its default database)."""
    configured = settings.configured_database_url()
    if configured:
        yield configured
        return
    was_running = db.private_status().running
    url = db.start_private()
    yield url
    if not was_running:
        db.stop_private()


@pytest.fixture(scope="session")
def test_home(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("callshrink_home")


@pytest.fixture(scope="session")
def warehouse_url(server_url: str, test_home: Path) -> Iterator[str]:
    """The session's own database, exported as CALLSHRINK_DATABASE_URL for all code under test."""
    url = _recreate_database(server_url, TEST_DATABASE)
    saved = {k: os.environ.get(k) for k in ("CALLSHRINK_DATABASE_URL", "CALLSHRINK_HOME",
                                            "DAGSTER_HOME")}
    os.environ["CALLSHRINK_DATABASE_URL"] = url
    os.environ["CALLSHRINK_HOME"] = str(test_home)
    os.environ["DAGSTER_HOME"] = str(test_home / "dagster")
    (test_home / "dagster").mkdir(exist_ok=True)
    db.activate()
    yield url
    for key, value in saved.items():
        if value is None:
            os.environ.pop(key, None)
        else:
            os.environ[key] = value


@pytest.fixture
def conn(warehouse_url: str) -> Iterator[psycopg.Connection]:
    with psycopg.connect(warehouse_url) as connection:
        yield connection
