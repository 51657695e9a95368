"""Least privilege: the app's role reads the marts and nothing else, on the suite's real server.

Every check connects as the app does (CALLSHRINK_APP_DATABASE_URL, which tests/conftest.py points
at the app role's URL for the suite's database) and names the error it expects: a permission
denied, never a mere failure, so that a grant too many shows as a test failing.
"""

from __future__ import annotations

import os
import subprocess
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest
from psycopg import sql

from callshrink import finance, settings
from callshrink.dbt import dbt
from tests.conftest import PipelineRun

SCRIPT = settings.PROJECT_DIR / "scripts" / "app_role.sql"
# Every schema the pipeline writes, except the marts (restricted: callers' numbers and the key
# of their hash).
OTHER_LAYERS = ("raw", "staging", "intermediate", "reference", "snapshots", "restricted")


@pytest.fixture(scope="module")
def app_url(pipeline_run: PipelineRun, app_server: str | None) -> str:
    if app_server is None:
        pytest.skip(
            "the app role's URL on this server is unknown: set CALLSHRINK_APP_DATABASE_URL "
            "(README: Least privilege)"
        )
    return os.environ[settings.APP_DATABASE_URL_VAR]


@pytest.fixture
def app(app_url: str) -> Iterator[psycopg.Connection]:
    with psycopg.connect(app_url, autocommit=True) as connection:
        yield connection


def _relations(conn: psycopg.Connection, schema: str) -> list[str]:
    rows = conn.execute(
        "select table_name from information_schema.tables where table_schema = %s order by 1",
        (schema,),
    ).fetchall()
    return [name for (name,) in rows]


def _denied(app: psycopg.Connection, statement: str | sql.Composable) -> str:
    """Run a statement as the app role; return the permission error it must raise."""
    with pytest.raises(psycopg.errors.InsufficientPrivilege) as raised:
        app.execute(statement)
    return str(raised.value)


def test_the_app_role_is_not_the_owner(app: psycopg.Connection, warehouse_url: str):
    user, superuser, create_role, create_db, replication, bypass_rls = app.execute(
        "select current_user, rolsuper, rolcreaterole, rolcreatedb, rolreplication, rolbypassrls "
        "from pg_roles where rolname = current_user"
    ).fetchone()
    assert user == settings.app_role()
    assert user != settings.Connection.from_url(warehouse_url).user
    assert (superuser, create_role, create_db, replication, bypass_rls) == (False,) * 5
    # a member of no role: no pg_read_all_data, pg_read_server_files, nor the owner's privileges
    memberships = app.execute(
        "select count(*) from pg_auth_members where member = "
        "(select oid from pg_roles where rolname = current_user)"
    ).fetchone()
    assert memberships == (0,)


def test_the_app_role_reads_every_mart(app: psycopg.Connection, conn: psycopg.Connection):
    (calls,) = app.execute("select count(*) from marts.calls").fetchone()
    assert calls > 0
    marts = _relations(conn, settings.dbt_schema("marts"))
    assert {"calls", "missed_calls", "revenue_reconciliation", "data_health"} <= set(marts)
    # the finance marts the export and the app's closed months read
    assert {"revenue_reconciliation_totals", "revenue_left_out_totals", "revenue_months"} <= set(
        marts
    )
    for name in marts:
        app.execute(
            sql.SQL("select * from {} limit 1").format(
                sql.Identifier(settings.dbt_schema("marts"), name)
            )
        )


def test_the_app_role_reads_finances_months_and_export(
    app: psycopg.Connection, conn: psycopg.Connection
):
    """The app calls finance's functions on its own connection: they read marts only."""
    assert finance.closed_months(app) == finance.closed_months(conn)
    assert finance.revenue_months(app) == finance.revenue_months(conn)
    month = finance.parse_month(finance.revenue_months(conn)[0])
    assert finance.daily_rows(app, month) == finance.daily_rows(conn, month)


@pytest.mark.parametrize("schema", OTHER_LAYERS)
def test_the_app_role_reads_no_other_layer(
    app: psycopg.Connection, conn: psycopg.Connection, schema: str
):
    relations = _relations(conn, schema)
    assert relations, f"the pipeline built nothing in {schema}"
    if schema == "raw":
        assert "asterisk_cdr" in relations
    for name in relations:
        relation = sql.Identifier(schema, name)
        error = _denied(app, sql.SQL("select * from {} limit 1").format(relation))
        assert f"permission denied for schema {schema}" in error


