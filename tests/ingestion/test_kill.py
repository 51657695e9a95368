"""A load process killed mid-batch leaves no partial batch; the next run completes it."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import uuid
from pathlib import Path

import psycopg

from callshrink.ingest import ensure_raw_schema, load_table, table_by_key
from callshrink.ingest.loader import start_load
from tests.conftest import database_name, recreate_database
from tests.ingestion.test_loader import CDR_GOOD

LINES = 400_000

LOADER = """
import sys, uuid
from pathlib import Path
import psycopg
from callshrink.ingest import ensure_raw_schema, load_table, table_by_key
from callshrink.ingest.loader import start_load
url, landing = sys.argv[1], Path(sys.argv[2])
with psycopg.connect(url) as conn:
    ensure_raw_schema(conn)
    load_id = start_load(conn, landing, uuid.uuid4())
    print("loading", flush=True)
    load_table(conn, table_by_key("asterisk", "cdr"), landing, load_id, log=print)
print("finished", flush=True)
"""


def _copying(conn: psycopg.Connection, database: str) -> bool:
    return bool(
        conn.execute(
            "select count(*) from pg_stat_activity where datname = %s and query ilike 'copy%%'",
            (database,),
        ).fetchone()[0]
    )


def test_a_killed_load_leaves_nothing_and_the_next_run_loads_everything(server_url, tmp_path):
    database = database_name("callshrink_test_kill")  # as the server names it
    url = recreate_database(server_url, database)
    landing = tmp_path / "landing"
    cdr = landing / "pbx" / "pbx_east" / "cdr" / "Master.csv"
    cdr.parent.mkdir(parents=True)
    cdr.write_text((CDR_GOOD + "\n") * LINES)

    loader = subprocess.Popen(
        [sys.executable, "-c", LOADER, url, str(landing)],
        stdout=subprocess.PIPE,
        text=True,
        cwd=Path(__file__).resolve().parents[2],
    )
    assert loader.stdout.readline().strip() == "loading"
    with psycopg.connect(server_url, autocommit=True) as watcher:
        deadline = time.monotonic() + 30
        while not _copying(watcher, database):  # kill it in the middle of its COPY
            assert loader.poll() is None, "the load finished before it could be killed"
            assert time.monotonic() < deadline
            time.sleep(0.01)
        os.kill(loader.pid, signal.SIGKILL)
        loader.wait(timeout=30)
        while _copying(watcher, database):  # the server notices and rolls back
            time.sleep(0.05)

    with psycopg.connect(url, autocommit=True) as conn:
        assert conn.execute(
            "select (select count(*) from raw.asterisk_cdr), (select count(*) from raw._load_files)"
        ).fetchone() == (0, 0)
        ensure_raw_schema(conn)
        load_id = start_load(conn, landing, uuid.uuid4())
        result = load_table(conn, table_by_key("asterisk", "cdr"), landing, load_id)
        assert result.total("rows_loaded") == LINES
        assert conn.execute(
            "select count(*), count(distinct _line_number), max(_line_number) from raw.asterisk_cdr"
        ).fetchone() == (LINES, LINES, LINES)
    assert loader.returncode == -signal.SIGKILL
