"""Test harness: a fresh database on a real PostgreSQL server for the whole session.

The server is the one CALLSHRINK_DATABASE_URL names, else the project's private server (started
here, stopped at the end if it was not running before). The suite works in its own database,
`callshrink_test`, created anew every session, and points CALLSHRINK_DATABASE_URL at it; it also
points CALLSHRINK_HOME at an empty folder, so a private server started by mistake would show.

The app's read-only role: on the private server the suite points CALLSHRINK_APP_DATABASE_URL
at the role's URL for its database, so the app tests read as the app does. On a server of your
own, it takes your CALLSHRINK_APP_DATABASE_URL with the suite's database name; without one the
app reads as the owner and tests/security is skipped.

`make test` runs the suite in two processes (pytest-xdist, a whole module to a process). Each
process works in a project folder of its own (links to this checkout and a dbt `target/` of its
own, CALLSHRINK_PROJECT_DIR) and gives every database it makes its name suffix (`_gw0`); the
controlling process starts the private server before them and stops it after them.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import json
import os
import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from unittest import mock

import psycopg
import pytest
from psycopg import sql

CHECKOUT = Path(__file__).resolve().parent.parent
WORKER = os.environ.get("PYTEST_XDIST_WORKER")  # gw0, gw1 ... in a pytest-xdist worker
# Files the processes of one run share: their project folders and a lock.
SCRATCH = Path(
    tempfile.gettempdir(), f"callshrink-{hashlib.sha256(bytes(CHECKOUT)).hexdigest()[:12]}"
)


def _worker_project() -> None:
    """In a pytest-xdist worker: a project folder of links to the checkout, but with target/
    and logs/ of its own (dbt rewrites target/manifest.json on every invocation; another
    process must never read it half written), made CALLSHRINK_PROJECT_DIR before callshrink
    is imported."""
    if not WORKER or "CALLSHRINK_PROJECT_DIR" in os.environ:
        return
    project = SCRATCH / WORKER
    project.mkdir(parents=True, exist_ok=True)
    for entry in project.iterdir():
        if entry.is_symlink():
            entry.unlink()
    for entry in CHECKOUT.iterdir():
        if entry.name not in ("target", "logs"):
            project.joinpath(entry.name).symlink_to(entry)
    os.environ["CALLSHRINK_PROJECT_DIR"] = str(project)


_worker_project()

from callshrink import db, settings  # noqa: E402 (after the worker's project folder is set)
from callshrink.dbt import ensure_manifest, tool  # noqa: E402
from callshrink.generate import generate  # noqa: E402
from callshrink.pipeline import PipelineResult, run_pipeline  # noqa: E402


@pytest.fixture(autouse=True)
def _environment_put_back() -> Iterator[None]:
    """Each test's changes to os.environ are undone after it. `callshrink run` and the
    warehouse resource write the folders and connection they use into os.environ for the
    pipeline's subprocesses; called in a test, they would otherwise hand the next test of the
    process another database or an empty reference folder. (Fixtures of a wider scope are set
    up before this one, so what they set stays.)"""
    with mock.patch.dict(os.environ):
        yield


@contextlib.contextmanager
def exclusive() -> Iterator[None]:
    """Held by one test process at a time (starting the server, creating roles)."""
    SCRATCH.mkdir(parents=True, exist_ok=True)
    with SCRATCH.joinpath("lock").open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)


def database_name(name: str) -> str:
    """`name` with this process's suffix under pytest-xdist, so processes never share one."""
    suffix = f"_{WORKER}" if WORKER else ""
    return name if name.endswith(suffix) else name + suffix


TEST_DATABASE = database_name("callshrink_test")


def drop_database(server_url: str, name: str) -> None:
    name = database_name(name)
    with psycopg.connect(server_url, autocommit=True) as conn:
        conn.execute(
            sql.SQL("drop database if exists {} with (force)").format(sql.Identifier(name))
        )


def recreate_database(server_url: str, name: str) -> str:
    """A new, empty database `name` (with this process's suffix), in which the app's role may
    read the marts once built."""
    name = database_name(name)
    drop_database(server_url, name)
    with psycopg.connect(server_url, autocommit=True) as conn:
        db.create_database(conn, name)
    url = settings.with_database(server_url, name)
    with exclusive():  # roles and their grants are shared by every database of the server
        db.ensure_app_role(url)
    return url


def app_server_url() -> str | None:
    """The app role's URL on the server the environment names (its database as given), or None
    when it is unknown (a server of the user's without CALLSHRINK_APP_DATABASE_URL)."""
    configured = settings.configured_app_database_url()
    if configured:
        return configured
    if settings.configured_database_url():
        return None
    return db.app_database_url(start=False)


def app_database_url(app_server: str | None, owner_url: str, name: str) -> str:
    """What CALLSHRINK_APP_DATABASE_URL is for database `name`: the app role's, else the owner's."""
    return settings.with_database(app_server, name) if app_server else owner_url


