"""Which delivery wins, what makes a file the same file, how a PBX's encoding is set, and the
manifest written by an older loader (identity = content only) brought to folder + content."""

from __future__ import annotations

import ast
import os
import re
import threading
import time
import uuid
from pathlib import Path

import psycopg
import pytest

from callshrink.ingest import RAW_TABLES, ensure_raw_schema, load_table, table_by_key
from callshrink.ingest import loader as loader_module
from callshrink.ingest.loader import MANIFEST_KEY, pbx_encodings, start_load
from callshrink.settings import PROJECT_DIR
from tests.conftest import recreate_database
from tests.ingestion.hostile import cdr, event

T0 = 1_770_000_000  # a modification time, seconds


def write(landing: Path, relative: str, data: str | bytes, mtime: int | None = None) -> Path:
    path = landing / relative
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data.encode() if isinstance(data, str) else data)
    if mtime is not None:
        os.utime(path, (mtime, mtime))
    return path


def load(conn, landing: Path, source: str, name: str, encodings=None, reread=False):
    load_id = start_load(conn, landing)
    return load_table(
        conn,
        table_by_key(source, name),
        landing,
        load_id,
        log=lambda _: None,
        encodings=encodings,
        reread=reread,
    )


def latest(conn, table: str, key: str, value: str) -> list[tuple]:
    """What staging keeps (macros/dedupe_latest.sql): the row loaded last, then its line."""
    return conn.execute(
        f"select distinct on ({key}) {value}, _source_file from raw.{table} "
        f"order by {key}, _loaded_at desc, _line_number desc"
    ).fetchall()


def callrail_line(name: str) -> str:
    return (
        '{"id": "CAL1", "start_time": "2026-03-09T09:00:00Z", "direction": "inbound", '
        f'"company_id": "COM1", "customer_name": "{name}"}}\n'
    )


# --- the newer delivery wins -------------------------------------------------------------------


def test_a_corrected_file_wins_over_its_original_whatever_their_names(raw_conn, tmp_path):
    # by name the original would load last ("z" > "a", "-fixed" < ".csv") and win
    write(tmp_path, "tracking/callrail/z_original.jsonl", callrail_line("Wrong"), T0)
    write(tmp_path, "tracking/callrail/a_corrected.jsonl", callrail_line("Right"), T0 + 60)
    wrong = cdr("1772953198.1", clid='"Wrong" <+1>')
    right = cdr("1772953198.1", clid='"Right" <+1>')
    write(tmp_path, "pbx/pbx_east/cdr/Master-2026-03-08.csv", wrong + "\n", T0)
    write(tmp_path, "pbx/pbx_east/cdr/Master-2026-03-08-fixed.csv", right + "\n", T0 + 60)

    calls = load(raw_conn, tmp_path, "callrail", "calls")
    legs = load(raw_conn, tmp_path, "asterisk", "cdr")

    assert [f.path for f in calls.files] == [
        "tracking/callrail/z_original.jsonl",
        "tracking/callrail/a_corrected.jsonl",
    ]
    assert [f.path for f in legs.files] == [
        "pbx/pbx_east/cdr/Master-2026-03-08.csv",
        "pbx/pbx_east/cdr/Master-2026-03-08-fixed.csv",
    ]
    assert latest(raw_conn, "callrail_calls", "id", "customer_name") == [
        ("Right", "tracking/callrail/a_corrected.jsonl")
    ]
    assert latest(raw_conn, "asterisk_cdr", "pbx_id, uniqueid, sequence", "clid") == [
        ('"Right" <+1>', "pbx/pbx_east/cdr/Master-2026-03-08-fixed.csv")
    ]


