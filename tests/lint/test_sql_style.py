"""SQL style: sqlfluff (dbt templater, postgres dialect) finds nothing in the dbt project.

It runs here rather than in the Makefile because the dbt templater connects to the warehouse:
the test session's database serves it.
"""

from __future__ import annotations

import json
import os
import subprocess

from callshrink.dbt import stage_reference, tool
from callshrink.settings import PROJECT_DIR


def test_sqlfluff_finds_no_violations(warehouse_url: str):
    stage_reference()
    result = subprocess.run(
        [tool("sqlfluff"), "lint", "models", "tests/dbt", "--format", "json", "--nofail"],
        cwd=PROJECT_DIR,
        env={**os.environ, "DBT_PROFILES_DIR": str(PROJECT_DIR)},
        capture_output=True,
        text=True,
        timeout=600,
    )
    files = json.loads(result.stdout)
    assert len(files) >= 10, result.stderr  # every model was linted
    violations = [
        f"{f['filepath']}:{v['start_line_no']}: {v['code']} {v['description']}"
        for f in files
        for v in f["violations"]
    ]
    assert violations == []
