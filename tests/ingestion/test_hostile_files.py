"""Files as they really arrive: the hostile corpus (hostile.py) loaded into a real Postgres by
``load_table``, as the ingestion assets call it (the PBX encodings from the reference folder's
pbx_systems.csv). For every file: lines read = loaded + quarantined, the good records are
there with their values at their physical line, and each bad line is quarantined with its
file, line and a reason naming the field or the byte."""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import psycopg
import pytest

from callshrink.ingest import RAW_TABLES, ensure_raw_schema, load_table
from callshrink.ingest.loader import FileResult, start_load
from tests.conftest import drop_database, recreate_database
from tests.ingestion.hostile import COLUMNS, CORPUS, PBX_SYSTEMS, Hostile

DATABASE = "callshrink_test_hostile"


@pytest.fixture(scope="module")
def loaded(
    server_url: str, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[psycopg.Connection, dict[str, FileResult], list[str]]]:
    """The corpus in one landing folder, every raw table loaded once."""
    root = tmp_path_factory.mktemp("hostile")
    landing, reference = root / "landing", root / "reference"
    reference.mkdir()
    (reference / "pbx_systems.csv").write_text(PBX_SYSTEMS)
    for case in CORPUS:
        path = landing / case.path
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(case.data)
    url = recreate_database(server_url, DATABASE)
    results: dict[str, FileResult] = {}
    messages: list[str] = []
    with pytest.MonkeyPatch.context() as patch, psycopg.connect(url) as conn:
        patch.setenv("CALLSHRINK_REFERENCE_DIR", str(reference))
        ensure_raw_schema(conn)
        load_id = start_load(conn, landing, uuid.uuid4())
        for table in RAW_TABLES:
            result = load_table(conn, table, landing, load_id, log=messages.append)
            results.update((f.path, f) for f in result.files)
        yield conn, results, messages
    drop_database(server_url, DATABASE)


@pytest.mark.parametrize("case", CORPUS, ids=[case.name for case in CORPUS])
def test_a_hostile_file_loads_its_good_lines_and_quarantines_the_bad_ones(
    case: Hostile, loaded
) -> None:
    conn, results, _ = loaded
    result = results[case.path]
    assert result.skipped_as is None
    manifest = conn.execute(
        "select lines_read, rows_loaded, rows_quarantined, lines_decoded_latin1, "
        "records_unreadable from raw._load_files where source_file = %s",
        (case.path,),
    ).fetchone()
    assert manifest == (
        result.lines_read,
        result.rows_loaded,
        result.rows_quarantined,
        result.lines_decoded_latin1,
        result.records_unreadable,
    )
    assert result.lines_read == result.rows_loaded + result.rows_quarantined
    quarantined = conn.execute(
        "select raw_table, line_number, reason, raw_text from raw._quarantine "
        "where source_file = %s order by line_number",
        (case.path,),
    ).fetchall()
    assert {table for table, *_ in quarantined} <= {case.table}
    rows = conn.execute(
        f"select _line_number, {COLUMNS[case.table]} from raw.{case.table} "
        "where _source_file = %s order by _line_number, 2",
        (case.path,),
    ).fetchall()

    if case.quarantined is None:  # garbage: nothing loads, every line read is quarantined
        assert rows == []
        assert result.rows_loaded == 0 < result.lines_read == result.rows_quarantined
        assert len(quarantined) == result.lines_read
        assert all(reason for _, _, reason, _ in quarantined)
        return
    assert rows == case.rows
    assert (result.lines_read, result.rows_loaded, result.rows_quarantined) == (
        len(case.rows) + len(case.quarantined),
        len(case.rows),
        len(case.quarantined),
    )
    assert [line for _, line, _, _ in quarantined] == sorted(case.quarantined)
    for _, line, reason, raw_text in quarantined:
        assert case.quarantined[line] in reason, (line, reason)
        assert "\x00" not in raw_text
    assert (result.lines_decoded_latin1, result.records_unreadable) == (
        case.latin1,
        case.unreadable,
    )


def test_the_run_names_what_it_decoded_as_latin1_and_the_calls_it_could_not_read(loaded):
    _, _, messages = loaded
    assert (
        "pbx/pbx_east/cdr/latin1.csv: 1 lines are not valid UTF-8 and were decoded as Latin-1 "
        "(set the PBX's encoding in pbx_systems to say which it writes)"
    ) in messages
    assert (
        "tracking/callrail/pretty_p1.json: the page is cut short at line 55: 6 complete calls "
        "read, 4 could not be (it announces 10)"
    ) in messages
    assert any(m.startswith("quarantined pbx/pbx_east/cdr/nul.csv:2: a NUL byte") for m in messages)


def test_the_corpus_covers_every_table_it_names(loaded):
    _, results, _ = loaded
    assert {case.path for case in CORPUS} == set(results)
    assert len(CORPUS) == len({case.name for case in CORPUS})