def test_files_of_the_same_time_load_in_path_order_each_loaded_after_the_last(raw_conn, tmp_path):
    for name in ("b.jsonl", "a.jsonl", "sub/c.jsonl"):
        write(tmp_path, f"tracking/callrail/{name}", callrail_line(name), T0)
    write(tmp_path, "tracking/callrail/0_newest.jsonl", callrail_line("newest"), T0 + 1)

    result = load(raw_conn, tmp_path, "callrail", "calls")

    order = [
        "tracking/callrail/a.jsonl",
        "tracking/callrail/b.jsonl",
        "tracking/callrail/sub/c.jsonl",
        "tracking/callrail/0_newest.jsonl",
    ]
    assert [f.path for f in result.files] == order
    loaded = raw_conn.execute(
        "select _source_file from raw.callrail_calls order by _loaded_at"
    ).fetchall()
    assert [file for (file,) in loaded] == order
    assert raw_conn.execute(
        "select count(distinct _loaded_at) from raw.callrail_calls"
    ).fetchone() == (4,)


def test_a_file_that_waited_for_the_loading_lock_is_loaded_after_the_file_that_held_it(
    raw_conn, server_url, tmp_path
):
    """Incremental staging reads the rows loaded after the newest it staged, so a file that
    commits later must have the later _loaded_at, even when its transaction began first."""
    write(tmp_path, "tracking/callrail/late.jsonl", callrail_line("late"), T0)
    url = raw_conn.info.dsn
    with psycopg.connect(url) as holder:
        # another loader holds calls' loading lock, as while it loads a file
        holder.execute("select pg_advisory_xact_lock(hashtext('callrail_calls'))")
        waiting = threading.Thread(target=load, args=(raw_conn, tmp_path, "callrail", "calls"))
        waiting.start()
        time.sleep(0.5)  # the load's transaction has begun and waits for the lock
        (released_at,) = holder.execute("select clock_timestamp()").fetchone()
        holder.commit()
        waiting.join(timeout=30)
    (loaded_at,) = raw_conn.execute("select _loaded_at from raw.callrail_calls").fetchone()
    assert loaded_at > released_at


def test_every_raw_table_has_its_lookup_and_loaded_at_indexes(raw_conn):
    indexes = {
        (table, name): definition
        for table, name, definition in raw_conn.execute(
            "select tablename, indexname, indexdef from pg_indexes where schemaname = 'raw'"
        )
    }
    assert set(indexes) >= {
        (t.storage, f"{t.storage}__{suffix}")
        for t in RAW_TABLES
        for suffix in ("lookup", "loaded_at")
    }
    # the leading never-null columns of the natural key: (pbx_id, uniqueid, sequence) may
    # have no sequence, so the CDR's index is on the first two
    assert indexes[("asterisk_cdr", "asterisk_cdr__lookup")].endswith("(pbx_id, uniqueid)")
    # a load's rows by block ranges: a B-tree on _loaded_at slowed every load
    assert all(
        "USING brin (_loaded_at)" in indexes[(t.storage, f"{t.storage}__loaded_at")]
        for t in RAW_TABLES
    )


def test_the_btree_on_loaded_at_of_an_older_loader_becomes_a_brin_index(raw_conn):
    raw_conn.execute("drop index raw.asterisk_queue_log__loaded_at")
    raw_conn.execute(
        "create index asterisk_queue_log__loaded_at on raw.asterisk_queue_log (_loaded_at)"
    )
    ensure_raw_schema(raw_conn)
    assert (
        raw_conn.execute(
            "select indexdef from pg_indexes where indexname = 'asterisk_queue_log__loaded_at'"
        )
        .fetchone()[0]
        .endswith("USING brin (_loaded_at)")
    )


def _plan(conn: psycopg.Connection, query: str) -> str:
    with conn.transaction():
        conn.execute("set local enable_seqscan = off")
        return "\n".join(row[0] for row in conn.execute(f"explain {query}"))


def test_the_views_of_records_only_tables_read_through_their_indexes(raw_conn):
    """Staging finds every delivery of a record by the view's key columns, and a load's rows
    by _loaded_at: both must reach the storage table's indexes through the view."""
    by_key = _plan(
        raw_conn,
        "select * from raw.hubspot_deals where id = '7' and updated_at = '2026-03-09T15:00:00Z'",
    )
    assert "hubspot_deals__records__lookup" in by_key
    assert "Filter" not in by_key  # both key columns are in the index's condition
    since = _plan(raw_conn, "select * from raw.square_payments where _loaded_at > now()")
    assert "square_payments__records__loaded_at" in since


