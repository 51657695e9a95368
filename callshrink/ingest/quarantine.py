"""Reading the quarantine: landing lines that could not be loaded, and why."""

from __future__ import annotations

from callshrink import db
from callshrink.ingest.tables import RAW_SCHEMA


def quarantined_rows(table: str | None = None, limit: int = 50) -> list[tuple]:
    query = (
        f"select raw_table, source_file, line_number, reason, left(raw_text, 120) "
        f"from {RAW_SCHEMA}._quarantine where %(table)s::text is null or raw_table = %(table)s "
        "order by quarantined_at desc, raw_table, source_file, line_number limit %(limit)s"
    )
    with db.connect() as conn:
        if not conn.execute("select to_regclass(%s)", (f"{RAW_SCHEMA}._quarantine",)).fetchone()[0]:
            return []
        return conn.execute(query, {"table": table, "limit": limit}).fetchall()


def print_quarantine(table: str | None = None, limit: int = 50) -> int:
    rows = quarantined_rows(table, limit)
    if not rows:
        print("no quarantined lines")
        return 0
    for raw_table, source_file, line_number, reason, raw_text in rows:
        print(f"{raw_table}  {source_file}:{line_number}: {reason}\n    {raw_text}")
    print(f"({len(rows)} shown; --limit for more)")
    return 0
