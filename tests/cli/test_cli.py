"""The callshrink command as a user runs it: help, the private server, the app and Ctrl-C."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import urllib.request
from pathlib import Path

import psutil
import psycopg
import pytest

from callshrink import cli
from callshrink.dbt import tool
from tests.servers import free_port, wait_for

COMMANDS = [
    "db",
    "generate",
    "run",
    "quarantine",
    "doctor",
    "export",
    "callbacks",
    "app",
    "dev",
    "docs",
    "demo",
]


def callshrink(*args: str, env: dict[str, str], timeout: int = 120) -> subprocess.CompletedProcess:
    return subprocess.run(
        [tool("callshrink"), *args], env=env, capture_output=True, text=True, timeout=timeout
    )


@pytest.fixture
def private_env(tmp_path: Path) -> dict[str, str]:
    """An environment with no database configured and an empty CALLSHRINK_HOME."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("CALLSHRINK_")}
    env["CALLSHRINK_HOME"] = str(tmp_path / "home")
    yield env
    callshrink("db", "stop", env=env)


def test_every_command_has_help(private_env):
    top = callshrink("--help", env=private_env)
    assert top.returncode == 0
    for command in COMMANDS:
        assert command in top.stdout
        result = callshrink(command, "--help", env=private_env)
        assert result.returncode == 0, result.stderr
        assert result.stdout.startswith(f"usage: callshrink {command}")
    assert "--locations" in callshrink("generate", "--help", env=private_env).stdout


def test_private_server_starts_answers_and_stops(private_env, tmp_path):
    started = callshrink("db", "start", env=private_env)
    assert started.returncode == 0, started.stderr
    url = started.stdout.strip()
    assert url.startswith("postgresql://") and "/callshrink?host=" in url
    assert (tmp_path / "home" / "pgdata" / "PG_VERSION").exists()
    assert "running" in callshrink("db", "status", env=private_env).stdout
    assert callshrink("db", "url", env=private_env).stdout.strip() == url
    with psycopg.connect(url) as conn:
        assert conn.execute("select current_database()").fetchone() == ("callshrink",)
        # text sorts byte by byte (db.create_database), whatever the machine's locale: code
        # point order, capitals first (a language's collation puts a before B)
        assert conn.execute(
            "select datcollate, (select array_agg(t order by t) from "
            "unnest(array['b', 'é', 'B', 'a']) as t) from pg_database "
            "where datname = current_database()"
        ).fetchone() == ("C", ["B", "a", "b", "é"])
    again = callshrink("db", "start", env=private_env)  # idempotent
    assert again.stdout.strip() == url
    assert callshrink("db", "url", "--show-password", env=private_env).stdout.strip() == url

    # the app's role: its password generated once, kept for the owner only, hidden in URLs
    password_file = tmp_path / "home" / "app_role.password"
    assert password_file.stat().st_mode & 0o777 == 0o600
    password = password_file.read_text().strip()
    assert len(password) >= 32
    app_url = url.replace("postgresql://postgres@", f"postgresql://callshrink_app:{password}@")
    shown = callshrink("db", "url", "--role", "app", env=private_env).stdout.strip()
    assert shown == url.replace("postgresql://postgres@", "postgresql://callshrink_app:***@")
    assert password not in shown
    revealed = callshrink("db", "url", "--role", "app", "--show-password", env=private_env)
    assert revealed.stdout.strip() == app_url
    with psycopg.connect(app_url) as conn:
        assert conn.execute(
            "select current_user, rolsuper from pg_roles where rolname = current_user"
        ).fetchone() == ("callshrink_app", False)
    # pgserver trusts every local connection; the app's role alone must give its password
    for wrong in (url.replace("postgres@", "callshrink_app@"), app_url.replace(password, "x")):
        with pytest.raises(psycopg.OperationalError, match="password"):
            psycopg.connect(wrong)
    callshrink("db", "start", env=private_env)  # idempotent: the same password
    assert password_file.read_text().strip() == password
    assert "app role: callshrink_app" in callshrink("db", "status", env=private_env).stdout

    assert callshrink("db", "stop", env=private_env).stdout.strip() == "private server stopped"
    assert "stopped" in callshrink("db", "status", env=private_env).stdout
    assert callshrink("db", "url", "--no-start", env=private_env).returncode != 0


