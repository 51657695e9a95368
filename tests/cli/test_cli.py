"""The callshrink command as a user runs it: help, the private server, the app and Ctrl-C."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import time
import urllib.request
from pathlib import Path

import psycopg
import pytest

from callshrink.dbt import tool

COMMANDS = ["db", "generate", "run", "quarantine", "doctor", "export", "app", "dev", "demo"]


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
    again = callshrink("db", "start", env=private_env)  # idempotent
    assert again.stdout.strip() == url

    assert callshrink("db", "stop", env=private_env).stdout.strip() == "private server stopped"
    assert "stopped" in callshrink("db", "status", env=private_env).stdout
    assert callshrink("db", "url", "--no-start", env=private_env).returncode != 0


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_app_serves_and_ctrl_c_stops_it_and_the_private_server(private_env):
    port = _free_port()
    app = subprocess.Popen(
        [tool("callshrink"), "app", "--port", str(port), "--stop-db"],
        env=private_env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        deadline = time.monotonic() + 90
        while True:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/_stcore/health") as reply:
                    assert reply.read() == b"ok"
                    break
            except OSError:
                assert app.poll() is None, app.stdout.read()
                assert time.monotonic() < deadline, "the app did not come up in 90 s"
                time.sleep(0.5)
        assert "running" in callshrink("db", "status", env=private_env).stdout
    finally:
        app.send_signal(signal.SIGINT)
        output, _ = app.communicate(timeout=60)
    assert app.returncode == 0, output
    assert "private Postgres stopped" in output
    assert "stopped" in callshrink("db", "status", env=private_env).stdout


def test_status_names_the_configured_warehouse_without_its_password(private_env):
    private_env["CALLSHRINK_DATABASE_URL"] = "postgresql://analyst:s3cret@db.example.com:5432/wh"
    status = callshrink("db", "status", env=private_env).stdout
    assert "postgresql://analyst:***@db.example.com:5432/wh" in status
    assert "s3cret" not in status


def test_run_says_plainly_when_the_landing_folder_is_missing(private_env, tmp_path):
    result = callshrink("run", "--landing", str(tmp_path / "nowhere"), env=private_env)
    assert result.returncode == 1
    assert result.stderr.strip() == (
        f"callshrink run: the landing folder {tmp_path / 'nowhere'} does not exist"
    )
    assert not (tmp_path / "home" / "pgdata").exists()  # nothing started for nothing


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