def test_the_app_role_cannot_call_the_callback_list(app: psycopg.Connection):
    """restricted.callback_list returns callers' numbers: the app's role may not call it (the
    Call back page reads it on staff's connection)."""
    error = _denied(app, "select * from restricted.callback_list()")
    assert "permission denied for schema restricted" in error
    # the recovery curve it ranks by holds no number: a mart like any other
    assert app.execute("select count(*) from marts.callback_recovery_curve").fetchone()[0] > 0


def test_the_app_role_reads_no_server_file(app: psycopg.Connection):
    assert "pg_read_file" in _denied(app, "select pg_read_file('postgresql.conf')")
    assert "pg_ls_dir" in _denied(app, "select pg_ls_dir('.')")
    _denied(app, "copy (select 1) to '/tmp/callshrink_app_role_test'")
    assert not Path("/tmp/callshrink_app_role_test").exists()


@pytest.mark.parametrize(
    "statement",
    [
        "insert into marts.calls (call_id) values ('written by the app')",
        "update marts.calls set call_id = call_id",
        "delete from marts.calls",
        "truncate marts.calls",
        "drop table marts.calls",
        "alter table marts.calls add column written text",
        "create table marts.written (id int)",
        "create table public.written (id int)",
        "create view marts.written as select 1 as id",
        "create schema written",
    ],
)
def test_the_app_role_writes_nothing(app: psycopg.Connection, conn: psycopg.Connection, statement):
    before = conn.execute("select count(*) from marts.calls").fetchone()
    _denied(app, statement)
    assert conn.execute("select count(*) from marts.calls").fetchone() == before


def test_grants_survive_a_rebuild_of_the_marts(app: psycopg.Connection, conn: psycopg.Connection):
    """dbt drops and creates a table again on every build: its +grants give it back."""
    before = conn.execute("select 'marts.dim_hours'::regclass::oid").fetchone()
    dbt(["run", "--quiet", "--select", "dim_hours"])
    after = conn.execute("select 'marts.dim_hours'::regclass::oid").fetchone()
    assert after != before, "dbt did not rebuild the table"
    assert app.execute("select count(*) from marts.dim_hours").fetchone() == (24,)


def test_the_sql_script_for_a_server_of_ones_own(
    pipeline_run: PipelineRun, app_server: str | None, conn: psycopg.Connection
):
    """scripts/app_role.sql, run as an administrator, gives a role the same least privilege."""
    from pgserver._commands import POSTGRES_BIN_PATH

    if app_server is None:
        pytest.skip("a server of the user's: the suite does not create roles there")
    role, password = "callshrink_app_script_test", "a-Password-0f-the-test"
    owner_url = os.environ[settings.DATABASE_URL_VAR]
    psql = [str(POSTGRES_BIN_PATH / "psql"), owner_url, "--no-psqlrc", "--quiet"]
    variables = ["-v", f"app_role={role}", "-v", f"app_password={password}"]
    try:
        for _ in range(2):  # idempotent: a second run changes nothing but the password
            done = subprocess.run(
                [*psql, *variables, "-f", str(SCRIPT)],
                capture_output=True,
                text=True,
                timeout=60,
            )
            assert done.returncode == 0, done.stdout + done.stderr
            assert "done" in done.stdout
        with psycopg.connect(settings.with_login(owner_url, role, password)) as scripted:
            scripted.autocommit = True
            assert scripted.execute("select count(*) from marts.calls").fetchone()[0] > 0
            assert "permission denied for schema raw" in _denied(
                scripted, "select * from raw.asterisk_cdr limit 1"
            )
            _denied(scripted, "delete from marts.calls")
            assert "pg_read_file" in _denied(scripted, "select pg_read_file('postgresql.conf')")
            assert scripted.execute(
                "select rolsuper, rolcanlogin from pg_roles where rolname = current_user"
            ).fetchone() == (False, True)
    finally:
        conn.execute(sql.SQL("drop owned by {}").format(sql.Identifier(role)))
        conn.execute(sql.SQL("drop role if exists {}").format(sql.Identifier(role)))