def test_the_private_server_writes_a_table_built_in_one_transaction_once(private_env):
    # not a second time through the WAL (callshrink/db.py: wal_level minimal, which takes a
    # restart of the new server, and no other after it)
    url = callshrink("db", "start", env=private_env).stdout.strip()
    with psycopg.connect(url, autocommit=True) as conn:
        started = conn.execute("select pg_postmaster_start_time()").fetchone()
        before = conn.execute("select pg_current_wal_lsn()").fetchone()[0]
        with conn.transaction():
            conn.execute(
                "create table built as select g, repeat('x', 100) as pad "
                "from generate_series(1, 200000) as g"
            )
            conn.execute("create index on built (g)")
        table_bytes, wal_bytes = conn.execute(
            "select pg_total_relation_size('built'), pg_wal_lsn_diff(pg_current_wal_lsn(), %s)",
            (before,),
        ).fetchone()
    assert table_bytes > 25_000_000
    assert wal_bytes < table_bytes / 100, (wal_bytes, table_bytes)
    callshrink("db", "start", env=private_env)
    with psycopg.connect(url) as conn:
        assert conn.execute("select pg_postmaster_start_time()").fetchone() == started


def _on(connection, port: int) -> bool:
    return connection.status == psutil.CONN_LISTEN and connection.laddr.port == port


def _listens(process: psutil.Process, port: int) -> bool:
    return any(_on(c, port) for c in process.net_connections("inet"))


def test_app_serves_and_ctrl_c_stops_it_and_the_private_server(private_env):
    port = free_port()
    app = subprocess.Popen(
        [tool("callshrink"), "app", "--port", str(port), "--stop-db"],
        env=private_env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        assert wait_for(f"http://127.0.0.1:{port}/_stcore/health", app, 90) == b"ok"
        assert "running" in callshrink("db", "status", env=private_env).stdout
        # it listens on this machine only, and holds the app role's URL, not the owner's
        servers = [p for p in psutil.Process(app.pid).children(recursive=True) if _listens(p, port)]
        assert servers, "no process listens on the port"
        for server in servers:
            addresses = {c.laddr.ip for c in server.net_connections("inet") if _on(c, port)}
            assert addresses == {"127.0.0.1"}
            environment = server.environ()
            assert "CALLSHRINK_DATABASE_URL" not in environment
            assert "CALLSHRINK_PGUSER" not in environment
            assert "//callshrink_app:" in environment["CALLSHRINK_APP_DATABASE_URL"]
    finally:
        app.send_signal(signal.SIGINT)
        output, _ = app.communicate(timeout=60)
    assert app.returncode == 0, output
    assert f"callshrink app: http://127.0.0.1:{port}" in output
    assert "WARNING" not in output
    assert "private Postgres stopped" in output
    assert "stopped" in callshrink("db", "status", env=private_env).stdout


def test_db_url_hides_passwords_unless_asked(private_env):
    owner = "postgresql://analyst:s3cret@db.example.com:5432/wh"
    private_env["CALLSHRINK_DATABASE_URL"] = owner

    def url(*args: str) -> str:
        done = callshrink("db", "url", *args, env=private_env)
        assert done.returncode == 0, done.stderr
        return done.stdout.strip()

    assert url() == "postgresql://analyst:***@db.example.com:5432/wh"
    assert url("--show-password") == owner
    # the app's role on a server of one's own: its URL must be given
    refused = callshrink("db", "url", "--role", "app", env=private_env)
    assert refused.returncode != 0
    assert "CALLSHRINK_APP_DATABASE_URL is not set" in refused.stderr
    assert "scripts/app_role.sql" in refused.stderr
    assert "s3cret" not in refused.stdout + refused.stderr
    private_env["CALLSHRINK_APP_DATABASE_URL"] = "postgresql://viewer:p%40ss@db.example.com/wh"
    assert url("--role", "app") == "postgresql://viewer:***@db.example.com/wh"
    assert url("--role", "app", "--show-password") == private_env["CALLSHRINK_APP_DATABASE_URL"]
    private_env["CALLSHRINK_DATABASE_URL"] = "host=db.example.com dbname=wh password=s3cret"
    assert "s3cret" not in url() and "***" in url()


def test_db_env_says_it_exports_the_real_password(private_env):
    env_help = callshrink("db", "env", "--help", env=private_env).stdout
    assert "real password" in env_help and 'eval "$(callshrink db env)"' in env_help


@pytest.mark.parametrize("command", ["app", "demo", "dev", "docs"])
def test_servers_listen_on_localhost_unless_told(private_env, command):
    usage = callshrink(command, "--help", env=private_env).stdout
    assert "--host HOST" in usage
    assert "default 127.0.0.1" in " ".join(usage.split())
    assert cli.build_parser().parse_args([command]).host == "127.0.0.1"


def test_listening_beyond_this_machine_warns_that_there_is_no_login(capsys):
    cli._warn_if_exposed("127.0.0.1", 8501, "the app")
    cli._warn_if_exposed("localhost", 8501, "the app")
    cli._warn_if_exposed("::1", 8501, "the app")
    assert capsys.readouterr().err == ""
    cli._warn_if_exposed("0.0.0.0", 8501, "the app")
    warning = capsys.readouterr().err
    assert warning.startswith("WARNING: the app listens on 0.0.0.0:8501")
    assert "no login of its own" in warning
    assert cli._streamlit_command(8501)[3:5] == ["--server.address", "127.0.0.1"]


def test_the_app_needs_its_own_url_on_a_server_of_ones_own(private_env):
    private_env["CALLSHRINK_DATABASE_URL"] = "postgresql://analyst:s3cret@db.example.invalid/wh"
    done = callshrink("app", "--port", str(free_port()), env=private_env)
    assert done.returncode != 0
    assert "CALLSHRINK_APP_DATABASE_URL is not set" in done.stderr
    assert "s3cret" not in done.stdout + done.stderr


def test_status_names_the_configured_warehouse_without_its_password(private_env):
    private_env["CALLSHRINK_DATABASE_URL"] = "postgresql://analyst:s3cret@db.example.com:5432/wh"
    status = callshrink("db", "status", env=private_env).stdout
    assert "postgresql://analyst:***@db.example.com:5432/wh" in status
    assert "s3cret" not in status


FOLDERS_HINT = (
    "none below tracking/callrail/, pbx/<pbx_id>/cdr/, pbx/<pbx_id>/queue_log/, "
    "pos/square/payments/, pos/square/refunds/, pos/square/customers/, crm/hubspot/contacts/, "
    "crm/hubspot/deals/"
)
DEMO_HINT = "`callshrink generate --out DIR` writes a demo one in DIR/landing)"


def _landing(tmp_path: Path, layout: str) -> tuple[Path, str]:
    """A landing folder laid out as `layout`, and what `callshrink run` must say of it."""
    landing = tmp_path / "landing"
    if layout == "missing":
        return landing, f"the landing folder {landing} does not exist"
    if layout == "a file":
        landing.write_text("x")
        return landing, f"the landing folder {landing} is a file, not a folder"
    landing.mkdir()
    if layout == "files outside the source folders":
        (landing / "notes.txt").write_text("x")
        (landing / "pbx").mkdir()
        (landing / "pbx" / "Master.csv").write_text("x")  # not below pbx/<pbx_id>/cdr/
        (landing / "tracking" / "callrail").mkdir(parents=True)
        (landing / "tracking" / "callrail" / ".DS_Store").write_text("x")  # hidden: skipped
    elif layout == "the folder above a landing folder":
        (landing / "landing" / "crm" / "hubspot" / "deals").mkdir(parents=True)
        (landing / "landing" / "crm" / "hubspot" / "deals" / "d.jsonl").write_text("{}\n")
        return landing, (
            f"the landing folder {landing} holds no export files ({FOLDERS_HINT}); "
            f"did you mean {landing / 'landing'}?"
        )
    return landing, f"the landing folder {landing} holds no export files ({FOLDERS_HINT})"


@pytest.mark.parametrize(
    "layout",
    [
        "missing",
        "a file",
        "empty",
        "files outside the source folders",
        "the folder above a landing folder",
    ],
)
def test_run_names_a_landing_folder_it_cannot_load_from(private_env, tmp_path, layout):
    landing, problem = _landing(tmp_path, layout)
    result = callshrink("run", "--landing", str(landing), env=private_env)
    assert result.returncode == 1
    assert result.stderr == (
        f"callshrink run: {problem}\n  (the folder named by --landing. Nothing was loaded or "
        f"built; {DEMO_HINT}\n"
    )
    assert not (tmp_path / "home" / "pgdata").exists()  # nothing started for nothing


def test_run_says_where_the_landing_folder_it_cannot_load_from_came_from(private_env, tmp_path):
    default = tmp_path / "home" / "landing"
    result = callshrink("run", env=private_env)
    assert result.returncode == 1
    assert result.stderr == (
        f"callshrink run: the landing folder {default} does not exist\n  (the folder used by "
        "default: name yours with --landing DIR or CALLSHRINK_LANDING_DIR. Nothing was loaded "
        f"or built; {DEMO_HINT}\n"
    )
    private_env["CALLSHRINK_LANDING_DIR"] = str(tmp_path / "empty")
    (tmp_path / "empty").mkdir()
    result = callshrink("run", env=private_env)
    assert result.returncode == 1
    assert result.stderr.startswith(
        f"callshrink run: the landing folder {tmp_path / 'empty'} holds no export files ("
    )
    assert "(the folder named by CALLSHRINK_LANDING_DIR. Nothing was loaded" in result.stderr
    assert not (tmp_path / "home" / "pgdata").exists()


def test_run_names_a_missing_reference_folder(private_env, tmp_path):
    landing = tmp_path / "landing" / "pos" / "square" / "payments"
    landing.mkdir(parents=True)
    (landing / "p.jsonl").write_text("{}\n")
    result = callshrink(
        "run",
        "--landing",
        str(tmp_path / "landing"),
        "--reference",
        str(tmp_path / "nowhere"),
        env=private_env,
    )
    assert result.returncode == 1
    assert result.stderr == (
        f"callshrink run: the reference folder {tmp_path / 'nowhere'} does not exist\n"
    )
    assert not (tmp_path / "home" / "pgdata").exists()


def _usage_error(capsys, *argv: str) -> str:
    """The last line argparse printed refusing `callshrink ARGV` (exit status 2)."""
    with pytest.raises(SystemExit) as refused:
        cli.build_parser().parse_args(list(argv))
    assert refused.value.code == 2
    return capsys.readouterr().err.strip().splitlines()[-1]


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (
            ("generate", "--out", "x", "--locations", "0"),
            "callshrink generate: error: argument --locations: must be at least 1, got 0",
        ),
        (
            ("generate", "--out", "x", "--locations", "-2"),
            "callshrink generate: error: argument --locations: must be at least 1, got -2",
        ),
        (
            ("generate", "--out", "x", "--days", "0"),
            "callshrink generate: error: argument --days: must be at least 1, got 0",
        ),
        (
            ("generate", "--out", "x", "--days", "-1"),
            "callshrink generate: error: argument --days: must be at least 1, got -1",
        ),
        (
            ("generate", "--out", "x", "--days", "two"),
            "callshrink generate: error: argument --days: not a whole number: 'two'",
        ),
        (
            ("demo", "--locations", "0"),
            "callshrink demo: error: argument --locations: must be at least 1, got 0",
        ),
        (
            ("demo", "--days", "-7"),
            "callshrink demo: error: argument --days: must be at least 1, got -7",
        ),
        (
            ("quarantine", "--limit", "0"),
            "callshrink quarantine: error: argument --limit: must be at least 1, got 0",
        ),
        (
            ("export", "finance", "--month", "2026-02", "--out", "x.csv", "--level", "weekly"),
            "callshrink export finance: error: argument --level: invalid choice: 'weekly' "
            "(choose from 'daily', 'records', 'left_out')",
        ),
        (
            ("app", "--port", "70000"),
            "callshrink app: error: argument --port: a port is 1 to 65535, got 70000",
        ),
        (
            ("dev", "--port", "0"),
            "callshrink dev: error: argument --port: a port is 1 to 65535, got 0",
        ),
        (
            ("docs", "--port", "http"),
            "callshrink docs: error: argument --port: not a port number: 'http'",
        ),
    ],
)
def test_a_bad_argument_is_named_with_what_it_must_be(capsys, argv, message):
    assert _usage_error(capsys, *argv) == message


def test_export_names_a_month_it_cannot_read_before_starting_anything(private_env, tmp_path):
    out = tmp_path / "x.csv"
    for month in ("2026-13", "Feb 2026"):
        done = callshrink("export", "finance", "--month", month, "--out", str(out), env=private_env)
        assert done.returncode == 1
        assert done.stderr == (
            f"callshrink export finance: month {month!r} is not YYYY-MM (e.g. 2026-02)\n"
        )
    assert not out.exists()
    assert not (tmp_path / "home" / "pgdata").exists()


@pytest.mark.parametrize("command", ["app", "dev", "docs", "demo"])
def test_a_server_command_names_the_port_in_use_before_starting_anything(
    private_env, tmp_path, command
):
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        done = callshrink(command, "--port", str(port), env=private_env)
    assert done.returncode == 1
    assert done.stderr == (
        f"callshrink {command}: port {port} on 127.0.0.1 is in use (another server, or this "
        "one already running?): pass --port N\n"
    )
    assert not (tmp_path / "home" / "pgdata").exists()  # no server started, nothing generated
    assert not (tmp_path / "home" / "demo").exists()


@pytest.mark.parametrize("host", ["192.0.2.1", "no-such-host.invalid"])
def test_a_server_command_names_a_host_that_is_not_this_machine(private_env, tmp_path, host):
    done = callshrink("app", "--host", host, "--port", str(free_port()), env=private_env)
    assert done.returncode == 1
    assert done.stderr == f"callshrink app --host {host}: not an address of this machine\n"
    assert not (tmp_path / "home" / "pgdata").exists()


