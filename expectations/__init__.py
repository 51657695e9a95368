"""Great Expectations suites for the raw tables, one module per table, as Python code.

The loader already quarantines lines whose fields do not parse for their kind; these suites are
the second line of defence and check the loaded rows' content rules (known enums, non-negative
amounts, timestamps staging can cast, required fields present). ``runner`` validates a raw
table in Postgres and reports failing rows by their ``_source_file`` and ``_line_number``.

Nothing here imports Great Expectations at module import time (it costs seconds): Dagster
imports the runner when it loads its definitions.
"""
