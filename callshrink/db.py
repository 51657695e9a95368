"""The warehouse connection, and the private PostgreSQL server used when none is configured.

The private server comes from the ``pgserver`` wheel (PostgreSQL binaries inside a Python
package), so it needs no system Postgres. Its data lives in ``<CALLSHRINK_HOME>/pgdata`` and it
listens on a Unix socket only, so it never collides with another server's port. When run as
root, pgserver runs the server as a ``pgserver`` system user (Postgres refuses to run as root).
"""

from __future__ import annotations

import os
import warnings
from dataclasses import dataclass
from pathlib import Path

import psycopg
from psycopg import sql

from callshrink.settings import (
    DATABASE_URL_VAR,
    WAREHOUSE_DB,
    Connection,
    configured_database_url,
    home_dir,
)

# Settings that suit a single-user analytics server; all apply on reload (no restart).
_PRIVATE_SERVER_SETTINGS = {
    "work_mem": "128MB",
    "maintenance_work_mem": "512MB",
    "max_wal_size": "4GB",
    # A crash may lose the last few hundred ms of commits, never consistency: loads are
    # idempotent (file manifest), so a lost commit is redone by the next run.
    "synchronous_commit": "off",
}


def pgdata_dir() -> Path:
    return home_dir() / "pgdata"


@dataclass(frozen=True)
class ServerStatus:
    running: bool
    pid: int | None
    socket_dir: Path | None
    pgdata: Path


def private_status() -> ServerStatus:
    pgdata = pgdata_dir()
    info = None
    if (pgdata / "postmaster.pid").exists():
        _quiet_platformdirs()
        from pgserver.utils import PostmasterInfo

        info = PostmasterInfo.read_from_pgdata(pgdata)
    if info is None or not info.is_running():
        return ServerStatus(False, None, None, pgdata)
    return ServerStatus(True, info.pid, info.socket_dir, pgdata)


def _quiet_platformdirs() -> None:
    # pgserver asks platformdirs for XDG_RUNTIME_DIR, which is unset on servers and in CI.
    warnings.filterwarnings("ignore", message=".*XDG_RUNTIME_DIR.*")


def _private_url(socket_dir: Path, dbname: str = WAREHOUSE_DB) -> str:
    return f"postgresql://postgres@/{dbname}?host={socket_dir}"


def start_private() -> str:
    """Start the private server unless it runs; create the warehouse database; return its URL."""
    pgdata = pgdata_dir()
    pgdata.parent.mkdir(parents=True, exist_ok=True)
    status = private_status()
    if not status.running:
        _quiet_platformdirs()
        import pgserver

        server = pgserver.get_server(pgdata, cleanup_mode=None)
        socket_dir = server.get_postmaster_info().socket_dir
        _configure(_private_url(socket_dir, "postgres"))
    else:
        socket_dir = status.socket_dir
    assert socket_dir is not None
    return _private_url(socket_dir)


def _configure(admin_url: str) -> None:
    with psycopg.connect(admin_url, autocommit=True) as conn:
        for name, value in _PRIVATE_SERVER_SETTINGS.items():
            conn.execute(sql.SQL("alter system set {} = {}").format(sql.Identifier(name), value))
        conn.execute("select pg_reload_conf()")
        exists = conn.execute(
            "select 1 from pg_database where datname = %s", (WAREHOUSE_DB,)
        ).fetchone()
        if not exists:
            conn.execute(sql.SQL("create database {}").format(sql.Identifier(WAREHOUSE_DB)))


def stop_private() -> bool:
    """Stop the private server. Return False when it was not running."""
    status = private_status()
    if not status.running:
        return False
    from pgserver import _commands

    user = "pgserver" if os.geteuid() == 0 else None
    _commands.pg_ctl(["-w", "-m", "fast", "stop"], pgdata=status.pgdata, user=user)
    return True


def database_url(start: bool = True) -> str:
    """The warehouse URL: the configured one, else the private server's (started if asked)."""
    url = configured_database_url()
    if url:
        return url
    status = private_status()
    if status.running and status.socket_dir is not None:
        return _private_url(status.socket_dir)
    if not start:
        raise RuntimeError(
            f"{DATABASE_URL_VAR} is not set and the private server is not running: "
            "run `callshrink db start` or set the variable."
        )
    return start_private()


def activate(start: bool = True) -> str:
    """Resolve the warehouse and export the variables profiles.yml reads (for dbt and mf).

    CALLSHRINK_DATABASE_URL itself is left as the user set it: it means "the user's server",
    and child processes find a running private server on their own.
    """
    url = database_url(start=start)
    os.environ.update(Connection.from_url(url).env())
    return url


def connect(url: str | None = None, **kwargs) -> psycopg.Connection:
    return psycopg.connect(url or database_url(), **kwargs)