def test_doctor_on_a_warehouse_read_right(pipeline_run):
    """The session's demo warehouse: every PBX and location read right, exit status 0; the
    table has a row for each location and for each PBX's calls no location claims."""
    env = dict(os.environ)
    done = callshrink("doctor", env=env)
    assert done.returncode == 0, done.stdout + done.stderr
    table, verdict = done.stdout.split("\n\n", 1)
    assert verdict.startswith("no problems found")
    assert "WARNING" not in verdict
    rows = [line.split()[:2] for line in table.splitlines()[1:]]
    assert ["pbx_east", "loc_01"] in rows and ["pbx_west", "loc_04"] in rows
    assert ["(no", "pbx)"] in rows  # loc_03: CallRail only
    assert ["pbx_east", "(none)"] in rows


def test_doctor_before_any_run_says_what_to_do(private_env):
    done = callshrink("doctor", env=private_env)
    assert done.returncode != 0
    assert "callshrink run" in done.stderr


def test_quarantine_names_the_tables_when_one_is_misspelt(private_env, tmp_path):
    result = callshrink("quarantine", "--table", "asterisk_cdrs", env=private_env)
    assert result.returncode == 1
    assert result.stderr == (
        "callshrink quarantine --table: no raw table 'asterisk_cdrs'; one of asterisk_cdr, "
        "asterisk_queue_log, callrail_calls, hubspot_contacts, hubspot_deals, square_customers, "
        "square_payments, square_refunds\n"
    )
    assert not (tmp_path / "home" / "pgdata").exists()  # nothing started for nothing


def test_quarantine_move_asks_why_before_moving_anything(private_env, tmp_path):
    for reason in ([], ["--reason", "  "]):
        result = callshrink("quarantine", "--move", "pbx/a/cdr/x.csv:3", *reason, env=private_env)
        assert result.returncode == 1
        assert result.stderr == "callshrink quarantine --move: say why with --reason TEXT\n"
    assert not (tmp_path / "home" / "pgdata").exists()


def test_quarantine_move_names_a_file_outside_every_landing_folder(pipeline_run):
    result = callshrink(
        "quarantine", "--move", "payments/2026-02.jsonl:3", "--reason", "test", env=dict(os.environ)
    )
    assert result.returncode == 1
    assert "payments/2026-02.jsonl: not below a landing folder of a raw table" in result.stderr
    assert "nothing was moved" in result.stderr
    result = callshrink(
        "quarantine",
        "--move",
        "pos/square/payments/no_such_file.jsonl:3",
        "--reason",
        "test",
        env=dict(os.environ),
    )
    assert result.returncode == 1
    assert "line 3 of pos/square/payments/no_such_file.jsonl: no row of raw.square_payments" in (
        result.stderr
    )