# dbt writes these to target/ naming the database it ran against; mf reads the semantic
# manifest, so a test that builds another database puts the suite's copies back afterwards.
TARGET_FILES = ("manifest.json", "semantic_manifest.json", "partial_parse.msgpack")
# Variables a test of its own database changes; monkeypatch puts back what was there.
ENVIRONMENT = (
    "CALLSHRINK_DATABASE_URL",
    "CALLSHRINK_APP_DATABASE_URL",
    "CALLSHRINK_STAFF_DATABASE_URL",
    "CALLSHRINK_MARTS_READER",
    "CALLSHRINK_HOME",
    "DAGSTER_HOME",
    "CALLSHRINK_LANDING_DIR",
    "CALLSHRINK_REFERENCE_DIR",
    "CALLSHRINK_SEED_PATH",
    *settings.Connection.from_url("postgresql://x@localhost/x").env(),
)


def own_database(
    server_url: str, name: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Iterator[str]:
    """For a fixture: a fresh database `name` that everything under test uses, with its own
    CALLSHRINK_HOME and Dagster home; dropped, and the suite's dbt target files restored, after."""
    name = database_name(name)
    app_server = app_server_url()
    url = recreate_database(server_url, name)
    for variable in ENVIRONMENT:
        monkeypatch.delenv(variable, raising=False)
    monkeypatch.setenv("CALLSHRINK_DATABASE_URL", url)
    monkeypatch.setenv("CALLSHRINK_APP_DATABASE_URL", app_database_url(app_server, url, name))
    monkeypatch.setenv("CALLSHRINK_HOME", str(tmp_path / "home"))
    monkeypatch.setenv("DAGSTER_HOME", str(tmp_path / "home" / "dagster"))
    (tmp_path / "home" / "dagster").mkdir(parents=True)
    db.activate()
    saved = tmp_path / "saved_target"
    saved.mkdir()
    target = settings.PROJECT_DIR / "target"
    for file_name in TARGET_FILES:
        if (target / file_name).exists():
            shutil.copy2(target / file_name, saved / file_name)
    yield url
    for file_name in TARGET_FILES:
        if (saved / file_name).exists():
            shutil.copy2(saved / file_name, target / file_name)
    drop_database(server_url, name)


@pytest.fixture(scope="session")
def server_url() -> Iterator[str]:
    """A URL of the server the tests use (its default database)."""
    configured = settings.configured_database_url()
    if configured:
        yield configured
        return
    with exclusive():
        was_running = db.private_status().running
        url = db.start_private()
    yield url
    if not was_running:
        db.stop_private()


def pytest_configure(config: pytest.Config) -> None:
    """The controlling process of `pytest -n N` starts the private server (when no server is
    configured) before its test processes, which then find it running and leave it so."""
    if WORKER or not config.getoption("numprocesses", None):
        return
    if not settings.configured_database_url() and not db.private_status().running:
        db.start_private()
        config.stash[_STARTED_SERVER] = True


def pytest_unconfigure(config: pytest.Config) -> None:
    if config.stash.get(_STARTED_SERVER, False):
        db.stop_private()


_STARTED_SERVER = pytest.StashKey[bool]()

# Modules that build warehouses of their own, longest first (measured with --durations): run
# first, so that the two processes of `make test` end together.
SLOWEST_MODULES = (
    "tests/pipeline/test_incremental.py",
    "tests/orchestration/test_blocked_source.py",
    "tests/pipeline/test_root_causes_and_staffing.py",
    "tests/app/test_metric_parity.py",
    "tests/pipeline/test_restatements.py",
    "tests/pipeline/test_dst_and_settings.py",
    "tests/pipeline/test_shrink_answer_key.py",
    "tests/pipeline/test_hostile_run.py",
    "tests/pipeline/test_process_control.py",
)


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    def rank(item: pytest.Item) -> int:
        module = item.nodeid.split("::")[0]
        return SLOWEST_MODULES.index(module) if module in SLOWEST_MODULES else len(SLOWEST_MODULES)

    items.sort(key=rank)  # stable: each module's tests keep their order


@pytest.fixture(scope="session")
def test_home(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("callshrink_home")


@pytest.fixture(scope="session")
def app_server(server_url: str) -> str | None:
    """The app role's URL on the suite's server, None when unknown (see the module's doc)."""
    return app_server_url()


def staff_server_url() -> str | None:
    """Call-back staff's URL on the server the environment names (its database as given):
    CALLSHRINK_STAFF_DATABASE_URL, else the private server's staff role, else None."""
    configured = settings.configured_staff_database_url()
    if configured or settings.configured_database_url():
        return configured
    return db.staff_database_url(start=False)


@pytest.fixture(scope="session")
def staff_server(server_url: str) -> str | None:
    """Staff's URL on the suite's server (a member of the restricted role), None when unknown.
    Not exported: the app shows callers' numbers only where a test gives it this URL."""
    return staff_server_url()


@pytest.fixture(scope="session")
def staff_url(staff_server: str | None, warehouse_url: str) -> str:
    """Staff's URL for the suite's database; the test skips when the server has none."""
    if staff_server is None:
        pytest.skip(
            "no call-back staff role on this server: set CALLSHRINK_STAFF_DATABASE_URL "
            "(docs/privacy.md)"
        )
    return settings.with_database(staff_server, TEST_DATABASE)


@pytest.fixture(scope="session")
def warehouse_url(
    server_url: str, app_server: str | None, staff_server: str | None, test_home: Path
) -> Iterator[str]:
    """The session's own database, exported as CALLSHRINK_DATABASE_URL for all code under test
    (and CALLSHRINK_APP_DATABASE_URL for the app)."""
    url = recreate_database(server_url, TEST_DATABASE)
    saved = {
        k: os.environ.get(k)
        for k in (
            "CALLSHRINK_DATABASE_URL",
            "CALLSHRINK_APP_DATABASE_URL",
            "CALLSHRINK_HOME",
            "DAGSTER_HOME",
            settings.STAFF_DATABASE_URL_VAR,
        )
    }
    os.environ["CALLSHRINK_DATABASE_URL"] = url
    os.environ.pop(settings.STAFF_DATABASE_URL_VAR, None)  # tests give the app staff's URL
    os.environ["CALLSHRINK_APP_DATABASE_URL"] = app_database_url(app_server, url, TEST_DATABASE)
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
    with psycopg.connect(warehouse_url, autocommit=True) as connection:
        yield connection


def run_dbt(*args: str) -> subprocess.CompletedProcess:
    """dbt in the worker's project folder, its output captured (for tests that run dbt
    themselves on the suite's warehouse)."""
    return subprocess.run(
        [tool("dbt"), *args],
        cwd=settings.PROJECT_DIR,
        env={**os.environ, "DBT_PROFILES_DIR": str(settings.PROJECT_DIR)},
        capture_output=True,
        text=True,
        timeout=1800,
    )


def dbt_ls(*args: str) -> list[dict]:
    """The nodes `dbt ls` lists for ``args`` (selection, --output-keys), one dict each."""
    listed = run_dbt("ls", *args, "--output", "json", "--quiet")
    assert listed.returncode == 0, listed.stdout + listed.stderr
    return [json.loads(line) for line in listed.stdout.splitlines() if line.startswith("{")]


# --- one generated data set through the whole pipeline, once per session -------------------


@dataclass(frozen=True)
class PipelineRun:
    out: Path
    landing: Path
    reference: Path
    defects: list[dict]  # the generator's declared defects (answer_key/defects.json)
    result: PipelineResult

    def defect(self, kind: str) -> dict:
        return next(d for d in self.defects if d["kind"] == kind)


def snapshot_counts(conn: psycopg.Connection) -> dict[str, int]:
    """Row counts of every raw table and every dbt table or view (not the log of runs, nor
    the call inputs' changes that the call models have still to read)."""
    relations = conn.execute(
        "select table_schema || '.' || table_name from information_schema.tables "
        "where table_schema in "
        "('raw', 'staging', 'intermediate', 'marts', 'reference', 'restricted') "
        "and table_name <> '_loads' "  # one row per run, by design
        "and table_name <> '_call_input_changes' "  # read, then dropped, by the next run
        "order by 1"
    ).fetchall()
    return {
        name: conn.execute(f"select count(*) from {name}").fetchone()[0] for (name,) in relations
    }


@pytest.fixture(scope="session")
def pipeline_run(warehouse_url: str, tmp_path_factory: pytest.TempPathFactory) -> PipelineRun:
    """Demo exports with the generator's defects (malformed lines, a re-delivered file, a
    corrected re-delivery ...) through the whole pipeline."""
    out = tmp_path_factory.mktemp("demo")
    generate(out, locations=4, days=10, seed=11, defects=True)
    os.environ["CALLSHRINK_LANDING_DIR"] = str(out / "landing")
    os.environ["CALLSHRINK_REFERENCE_DIR"] = str(out / "reference")
    result = run_pipeline(quiet=True)
    assert result.success, result.summary()
    defects = json.loads((out / "answer_key" / "defects.json").read_text())["defects"]
    return PipelineRun(out, out / "landing", out / "reference", defects, result)


def offered_downloads(monkeypatch: pytest.MonkeyPatch) -> dict[str, bytes]:
    """The files the app's download buttons offer, by file name (AppTest keeps only a URL)."""
    from streamlit.runtime.media_file_manager import MediaFileManager

    offered: dict[str, bytes] = {}
    add = MediaFileManager.add

    def recording_add(self, path_or_data, mimetype, coordinates, file_name=None, **kwargs):
        if file_name is not None:
            offered[file_name] = path_or_data
        return add(self, path_or_data, mimetype, coordinates, file_name=file_name, **kwargs)

    monkeypatch.setattr(MediaFileManager, "add", recording_add)
    return offered


def mf(*args: str) -> subprocess.CompletedProcess:
    """MetricFlow's command line (`mf ARGS`) on the warehouse under test, as a user runs it
    (after `callshrink run`, whose parse makes target/ name the warehouse: mf reads the
    database from it)."""
    ensure_manifest()
    env = {**os.environ, "DBT_PROFILES_DIR": str(settings.PROJECT_DIR)}
    return subprocess.run(
        [tool("mf"), *args],
        cwd=settings.PROJECT_DIR,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )
