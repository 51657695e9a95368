"""The warehouse connection, and the private PostgreSQL server used when none is configured.

The private server comes from the ``pgserver`` wheel (PostgreSQL binaries inside a Python
package), so it needs no system Postgres. Its data lives in ``<CALLSHRINK_HOME>/pgdata`` and it
listens on a Unix socket only, so it never collides with another server's port. When run as
root, pgserver runs the server as a ``pgserver`` system user (Postgres refuses to run as root).

Least privilege: the pipeline, dbt and the CLI connect as the warehouse's owner; the app
connects as a read-only role (``settings.app_role()``, default ``callshrink_app``) that may read
the marts and nothing else. ``ensure_app_role`` makes sure it exists, may connect and may use
the marts schema; dbt grants it ``select`` on every mart it builds (``+grants`` in
dbt_project.yml), so a rebuilt table is readable again. On the private server the role logs in
with a generated password kept in ``<CALLSHRINK_HOME>/app_role.password`` (mode 0600): pgserver's
initdb trusts every local connection, so a pg_hba.conf line put first makes this role, and only
this role, give its password (SCRAM) even on the Unix socket.

Call-back staff read callers' numbers through a login role of their own that is a member of the
restricted role (dbt var ``restricted_role``): on the private server ``ensure_staff_role``
makes ``callshrink_staff`` with a generated password in ``<CALLSHRINK_HOME>/staff_role.password``
(asked for by pg_hba.conf like the app's); elsewhere an administrator creates one and sets
CALLSHRINK_STAFF_DATABASE_URL (docs/privacy.md).
"""

from __future__ import annotations

import os
import secrets
import sys
import warnings
from dataclasses import dataclass
from pathlib import Path

import psycopg
from psycopg import sql

from callshrink import settings
from callshrink.settings import (
    APP_DATABASE_URL_VAR,
    DATABASE_URL_VAR,
    WAREHOUSE_DB,
    Connection,
    configured_database_url,
    home_dir,
)

# Set by `activate` for dbt when the app's role is missing and the owner may not create it:
# dbt then grants the marts to the owner itself (a no-op) instead of failing on a missing role.
MARTS_READER_VAR = "CALLSHRINK_MARTS_READER"
_APP_ROLE_LOCK = 7_411_602  # pg_advisory_xact_lock key: one process at a time creates or grants