def test_callbacks_writes_a_locations_list_as_csv(pipeline_run, conn, tmp_path):
    import csv

    from callshrink import callbacks

    out = tmp_path / "lists" / "loc_02.csv"
    as_of = "2026-02-28T13:30:00-05:00"  # = 18:30 UTC
    done = callshrink(
        "callbacks",
        "--location",
        "loc_02",
        "--as-of",
        as_of,
        "--out",
        str(out),
        env=dict(os.environ),
    )
    assert done.returncode == 0, done.stderr
    with out.open(newline="") as handle:
        rows = list(csv.reader(handle))
    assert tuple(rows[0]) == callbacks.COLUMNS
    expected = conn.execute(
        "select caller_phone_e164, attempts::text, expected_value_usd::text "
        "from restricted.callback_list('2026-02-28 18:30:00+00', 'loc_02') order by rank"
    ).fetchall()
    assert expected, "loc_02 has callers to call back then"
    body = [dict(zip(rows[0], row, strict=True)) for row in rows[1:]]
    got = [(r["caller_phone_e164"], r["attempts"], r["expected_value_usd"]) for r in body]
    assert got == expected
    assert {r["location_id"] for r in body} == {"loc_02"}
    assert {r["listed_as_of"] for r in body} == {"2026-02-28 18:30:00+00:00"}
    assert f"{len(body)} callers to call back at loc_02" in done.stdout
    # naive is UTC; - writes to standard output
    naive = callshrink(
        "callbacks",
        "--location",
        "loc_02",
        "--as-of",
        "2026-02-28T18:30",
        "--out",
        "-",
        env=dict(os.environ),
    )
    assert naive.returncode == 0, naive.stderr
    assert naive.stdout == out.read_text()


def test_callbacks_names_an_unknown_location_and_lists_the_known_ones(pipeline_run, tmp_path):
    out = tmp_path / "x.csv"
    done = callshrink("callbacks", "--location", "loc_99", "--out", str(out), env=dict(os.environ))
    assert done.returncode == 1
    assert "no location 'loc_99' in the warehouse" in done.stderr
    assert "loc_01, loc_02, loc_03, loc_04" in done.stderr
    assert not out.exists()


@pytest.mark.parametrize("as_of", ["yesterday", "2026-02-30T10:00", "28/02/2026 10:00"])
def test_callbacks_names_an_as_of_it_cannot_read(private_env, tmp_path, as_of):
    done = callshrink(
        "callbacks",
        "--location",
        "loc_01",
        "--as-of",
        as_of,
        "--out",
        str(tmp_path / "x.csv"),
        env=private_env,
    )
    assert done.returncode == 1
    assert f"callshrink callbacks --as-of: {as_of!r} is not an ISO 8601 time" in done.stderr
    assert "without an offset the time is UTC" in done.stderr
    assert not (tmp_path / "home" / "pgdata").exists()  # nothing started for nothing


def test_callshrinks_own_dagster_home_sends_no_usage_statistics(tmp_path, monkeypatch):
    import dagster as dg

    monkeypatch.delenv("DAGSTER_HOME", raising=False)
    monkeypatch.setenv("CALLSHRINK_HOME", str(tmp_path / "home"))
    cli._use_folders(None, None)
    assert os.environ["DAGSTER_HOME"] == str(tmp_path / "home" / "dagster")
    with dg.DagsterInstance.get() as instance:
        assert instance.telemetry_enabled is False


def test_docs_builds_the_dbt_site_with_the_catalog_and_serves_it(pipeline_run, tmp_path):
    import json

    port = free_port()
    env = {**os.environ, "CALLSHRINK_HOME": str(tmp_path / "home")}
    docs = subprocess.Popen(
        [tool("callshrink"), "docs", "--port", str(port)],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        assert b"dbt" in wait_for(f"http://127.0.0.1:{port}/index.html", docs, 180)
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/manifest.json") as reply:
            manifest = json.load(reply)
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/catalog.json") as reply:
            catalog = json.load(reply)
    finally:
        docs.send_signal(signal.SIGINT)
        output, _ = docs.communicate(timeout=60)
    assert docs.returncode == 0, output
    assert f"dbt docs: http://127.0.0.1:{port}" in output
    assert "metric.callshrink.answer_rate" in manifest["metrics"]
    assert manifest["nodes"]["model.callshrink.calls"]["description"]
    # the catalog is the warehouse's: the columns of the built tables, with their types
    columns = catalog["nodes"]["model.callshrink.calls"]["columns"]
    assert columns["caller_key"]["type"] == "text"
    assert (tmp_path / "home" / "docs" / "index.html").is_file()