def test_staging_compares_with_equals_only_the_columns_the_loader_indexes_as_never_null():
    """Each staging model names its natural key and lookup columns for dedupe_latest; they
    must be the raw table's (tables.py). A nullable column compared with `=` would drop the
    records where it is empty from every incremental build."""
    calls = {}
    for path in (PROJECT_DIR / "models" / "staging").rglob("stg_*.sql"):
        found = re.search(
            r"dedupe_latest\(source\('(\w+)', '(\w+)'\),\s*(\[[^\]]*\])"
            r"(?:,\s*'[^']*')?(?:,\s*lookup=(\[[^\]]*\]))?\)",
            path.read_text(),
        )
        if found:
            source, name, key, lookup = found.groups()
            key = tuple(ast.literal_eval(key))
            calls[(source, name)] = (key, tuple(ast.literal_eval(lookup)) if lookup else key)
    assert set(calls) == {table.asset_key for table in RAW_TABLES}
    for asset_key, (key, lookup) in calls.items():
        table = table_by_key(*asset_key)
        assert key == table.natural_key[: len(key)], asset_key  # Hubspot stages by id alone
        assert lookup == tuple(c for c in table.lookup_key if c in key), asset_key


def test_a_raw_table_of_the_older_loader_gets_the_loading_lock_time(raw_conn):
    raw_conn.execute("alter table raw.asterisk_queue_log alter column _loaded_at set default now()")
    ensure_raw_schema(raw_conn)
    (default,) = raw_conn.execute(
        "select pg_get_expr(adbin, adrelid) from pg_attrdef d join pg_attribute a "
        "on a.attrelid = d.adrelid and a.attnum = d.adnum "
        "where d.adrelid = 'raw.asterisk_queue_log'::regclass and a.attname = '_loaded_at'"
    ).fetchone()
    assert "callshrink.loaded_at" in default


# --- identity: source folder and content -------------------------------------------------------

QUEUE_LOG = "\n".join(event(1772953200 + i) for i in range(3)) + "\n"


def test_the_same_bytes_under_two_pbx_folders_are_two_pbxs_records(raw_conn, tmp_path):
    write(tmp_path, "pbx/pbx_a/queue_log/queue_log", QUEUE_LOG, T0)
    write(tmp_path, "pbx/pbx_b/queue_log/queue_log", QUEUE_LOG, T0 + 1)

    first = load(raw_conn, tmp_path, "asterisk", "queue_log")

    assert [(f.source_folder, f.skipped_as, f.rows_loaded) for f in first.files] == [
        ("pbx/pbx_a/queue_log", None, 3),
        ("pbx/pbx_b/queue_log", None, 3),
    ]
    assert raw_conn.execute(
        "select pbx_id, count(*) from raw.asterisk_queue_log group by 1 order by 1"
    ).fetchall() == [("pbx_a", 3), ("pbx_b", 3)]

    # the same bytes again in pbx_a's folder, under another name or in a subfolder
    write(tmp_path, "pbx/pbx_a/queue_log/queue_log.1", QUEUE_LOG, T0 + 2)
    write(tmp_path, "pbx/pbx_a/queue_log/2026/queue_log", QUEUE_LOG, T0 + 3)
    second = load(raw_conn, tmp_path, "asterisk", "queue_log")

    assert [(f.path, f.skipped_as) for f in second.files] == [
        ("pbx/pbx_a/queue_log/queue_log", "pbx/pbx_a/queue_log/queue_log"),
        ("pbx/pbx_b/queue_log/queue_log", "pbx/pbx_b/queue_log/queue_log"),
        ("pbx/pbx_a/queue_log/queue_log.1", "pbx/pbx_a/queue_log/queue_log"),
        ("pbx/pbx_a/queue_log/2026/queue_log", "pbx/pbx_a/queue_log/queue_log"),
    ]
    assert raw_conn.execute("select count(*) from raw.asterisk_queue_log").fetchone() == (6,)
    assert raw_conn.execute(
        "select source_folder, source_file from raw._load_files order by 1"
    ).fetchall() == [
        ("pbx/pbx_a/queue_log", "pbx/pbx_a/queue_log/queue_log"),
        ("pbx/pbx_b/queue_log", "pbx/pbx_b/queue_log/queue_log"),
    ]


