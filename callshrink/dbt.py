"""Running dbt (and other console tools of this environment) for the project."""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
import sys
import tempfile
import threading
from collections.abc import Sequence
from pathlib import Path

from callshrink.settings import PROJECT_DIR, reference_dir

MANIFEST = PROJECT_DIR / "target" / "manifest.json"
# What MetricFlow (mf and the app) reads; it names the database dbt parsed against.
SEMANTIC_MANIFEST = PROJECT_DIR / "target" / "semantic_manifest.json"
_DBT_INPUTS = ("models", "macros", "snapshots", "tests/dbt", "dbt_project.yml", "profiles.yml")


def tool(name: str) -> str:
    """A console script installed beside this Python (dbt, mf, streamlit, dagster)."""
    candidate = Path(sys.executable).parent.joinpath(name)
    return str(candidate) if candidate.exists() else name


def environment() -> dict[str, str]:
    """The environment dbt runs in: this process's, with the project's profiles.yml."""
    return {**os.environ, "DBT_PROFILES_DIR": str(PROJECT_DIR)}


def dbt(args: Sequence[str], check: bool = True) -> subprocess.CompletedProcess:
    """Run dbt in the project with the environment of this process."""
    return subprocess.run([tool("dbt"), *args], cwd=PROJECT_DIR, env=environment(), check=check)


SEED_PATH_VAR = "CALLSHRINK_SEED_PATH"


def stage_reference() -> str:
    """Make the reference folder dbt's seed path, as a path relative to the project.

    dbt writes compiled seeds to target/run/<project>/<seed path>; with an absolute seed path
    that is the source CSV itself, which it overwrites. So a reference folder other than the
    project's seeds/ is copied below .callshrink/reference/ and dbt gets that relative path.
    The copy is named by the folder's path and the CSVs' contents, and made whole in a
    temporary folder before it is renamed into place: a copy once in place never changes, so
    two threads or processes staging at once cannot read a half-written seed. Older copies of
    the same folder are removed.
    """
    source = reference_dir()
    if source == (PROJECT_DIR / "seeds").resolve():
        relative = "seeds"
    else:
        csv_files = sorted(source.glob("*.csv"))
        contents = hashlib.sha256()
        for csv_file in csv_files:
            contents.update(csv_file.name.encode() + b"\0" + csv_file.read_bytes() + b"\0")
        path_digest = hashlib.sha256(str(source).encode()).hexdigest()[:12]
        parent = PROJECT_DIR / ".callshrink" / "reference"
        staged = parent.joinpath(f"{path_digest}-{contents.hexdigest()[:12]}")
        if not staged.exists():
            parent.mkdir(parents=True, exist_ok=True)
            building = Path(tempfile.mkdtemp(dir=parent, prefix=".staging-"))
            for csv_file in csv_files:
                shutil.copy2(csv_file, building.joinpath(csv_file.name))
            try:
                building.rename(staged)
            except OSError:  # another process put the same copy in place first
                shutil.rmtree(building, ignore_errors=True)
        for older in parent.glob(f"{path_digest}*"):
            if older != staged:
                shutil.rmtree(older, ignore_errors=True)
        relative = str(staged.relative_to(PROJECT_DIR))
    os.environ[SEED_PATH_VAR] = relative
    return relative


def _newest_input_mtime() -> float:
    newest = 0.0
    roots = [PROJECT_DIR.joinpath(name) for name in _DBT_INPUTS] + [reference_dir()]
    for root in roots:
        paths = root.rglob("*") if root.is_dir() else [root]
        for path in paths:
            if path.is_file():
                newest = max(newest, path.stat().st_mtime)
    return newest


def _parsed_for_another_database() -> bool:
    """Whether target/ was parsed against another database than dbt connects to now (a
    warehouse set with CALLSHRINK_DATABASE_URL after the last parse): `mf query` would then
    name a database its connection cannot read."""
    try:
        models = json.loads(SEMANTIC_MANIFEST.read_text())["semantic_models"]
    except (FileNotFoundError, ValueError, KeyError):
        return True
    database = os.environ.get("CALLSHRINK_PGDATABASE", "callshrink")  # profiles.yml's default
    return any(model["node_relation"].get("database") != database for model in models)


_PARSING = threading.Lock()


def ensure_manifest() -> Path:
    """Parse the project when target/manifest.json is missing or older than its sources, or
    was parsed against another database. Threads of one process take turns (the app and the
    tests ask from several at once)."""
    with _PARSING:
        stage_reference()
        stale = not MANIFEST.exists() or MANIFEST.stat().st_mtime < _newest_input_mtime()
        if stale or _parsed_for_another_database():
            dbt(["parse", "--quiet"])
    return MANIFEST
