"""A caller's full number is in the restricted schema only: no mart the app reads, no page and
no CSV it offers holds one. The numbers looked for are the generator's (its answer key lists
every call's caller), not the warehouse's, so a number that leaks under another column name or
in another format is still found."""

from __future__ import annotations

import csv
import hashlib
import re
from pathlib import Path

import psycopg
import pytest
from psycopg import sql
from streamlit.testing.v1 import AppTest

from callshrink import finance, settings
from tests.conftest import PipelineRun, offered_downloads

APP = str(settings.PROJECT_DIR / "app" / "streamlit_app.py")
PAGES = sorted(p.stem for p in (settings.PROJECT_DIR / "app" / "views").glob("*.py"))
# a phone number as people and tools write it: digits with spaces, dots, dashes, brackets
_NUMBER_LIKE = re.compile(r"\+?\d[\d\s().-]{8,}\d")


@pytest.fixture(scope="module")
def callers(pipeline_run: PipelineRun) -> set[str]:
    """The national part (last ten digits) of every number that called or was called."""
    with (pipeline_run.out / "answer_key" / "calls.csv").open(newline="") as handle:
        numbers = {row["caller_e164"] for row in csv.DictReader(handle)}
    cores = {re.sub(r"\D", "", n)[-10:] for n in numbers if len(re.sub(r"\D", "", n)) >= 10}
    assert len(cores) > 100, "the answer key lists the callers"
    return cores


# a decimal fraction (a rate, a sigma): 0.3333333333 is a third, not 333-333-3333
_FRACTION = re.compile(r"(?<![\d.])\d+\.\d{6,}(?![\d.])")


def leaked(text: str, callers: set[str]) -> list[str]:
    """The callers' numbers written in ``text``, whatever their punctuation."""
    found = []
    for match in _NUMBER_LIKE.finditer(_FRACTION.sub(" ", text)):
        digits = re.sub(r"\D", "", match.group())
        found += [core for core in callers if core in digits]
    return found


def test_leaked_finds_a_number_however_it_is_written(callers: set[str]):
    core = min(callers)
    for written in (
        f"+1{core}",
        f"({core[:3]}) {core[3:6]}-{core[6:]}",
        f"{core[:3]}.{core[3:6]}.{core[6:]}",
        f"Local/1{core}@from-internal",
    ):
        assert leaked(f"x,{written},y", callers) == [core], written
    assert leaked(f"+1*******{core[-4:]}", callers) == []
    # a genuine caller may have ten repeated digits; a third stored to 10 decimals is no call
    assert leaked("0.3333333333,3333333333", {"3333333333"}) == ["3333333333"]
    assert leaked("sigma 0.3333333333,1.4444444444", {"3333333333", "4444444444"}) == []


def test_no_mart_holds_a_callers_number(conn: psycopg.Connection, callers: set[str]):
    marts = settings.dbt_schema("marts")
    names = [
        name
        for (name,) in conn.execute(
            "select table_name from information_schema.tables where table_schema = %s",
            (marts,),
        )
    ]
    assert {"calls", "call_legs", "missed_calls", "pbx_names"} <= set(names)
    for name in names:
        relation = sql.Identifier(marts, name)
        rows = conn.execute(sql.SQL("select t::text from {} t").format(relation)).fetchall()
        found = {core for (text,) in rows for core in leaked(text, callers)}
        assert not found, f"marts.{name} holds {len(found)} callers' numbers"


def test_the_restricted_schema_holds_them_in_clear(conn: psycopg.Connection, callers: set[str]):
    rows = conn.execute(
        "select caller_phone_e164 from restricted.caller_numbers "
        "where caller_phone_e164 is not null"
    ).fetchall()
    assert {phone[-10:] for (phone,) in rows} == callers


def test_the_caller_key_is_one_per_number_and_needs_the_warehouses_key(conn: psycopg.Connection):
    rows = conn.execute(
        "select n.caller_phone_e164, c.caller_key, c.caller_masked "
        "from marts.calls c join restricted.caller_numbers n using (call_id) "
        "where n.caller_phone_e164 is not null"
    ).fetchall()
    keys: dict[str, set[str]] = {}
    for phone, key, masked in rows:
        keys.setdefault(phone, set()).add(key)
        assert masked == phone[:2] + "*" * (len(phone) - 6) + phone[-4:]
    assert all(len(k) == 1 for k in keys.values()), "one key per number"
    by_key = {next(iter(k)) for k in keys.values()}
    assert len(by_key) == len(keys), "one number per key"
    assert all(re.fullmatch(r"[0-9a-f]{16}", key) for key in by_key)
    # not a plain hash of the number: without the warehouse's key, hashing every number does
    # not find it
    phone, key = next((p, next(iter(k))) for p, k in keys.items())
    assert hashlib.sha256(phone.encode()).hexdigest()[:16] != key
    (secret,) = conn.execute("select hash_key from restricted.caller_hash_key").fetchone()
    assert hashlib.sha256((secret + phone).encode()).hexdigest()[:16] == key