# Settings that suit a single-user analytics server; all apply on reload (no restart).
_PRIVATE_SERVER_SETTINGS = {
    "work_mem": "128MB",
    "maintenance_work_mem": "512MB",
    "max_wal_size": "4GB",
    # A crash may lose the last few hundred ms of commits, never consistency: loads are
    # idempotent (file manifest), so a lost commit is redone by the next run.
    "synchronous_commit": "off",
}
# Two more that apply only when the server starts (`start_private` restarts it once for them).
# No replica or WAL archive reads this server's log, so it keeps the least WAL there is: a
# table made and filled in one transaction (dbt's every table build, the full build's every
# model, an index made with it) goes to disk once instead of a second time through the WAL.
# On the year slice's database (3.75 million calls) a copy of marts.calls wrote 1.3 GB of
# WAL and took 2.9 to 3.2 s, and a sorted copy of int_pbx_legs_typed 4.0 GB and 16 to 17 s;
# with these, no WAL, 1.8 to 2.7 s and 8 to 11 s.
_PRIVATE_SERVER_START_SETTINGS = {
    "wal_level": "minimal",
    "max_wal_senders": "0",
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
    """Start the private server unless it runs; create the warehouse database and the app's
    role (both idempotent); return the owner's URL."""
    pgdata = pgdata_dir()
    pgdata.parent.mkdir(parents=True, exist_ok=True)
    status = private_status()
    if not status.running:
        _quiet_platformdirs()
        import pgserver

        server = pgserver.get_server(pgdata, cleanup_mode=None)
        socket_dir = server.get_postmaster_info().socket_dir
        if _configure(_private_url(socket_dir, "postgres")):
            _pg_ctl("restart", pgdata)
    else:
        socket_dir = status.socket_dir
    assert socket_dir is not None
    url = _private_url(socket_dir)
    ensure_app_role(url, private=True)
    ensure_staff_role(url)
    return url


def _configure(admin_url: str) -> bool:
    """Set the private server's settings and make the warehouse database; True when a
    setting waits for a restart (a server made, or started by an older callshrink)."""
    wanted = _PRIVATE_SERVER_SETTINGS | _PRIVATE_SERVER_START_SETTINGS
    with psycopg.connect(admin_url, autocommit=True) as conn:
        for name, value in wanted.items():
            conn.execute(sql.SQL("alter system set {} = {}").format(sql.Identifier(name), value))
        conn.execute("select pg_reload_conf()")
        running = {
            name: conn.execute("select current_setting(%s)", (name,)).fetchone()[0]
            for name in _PRIVATE_SERVER_START_SETTINGS
        }
        exists = conn.execute(
            "select 1 from pg_database where datname = %s", (WAREHOUSE_DB,)
        ).fetchone()
        if not exists:
            create_database(conn, WAREHOUSE_DB)
    return running != _PRIVATE_SERVER_START_SETTINGS


def create_database(conn: psycopg.Connection, name: str) -> None:
    """Create database ``name`` (``conn`` in autocommit), its text ordered byte by byte.

    The warehouse sorts and indexes text keys by the million (numbers, call and leg ids,
    deduplication by `distinct on`). Under a language's collation, or libc's `C.UTF-8`, each
    comparison calls the C library's `strcoll`, and Postgres cannot use its abbreviated sort
    keys; under `C` it compares bytes: a sort of 3.9 million (number, call id) pairs took
    4.6 s against 9.0 s. For UTF-8, byte order is code point order, the order `C.UTF-8` and
    Python's `sorted` give. Character classes (`upper`, regular expressions) still follow
    the server's `LC_CTYPE`, which the new database keeps."""
    options = sql.SQL("template template0 lc_collate 'C'")
    if conn.info.server_version >= 150000:  # a cluster made with ICU as its default provider
        options += sql.SQL(" locale_provider libc")
    conn.execute(sql.SQL("create database {} {}").format(sql.Identifier(name), options))


def _pg_ctl(action: str, pgdata: Path) -> None:
    """`pg_ctl stop` or `restart` (fast: running statements are cancelled), as the user the
    server runs as. A restart keeps the server's socket directory (postmaster.opts)."""
    from pgserver import _commands

    user = "pgserver" if os.geteuid() == 0 else None
    _commands.pg_ctl(["-w", "-m", "fast", action], pgdata=pgdata, user=user)


def stop_private() -> bool:
    """Stop the private server. Return False when it was not running."""
    status = private_status()
    if not status.running:
        return False
    _pg_ctl("stop", status.pgdata)
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


# Every session of the warehouse works in UTC, whatever the server's TimeZone: a UTC day
# (started_date_utc), a day's or a month's interval across a daylight-saving change and the
# loaders' timestamps all depend on it. libpq (dbt's psycopg2, psycopg, psql) reads PGTZ.
SESSION_ENV = {"PGTZ": "UTC"}


def activate(start: bool = True) -> str:
    """Resolve the warehouse, make sure the app's role can read its marts (before dbt grants
    them to it), and export the variables profiles.yml and dbt_project.yml read (dbt and mf).

    CALLSHRINK_DATABASE_URL itself is left as the user set it: it means "the user's server",
    and child processes find a running private server on their own.
    """
    url = database_url(start=start)
    os.environ.update(Connection.from_url(url).env())
    os.environ.update(SESSION_ENV)
    if ensure_app_role(url, private=configured_database_url() is None):
        os.environ.pop(MARTS_READER_VAR, None)
    else:
        os.environ[MARTS_READER_VAR] = "current_user"
    return url


def dbt_env() -> dict[str, str]:
    """The variables `activate` exported for dbt: the connection, the session's time zone, and
    the marts' reader when it is not the app's role."""
    names = [
        *Connection.from_url("postgresql://x@localhost/x").env(),
        *SESSION_ENV,
        MARTS_READER_VAR,
    ]
    return {name: os.environ[name] for name in names if name in os.environ}


# --- the app's read-only role -------------------------------------------------------------------


class AppRoleUnavailable(RuntimeError):
    """The app's URL is unknown: the warehouse is the user's and CALLSHRINK_APP_DATABASE_URL is
    not set."""


def app_database_url(start: bool = True) -> str:
    """How the app connects: CALLSHRINK_APP_DATABASE_URL, else the private server's app role
    (its password from ``<CALLSHRINK_HOME>/app_role.password``)."""
    configured = settings.configured_app_database_url()
    if configured:
        return configured
    if configured_database_url():
        raise AppRoleUnavailable(
            f"{APP_DATABASE_URL_VAR} is not set. The app reads the warehouse as a read-only "
            f"role ({settings.app_role()}), not as the owner {DATABASE_URL_VAR} names: create "
            "it on your server with scripts/app_role.sql and set "
            f"{APP_DATABASE_URL_VAR} to its URL (README: Least privilege)."
        )
    owner = database_url(start=start)
    password = _read_app_password()
    if password is None:
        ensure_app_role(owner, private=True)
        password = _read_app_password()
        assert password is not None
    return settings.with_login(owner, settings.app_role(), password)


def _read_app_password() -> str | None:
    return _read_password(settings.app_password_file())


def _read_password(path: Path) -> str | None:
    try:
        if path.stat().st_mode & 0o077:
            path.chmod(0o600)
        return path.read_text().strip() or None
    except FileNotFoundError:
        return None


def _new_app_password() -> str:
    return _new_password(settings.app_password_file())


def _new_password(path: Path) -> str:
    """A fresh password, written to the password file readable by its owner only."""
    path.parent.mkdir(parents=True, exist_ok=True)
    password = secrets.token_urlsafe(32)
    temporary = path.with_name(f".{path.name}.{os.getpid()}")
    descriptor = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(descriptor, "w") as file:
        file.write(password + "\n")
    os.replace(temporary, path)
    return password


# Attributes the app's role must have on the private server (pg_roles column: wanted value).
_APP_ROLE_ATTRIBUTES = {
    "rolcanlogin": True,
    "rolsuper": False,
    "rolcreatedb": False,
    "rolcreaterole": False,
    "rolreplication": False,
    "rolbypassrls": False,
}
_ROLE_OPTIONS = sql.SQL("login nosuperuser nocreatedb nocreaterole noreplication nobypassrls")


def _hba_lines(role: str) -> list[str]:
    """The rules that make the app's role, and the private server's staff role after it, give
    their passwords (pgserver trusts every other local connection)."""
    lines = []
    for name in (role, settings.STAFF_ROLE):
        lines += [
            f"local   all   {name}   scram-sha-256",
            f"host    all   {name}   all   scram-sha-256",
        ]
    return lines


def ensure_app_role(owner_url: str, private: bool = False) -> bool:
    """Make sure the app's role exists, may connect to the warehouse database and use the marts
    schema (created if missing, so the grant holds when dbt builds into it). Idempotent; reads
    only when everything is in place. dbt grants the marts' tables (dbt_project.yml).

    private: the private server, where the role logs in with the password of
    ``<CALLSHRINK_HOME>/app_role.password`` (generated when missing) and pg_hba.conf asks it for
    that password. On the user's server a missing role is created without login (the
    administrator gives it one: scripts/app_role.sql) and an existing one is left as it is.

    Returns False when the role is missing and the owner may not create it (a warning says
    what to do); dbt then grants the marts to the owner itself.
    """
    role = settings.app_role()
    schema = settings.dbt_schema("marts")
    password = _read_app_password() if private else None
    with psycopg.connect(owner_url, autocommit=True) as conn:
        if _app_role_ready(conn, role, schema, private, password):
            return True
        for attempt in range(2):
            try:
                with conn.transaction():
                    conn.execute("select pg_advisory_xact_lock(%s)", (_APP_ROLE_LOCK,))
                    if private:  # read again: another process may have written it meanwhile
                        password = _read_app_password() or _new_app_password()
                    return _prepare_app_role(conn, role, schema, private, password)
            except (psycopg.errors.DuplicateObject, psycopg.errors.UniqueViolation):
                if attempt:  # another process created the role or schema at the same time
                    raise
    raise AssertionError("unreachable")


def _role_row(conn: psycopg.Connection, role: str) -> dict | None:
    columns = sql.SQL(", ").join(map(sql.Identifier, _APP_ROLE_ATTRIBUTES))
    row = conn.execute(
        sql.SQL("select {} from pg_roles where rolname = %s").format(columns), (role,)
    ).fetchone()
    return None if row is None else dict(zip(_APP_ROLE_ATTRIBUTES, row, strict=True))


def _grants_missing(conn: psycopg.Connection, role: str, schema: str) -> list[sql.Composable]:
    """The statements that would give an existing role what the app needs."""
    can_connect, schema_exists = conn.execute(
        "select has_database_privilege(%s, current_database(), 'CONNECT'), "
        "exists (select from pg_namespace where nspname = %s)",
        (role, schema),
    ).fetchone()
    may_use = False
    if schema_exists:
        query = "select has_schema_privilege(%s, %s, 'USAGE')"
        (may_use,) = conn.execute(query, (role, schema)).fetchone()
    role_name, schema_name = sql.Identifier(role), sql.Identifier(schema)
    statements: list[sql.Composable] = []
    if not can_connect:
        database = sql.Identifier(conn.info.dbname)
        statements.append(sql.SQL("grant connect on database {} to {}").format(database, role_name))
    if not schema_exists:
        statements.append(sql.SQL("create schema if not exists {}").format(schema_name))
    if not may_use:
        statements.append(sql.SQL("grant usage on schema {} to {}").format(schema_name, role_name))
    return statements


def _app_role_ready(
    conn: psycopg.Connection, role: str, schema: str, private: bool, password: str | None
) -> bool:
    row = _role_row(conn, role)
    if row is None or _grants_missing(conn, role, schema):
        return False
    if private:
        return password is not None and row == _APP_ROLE_ATTRIBUTES and _hba_in_place(conn, role)
    return True


def _prepare_app_role(
    conn: psycopg.Connection, role: str, schema: str, private: bool, password: str | None
) -> bool:
    row = _role_row(conn, role)
    if private:
        assert password is not None
        # the SCRAM verifier, computed here: the password itself never reaches the server
        verifier = conn.pgconn.encrypt_password(password.encode(), role.encode(), b"scram-sha-256")
        conn.execute(
            sql.SQL("{} role {} {} password {}").format(
                sql.SQL("create" if row is None else "alter"),
                sql.Identifier(role),
                _ROLE_OPTIONS,
                sql.Literal(verifier.decode()),
            )
        )
        _ensure_hba(conn, role)
    elif row is None:
        may_create = conn.execute(
            "select rolsuper or rolcreaterole from pg_roles where rolname = current_user"
        ).fetchone()[0]
        if not may_create:
            _warn_once(
                f"callshrink: the app's role {role} does not exist and "
                f"{conn.info.user} may not create roles, so the marts are granted to no reader. "
                "Have an administrator run scripts/app_role.sql (README: Least privilege)."
            )
            return False
        conn.execute(
            sql.SQL("create role {} nologin nosuperuser nocreatedb nocreaterole").format(
                sql.Identifier(role)
            )
        )
        _warn_once(
            f"callshrink: created the app's role {role}, without login: give it a password with "
            "scripts/app_role.sql and set CALLSHRINK_APP_DATABASE_URL (README: Least privilege)."
        )
    for statement in _grants_missing(conn, role, schema):
        try:
            with conn.transaction():  # a savepoint: a refused grant leaves the others
                conn.execute(statement)
        except psycopg.errors.InsufficientPrivilege as error:
            if private:
                raise
            # the user's server: the schema or database may belong to another role
            _warn_once(
                f"callshrink: {conn.info.user} may not run `{statement.as_string(conn)}` "
                f"({error.diag.message_primary}): have an administrator run "
                "scripts/app_role.sql (README: Least privilege)."
            )
    return True


_warned: set[str] = set()


def _warn_once(message: str) -> None:
    if message not in _warned:
        _warned.add(message)
        print(message, file=sys.stderr, flush=True)


def _hba_path(conn: psycopg.Connection) -> Path:
    return Path(conn.execute("show hba_file").fetchone()[0])


def _hba_in_place(conn: psycopg.Connection, role: str) -> bool:
    """Whether pg_hba.conf's first rules are the app role's (the first matching rule wins)."""
    rules = [line.split() for line in _hba_path(conn).read_text().splitlines()]
    rules = [rule for rule in rules if rule and not rule[0].startswith("#")]
    wanted = [line.split() for line in _hba_lines(role)]
    return rules[: len(wanted)] == wanted


def _ensure_hba(conn: psycopg.Connection, role: str) -> None:
    """Put the app role's password rules first in pg_hba.conf (pgserver trusts every local
    connection) and reload. Rules for other roles are left as pgserver wrote them."""
    if _hba_in_place(conn, role):
        return
    path = _hba_path(conn)
    before = path.read_text()
    ours = _hba_lines(role)
    kept = [line for line in before.splitlines() if line.split() not in [o.split() for o in ours]]
    header = "# callshrink: the app's and the staff's roles give their passwords (callshrink/db.py)"
    old_header = "# callshrink: the app's read-only role gives its password (callshrink/db.py)"
    kept = [line for line in kept if line not in (header, old_header)]
    # written in place, so the file keeps its owner (the pgserver user when run as root)
    path.write_text("\n".join([header, *ours, "", *kept]) + "\n")
    errors = conn.execute(
        "select line_number, error from pg_hba_file_rules where error is not null"
    ).fetchall()
    if errors:
        path.write_text(before)
        raise RuntimeError(f"pg_hba.conf refused callshrink's rules for {role}: {errors}")
    conn.execute("select pg_reload_conf()")


# --- call-back staff: a login role that may read callers' numbers ------------------------------


def staff_database_url(start: bool = True) -> str | None:
    """How call-back staff connect (the app's Call back page): CALLSHRINK_STAFF_DATABASE_URL,
    else on the private server its staff role (password from
    ``<CALLSHRINK_HOME>/staff_role.password``), else None (a server of the user's: an
    administrator creates the role, docs/privacy.md)."""
    configured = settings.configured_staff_database_url()
    if configured:
        return configured
    if configured_database_url():
        return None
    owner = database_url(start=start)
    password = _read_password(settings.staff_password_file())
    if password is None:
        ensure_staff_role(owner)
        password = _read_password(settings.staff_password_file())
        assert password is not None
    return settings.with_login(owner, settings.STAFF_ROLE, password)


def ensure_staff_role(owner_url: str) -> None:
    """On the private server: the staff's login role (settings.STAFF_ROLE), with the password of
    ``<CALLSHRINK_HOME>/staff_role.password`` (generated when missing), no other power, a
    member of the restricted role (created without login when dbt has not made it yet), and
    asked for its password by pg_hba.conf. Idempotent; reads only when all is in place."""
    role, restricted = settings.STAFF_ROLE, settings.restricted_role()
    with psycopg.connect(owner_url, autocommit=True) as conn:
        password = _read_password(settings.staff_password_file())
        if password is not None and _staff_role_ready(conn, role, restricted):
            return
        with conn.transaction():
            conn.execute("select pg_advisory_xact_lock(%s)", (_APP_ROLE_LOCK,))
            password = _read_password(settings.staff_password_file()) or _new_password(
                settings.staff_password_file()
            )
            verifier = conn.pgconn.encrypt_password(
                password.encode(), role.encode(), b"scram-sha-256"
            )
            exists = _role_row(conn, role) is not None
            conn.execute(
                sql.SQL("{} role {} {} password {}").format(
                    sql.SQL("alter" if exists else "create"),
                    sql.Identifier(role),
                    _ROLE_OPTIONS,
                    sql.Literal(verifier.decode()),
                )
            )
            if _role_row(conn, restricted) is None:
                conn.execute(sql.SQL("create role {} nologin").format(sql.Identifier(restricted)))
            conn.execute(
                sql.SQL("grant {} to {}").format(sql.Identifier(restricted), sql.Identifier(role))
            )
            _ensure_hba(conn, settings.app_role())


def _staff_role_ready(conn: psycopg.Connection, role: str, restricted: str) -> bool:
    if _role_row(conn, role) != _APP_ROLE_ATTRIBUTES or _role_row(conn, restricted) is None:
        return False
    query = "select pg_has_role(%s, %s, 'member')"
    (member,) = conn.execute(query, (role, restricted)).fetchone()
    return member and _hba_in_place(conn, settings.app_role())


def connect(url: str | None = None, **kwargs) -> psycopg.Connection:
    return psycopg.connect(url or database_url(), **kwargs)
