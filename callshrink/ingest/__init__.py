"""Loading landing-folder exports into the raw schema: nothing lost, nothing loaded twice."""

from callshrink.ingest.loader import FileResult, TableLoadResult, ensure_raw_schema, load_table
from callshrink.ingest.tables import RAW_SCHEMA, RAW_TABLES, RawTable, table_by_key

__all__ = [
    "RAW_SCHEMA",
    "RAW_TABLES",
    "FileResult",
    "RawTable",
    "TableLoadResult",
    "ensure_raw_schema",
    "load_table",
    "table_by_key",
]