def _page_text(app: AppTest) -> str:
    """Everything a page writes: text elements, metrics, tables and dataframes."""
    parts: list[str] = []
    for kind in ("title", "header", "subheader", "markdown", "caption", "text", "info"):
        parts += [str(element.value) for element in getattr(app, kind)]
    for kind in ("warning", "error", "success", "exception"):
        parts += [str(element.value) for element in app.get(kind)]
    for metric in app.metric:
        parts += [str(metric.label), str(metric.value), str(metric.delta)]
    for frame in [*app.dataframe, *app.table]:
        parts.append(frame.value.astype(str).to_csv(index=False))
    return "\n".join(parts)


@pytest.mark.parametrize("page", PAGES)
def test_no_page_shows_a_callers_number(
    pipeline_run: PipelineRun, callers: set[str], page: str, monkeypatch: pytest.MonkeyPatch
):
    offered = offered_downloads(monkeypatch)
    app = AppTest.from_file(APP, default_timeout=120).switch_page(f"views/{page}.py").run()
    assert not app.exception, app.exception
    text = _page_text(app)
    assert len(text) > 200, "the page wrote something to look at"
    downloads = b"\n".join(offered.values()).decode("utf-8", "replace")
    assert not leaked(text, callers), page
    assert not leaked(downloads, callers), f"{page}: a download"


def test_the_finance_exports_hold_no_callers_number(
    pipeline_run: PipelineRun, conn: psycopg.Connection, callers: set[str], tmp_path: Path
):
    months = [
        month
        for (month,) in conn.execute(
            "select distinct to_char(revenue_date, 'YYYY-MM') from marts.revenue_attributions"
        )
    ]
    assert months
    for month in months:
        for level in finance.LEVELS:
            out = tmp_path / f"{month}_{level}.csv"
            finance.export_month(conn, finance.parse_month(month), out, level=level)
            assert not leaked(out.read_text(), callers), (month, level)


RESTRICTED_ROLE = "callshrink_restricted"  # var restricted_role


def test_the_restricted_role_reads_the_numbers_and_nothing_else(conn: psycopg.Connection):
    """People who must dial get the numbers by membership of the restricted role; it reads
    restricted.caller_numbers, not the hash's key, nor any other layer."""
    (may_create,) = conn.execute(
        "select rolcreaterole or rolsuper from pg_roles where rolname = current_user"
    ).fetchone()
    (login, exists) = conn.execute(
        "select bool_or(rolcanlogin), count(*) = 1 from pg_roles where rolname = %s",
        (RESTRICTED_ROLE,),
    ).fetchone()
    assert exists == may_create  # made by dbt's on-run-start wherever the owner may make roles
    if not may_create:
        return
    assert login is False
    with conn.transaction():
        conn.execute(sql.SQL("set local role {}").format(sql.Identifier(RESTRICTED_ROLE)))
        (numbers,) = conn.execute(
            "select count(caller_phone_e164) from restricted.caller_numbers"
        ).fetchone()
    assert numbers > 100
    for relation in ("restricted.caller_hash_key", "marts.calls", "raw.asterisk_cdr"):
        with pytest.raises(psycopg.errors.InsufficientPrivilege), conn.transaction():
            conn.execute(sql.SQL("set local role {}").format(sql.Identifier(RESTRICTED_ROLE)))
            conn.execute(f"select 1 from {relation} limit 1")
    # the callback list: its function and items, and the two marts it reads (no number in them)
    with conn.transaction():
        conn.execute(sql.SQL("set local role {}").format(sql.Identifier(RESTRICTED_ROLE)))
        listed = conn.execute("select count(*) from restricted.callback_list()").fetchone()
        conn.execute("select 1 from restricted.callback_work_items limit 1")
        conn.execute("select 1 from marts.callback_recovery_curve limit 1")
        conn.execute("select 1 from marts.conversion_cells limit 1")
    assert listed[0] > 0


def test_call_back_staff_log_in_as_members_of_the_restricted_role(staff_url: str):
    """The private server's staff role: a login with no power of its own, a member of the
    restricted role, reading the callback list and refused the rest."""
    with psycopg.connect(staff_url, autocommit=True) as staff:
        row = staff.execute(
            "select rolsuper, rolcreaterole, rolcreatedb, rolbypassrls, "
            "pg_has_role(current_user, %s, 'member') from pg_roles where rolname = current_user",
            (RESTRICTED_ROLE,),
        ).fetchone()
        assert row == (False, False, False, False, True)
        (callers,) = staff.execute("select count(*) from restricted.callback_list()").fetchone()
        assert callers > 0
        for relation in ("restricted.caller_hash_key", "marts.calls", "raw.asterisk_cdr"):
            with pytest.raises(psycopg.errors.InsufficientPrivilege):
                staff.execute(f"select 1 from {relation} limit 1")