# --- a file read before is not read again -------------------------------------------------------


@pytest.fixture
def hashed(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The files the loader reads to hash (by path below the landing folder's parent)."""
    read: list[str] = []
    real = loader_module._sha256

    def hashing(path: Path) -> str:
        read.append(path.as_posix())
        return real(path)

    monkeypatch.setattr(loader_module, "_sha256", hashing)
    return read


def test_a_file_unchanged_since_it_was_loaded_is_skipped_unread(raw_conn, tmp_path, hashed):
    write(tmp_path, "pbx/pbx_a/queue_log/queue_log", QUEUE_LOG, T0)
    write(tmp_path, "pbx/pbx_a/queue_log/queue_log.1", QUEUE_LOG, T0 + 1)  # a re-delivery
    first = load(raw_conn, tmp_path, "asterisk", "queue_log")
    assert [f.skipped_as for f in first.files] == [None, "pbx/pbx_a/queue_log/queue_log"]
    assert len(hashed) == 2
    hashed.clear()

    again = load(raw_conn, tmp_path, "asterisk", "queue_log")

    assert hashed == []
    assert [(f.path, f.skipped_as, f.sha256) for f in again.files] == [
        (f.path, "pbx/pbx_a/queue_log/queue_log", f.sha256) for f in first.files
    ]
    assert raw_conn.execute("select count(*) from raw.asterisk_queue_log").fetchone() == (3,)


def test_a_file_changed_in_place_is_read_again_and_loads(raw_conn, tmp_path, hashed):
    path = write(tmp_path, "pbx/pbx_a/queue_log/queue_log", QUEUE_LOG, T0)
    load(raw_conn, tmp_path, "asterisk", "queue_log")
    hashed.clear()
    # the PBX appends to its queue_log: a larger file, a later modification time
    write(tmp_path, "pbx/pbx_a/queue_log/queue_log", QUEUE_LOG + event(1772953300) + "\n", T0 + 60)

    again = load(raw_conn, tmp_path, "asterisk", "queue_log")

    assert hashed == [path.as_posix()]
    assert [(f.skipped_as, f.rows_loaded) for f in again.files] == [(None, 4)]


def test_a_file_rewritten_with_its_size_and_time_kept_loads_only_when_reread(
    raw_conn, tmp_path, hashed
):
    write(tmp_path, "pbx/pbx_a/queue_log/queue_log", QUEUE_LOG, T0)
    load(raw_conn, tmp_path, "asterisk", "queue_log")
    # other events of the same length, and the time put back (a restore that keeps times)
    rewritten = "\n".join(event(1772953210 + i) for i in range(3)) + "\n"
    assert len(rewritten) == len(QUEUE_LOG) and rewritten != QUEUE_LOG
    write(tmp_path, "pbx/pbx_a/queue_log/queue_log", rewritten, T0)
    hashed.clear()

    unread = load(raw_conn, tmp_path, "asterisk", "queue_log")
    assert hashed == [] and unread.files[0].skipped_as is not None

    reread = load(raw_conn, tmp_path, "asterisk", "queue_log", reread=True)
    assert len(hashed) == 1
    assert [(f.skipped_as, f.rows_loaded) for f in reread.files] == [(None, 3)]
    assert raw_conn.execute("select count(*) from raw.asterisk_queue_log").fetchone() == (6,)


# The manifest as the loader before folder identity wrote it (callshrink/ingest/loader.py,
# commit 42358fb): identity = (raw_table, file_sha256), no source_folder.
OLD_MANIFEST = """
create schema raw;
create table raw._loads (
    load_id uuid primary key,
    landing_dir text not null,
    started_at timestamptz not null default now(),
    finished_at timestamptz
);
create table raw._load_files (
    raw_table text not null,
    file_sha256 text not null,
    source_file text not null,
    size_bytes bigint not null,
    lines_read integer not null,
    rows_loaded integer not null,
    rows_quarantined integer not null,
    load_id uuid not null references raw._loads (load_id),
    loaded_at timestamptz not null default now(),
    primary key (raw_table, file_sha256),
    check (lines_read = rows_loaded + rows_quarantined)
);
"""


def _old_row(conn, table: str, path: Path, landing: Path, load_id: uuid.UUID) -> None:
    digest = loader_module._sha256(path)
    conn.execute(
        "insert into raw._load_files (raw_table, file_sha256, source_file, size_bytes, "
        "lines_read, rows_loaded, rows_quarantined, load_id) values (%s, %s, %s, %s, 3, 3, 0, %s)",
        (table, digest, path.relative_to(landing).as_posix(), path.stat().st_size, load_id),
    )


def _manifest_key(conn) -> list[str]:
    return conn.execute(
        "select array_agg(a.attname::text order by k.ord) from pg_constraint c "
        "cross join unnest(c.conkey) with ordinality k(attnum, ord) "
        "join pg_attribute a on a.attrelid = c.conrelid and a.attnum = k.attnum "
        "where c.conrelid = 'raw._load_files'::regclass and c.contype = 'p'"
    ).fetchone()[0]


def test_a_manifest_of_the_older_loader_keeps_every_file_it_loaded_loaded(server_url, tmp_path):
    url = recreate_database(server_url, "callshrink_test_old_manifest")
    pbx_a = write(tmp_path, "pbx/pbx_a/queue_log/queue_log", QUEUE_LOG, T0)
    calls = write(tmp_path, "tracking/callrail/2026-03/calls.jsonl", callrail_line("Ann"), T0)
    with psycopg.connect(url) as conn:
        with conn.transaction():
            conn.execute(OLD_MANIFEST)
            old_load = start_load(conn, tmp_path)
            _old_row(conn, "asterisk_queue_log", pbx_a, tmp_path, old_load)
            _old_row(conn, "callrail_calls", calls, tmp_path, old_load)
        assert _manifest_key(conn) == ["raw_table", "file_sha256"]

        ensure_raw_schema(conn)
        ensure_raw_schema(conn)  # once migrated, nothing more to do

        assert _manifest_key(conn) == MANIFEST_KEY
        assert conn.execute(
            "select raw_table, source_folder, source_file, lines_decoded_latin1, "
            "records_unreadable from raw._load_files order by 1"
        ).fetchall() == [
            ("asterisk_queue_log", "pbx/pbx_a/queue_log", "pbx/pbx_a/queue_log/queue_log", 0, 0),
            ("callrail_calls", "tracking/callrail", "tracking/callrail/2026-03/calls.jsonl", 0, 0),
        ]
        # what the older loader loaded stays loaded, under its name or another anywhere in
        # its source folder
        write(tmp_path, "tracking/callrail/calls-again.jsonl", callrail_line("Ann"), T0 + 1)
        again = load(conn, tmp_path, "callrail", "calls")
        assert [f.skipped_as for f in again.files] == ["tracking/callrail/2026-03/calls.jsonl"] * 2
        # the same queue_log under another PBX, which the older loader skipped, now loads
        write(tmp_path, "pbx/pbx_b/queue_log/queue_log", QUEUE_LOG, T0 + 1)
        queue_log = load(conn, tmp_path, "asterisk", "queue_log")
        assert [(f.path, f.skipped_as, f.rows_loaded) for f in queue_log.files] == [
            ("pbx/pbx_a/queue_log/queue_log", "pbx/pbx_a/queue_log/queue_log", 0),
            ("pbx/pbx_b/queue_log/queue_log", None, 3),
        ]
        assert conn.execute("select count(*) from raw._load_files").fetchone() == (3,)


# --- a PBX's encoding ------------------------------------------------------------------------

JOSE = '"José" <+15550102345>'


def test_pbx_encodings_come_from_the_reference_and_the_column_is_optional(tmp_path, monkeypatch):
    monkeypatch.setenv("CALLSHRINK_REFERENCE_DIR", str(tmp_path))
    assert pbx_encodings() == {}  # no pbx_systems.csv
    (tmp_path / "pbx_systems.csv").write_text("pbx_id,timezone\npbx_east,America/New_York\n")
    assert pbx_encodings() == {"pbx_east": ""}
    (tmp_path / "pbx_systems.csv").write_bytes(
        b"\xef\xbb\xbfpbx_id,timezone,encoding\r\npbx_east,UTC, latin-1 \r\npbx_west,UTC,\r\n"
    )
    assert pbx_encodings() == {"pbx_east": "latin-1", "pbx_west": ""}


@pytest.mark.parametrize(
    ("encoding", "says"),
    [("klingon", "'klingon' is not an encoding Python knows"), ("utf-16", "lines cannot be split")],
)
def test_an_encoding_that_cannot_be_used_stops_the_load_before_any_file(
    raw_conn, tmp_path, encoding, says
):
    write(tmp_path, "pbx/pbx_east/cdr/Master.csv", cdr("1.1") + "\n")
    with pytest.raises(ValueError, match=f"pbx_systems.encoding of pbx_west: .*{says}"):
        load(raw_conn, tmp_path, "asterisk", "cdr", {"pbx_east": "", "pbx_west": encoding})
    raw_conn.rollback()
    assert raw_conn.execute("select count(*) from raw._load_files").fetchone() == (0,)


def test_clean_files_with_a_bom_crlf_or_a_declared_encoding_still_load_by_copy(
    raw_conn, tmp_path, monkeypatch
):
    """The fast path stays fast: only a file the server refuses takes the careful path, and
    both store the same rows."""
    line = cdr("1.1", clid=JOSE)
    write(tmp_path, "pbx/pbx_east/cdr/bom.csv", b"\xef\xbb\xbf" + (line + "\n").encode())
    write(tmp_path, "pbx/pbx_east/cdr/crlf.csv", (line + "\r\n" + cdr("1.2") + "\r\n").encode())
    write(tmp_path, "pbx/pbx_latin/cdr/copy.csv", (line + "\n").encode("latin-1"))

    def careful_path_not_expected(*args, **kwargs):
        raise AssertionError("a clean CDR file should load by COPY")

    monkeypatch.setattr(loader_module, "_copy_rows", careful_path_not_expected)
    encodings = {"pbx_east": "", "pbx_latin": "latin-1"}
    result = load(raw_conn, tmp_path, "asterisk", "cdr", encodings)
    assert result.total("rows_loaded") == 4
    monkeypatch.undo()

    # a blank line sends a file down the careful path: it stores the same rows
    write(tmp_path, "pbx/pbx_latin/cdr/careful.csv", (line + "\n\n").encode("latin-1"))
    write(tmp_path, "pbx/pbx_east/cdr/careful.csv", b"\xef\xbb\xbf" + (line + "\n\n").encode())
    load(raw_conn, tmp_path, "asterisk", "cdr", encodings)
    rows = raw_conn.execute(
        "select _source_file, accountcode, clid, _line_number from raw.asterisk_cdr "
        "where uniqueid = '1.1' order by 1"
    ).fetchall()
    assert rows == [
        ("pbx/pbx_east/cdr/bom.csv", "", JOSE, 1),
        ("pbx/pbx_east/cdr/careful.csv", "", JOSE, 1),
        ("pbx/pbx_east/cdr/crlf.csv", "", JOSE, 1),
        ("pbx/pbx_latin/cdr/careful.csv", "", JOSE, 1),
        ("pbx/pbx_latin/cdr/copy.csv", "", JOSE, 1),
    ]


def test_a_latin1_line_of_a_pbx_without_encoding_loads_and_is_counted(raw_conn, tmp_path):
    write(
        tmp_path,
        "pbx/pbx_east/cdr/Master.csv",
        (cdr("1.1", clid=JOSE) + "\n").encode("latin-1") + (cdr("1.2", clid=JOSE) + "\n").encode(),
    )
    result = load(raw_conn, tmp_path, "asterisk", "cdr", {})
    assert result.metadata()["lines_decoded_as_latin1"] == 1
    assert raw_conn.execute("select clid from raw.asterisk_cdr").fetchall() == [(JOSE,), (JOSE,)]
    assert raw_conn.execute(
        "select lines_read, rows_loaded, lines_decoded_latin1 from raw._load_files"
    ).fetchone() == (2, 2, 1)
