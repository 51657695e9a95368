"""Building blocks the per-table suites share.

Every data column of a raw table is text as delivered, so numeric and timestamp rules are
regular expressions (run by Postgres as ``~``), and rules that compare two columns as numbers
are SQL queries over ``{batch}`` that select the offending rows with their lineage columns.

Great Expectations is imported inside the functions: importing it takes seconds and the
runner (which imports the suites) is loaded by Dagster at definition time.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING, Literal

from callshrink.ingest.tables import RAW_SCHEMA, RAW_TABLES, RawTable

if TYPE_CHECKING:
    import great_expectations as gx
    from great_expectations.expectations import Expectation

Severity = Literal["critical", "warning", "info"]

# Lineage columns that locate a raw row in the delivered file.
LINEAGE_COLUMNS = ("_source_file", "_line_number")

# ISO 8601 with a UTC offset, as the JSON sources send it (the loader rejects naive times).
ISO_TIMESTAMP = (
    r"^[0-9]{4}-[0-9]{2}-[0-9]{2}[T ][0-9]{2}:[0-9]{2}(:[0-9]{2}([.,][0-9]+)?)?"
    r"(Z|z|[+-][0-9]{2}(:?[0-9]{2})?)$"
)
# Asterisk cdr-csv local time.
LOCAL_TIMESTAMP = r"^[0-9]{4}-[0-9]{2}-[0-9]{2} [0-9]{2}:[0-9]{2}:[0-9]{2}$"
NON_NEGATIVE_INTEGER = r"^[0-9]+$"
NON_NEGATIVE_DECIMAL = r"^[0-9]+(\.[0-9]+)?$"


def raw_table(identifier: str) -> RawTable:
    for table in RAW_TABLES:
        if table.identifier == identifier:
            return table
    raise KeyError(f"no raw table {identifier!r}")


def suite_name(identifier: str) -> str:
    return f"{RAW_SCHEMA}.{identifier}"


def suite(identifier: str, expectations: Iterable[Expectation]) -> gx.ExpectationSuite:
    """A suite named ``raw.<identifier>`` holding ``expectations`` in order."""
    import great_expectations as gx

    raw_table(identifier)  # fail early on a typo
    wanted = list(expectations)
    # Passed to the constructor: ``add_expectation`` needs an active data context. The
    # constructor logs and drops an invalid expectation instead of raising, so count them.
    built = gx.ExpectationSuite(name=suite_name(identifier), expectations=wanted)
    if len(built.expectations) != len(wanted):
        raise ValueError(f"{built.name}: {len(wanted) - len(built.expectations)} invalid")
    return built


def required_present(identifier: str) -> list[Expectation]:
    """Not-null for every field ``tables.py`` declares ``required=True`` (one spec, no drift)."""
    table = raw_table(identifier)
    columns = ["pbx_id"] if table.has_pbx_id else []
    columns += [field.column for field in table.fields if field.required]
    return [present(column) for column in columns]


def present(
    column: str,
    *,
    mostly: float = 1.0,
    when: tuple[str, str] | None = None,
    description: str | None = None,
    severity: Severity = "critical",
) -> Expectation:
    """``column`` is not null (only on rows where ``when=(other_column, value)`` holds)."""
    import great_expectations.expectations as gxe
    from great_expectations.expectations.row_conditions import Column

    text = description or f"{column} is present"
    if when is None:
        return gxe.ExpectColumnValuesToNotBeNull(
            column=column, mostly=mostly, description=text, severity=severity
        )
    other, value = when
    return gxe.ExpectColumnValuesToNotBeNull(
        column=column,
        mostly=mostly,
        row_condition=Column(other) == value,
        description=text,
        severity=severity,
    )


def not_blank(
    column: str,
    *,
    mostly: float = 1.0,
    when: tuple[str, str] | None = None,
    description: str | None = None,
    severity: Severity = "critical",
) -> Expectation:
    """``column`` (when not null) has a non-space character: CSV exports send "" for none.

    The loader only rejects blank text in required fields; pair this with ``present``.
    """
    import great_expectations.expectations as gxe
    from great_expectations.expectations.row_conditions import Column

    return gxe.ExpectColumnValuesToMatchRegex(
        column=column,
        regex="[^[:space:]]",
        mostly=mostly,
        row_condition=None if when is None else Column(when[0]) == when[1],
        description=description or f"{column} is not blank",
        severity=severity,
    )


def one_of(
    column: str,
    values: Sequence[str],
    *,
    mostly: float = 1.0,
    severity: Severity = "critical",
    description: str | None = None,
) -> Expectation:
    """``column`` (when not null) is one of ``values``."""
    import great_expectations.expectations as gxe

    text = description or f"{column} is one of {', '.join(values)}"
    return gxe.ExpectColumnValuesToBeInSet(
        column=column, value_set=list(values), mostly=mostly, description=text, severity=severity
    )


def matches(
    column: str,
    regex: str,
    what: str,
    *,
    mostly: float = 1.0,
    severity: Severity = "critical",
) -> Expectation:
    """``column`` (when not null) matches ``regex``; ``what`` names the format for people."""
    import great_expectations.expectations as gxe

    return gxe.ExpectColumnValuesToMatchRegex(
        column=column,
        regex=regex,
        mostly=mostly,
        description=f"{column} is {what}",
        severity=severity,
    )


def non_negative_integer(column: str) -> Expectation:
    return matches(column, NON_NEGATIVE_INTEGER, "a non-negative whole number")


def iso_timestamp(column: str) -> Expectation:
    return matches(column, ISO_TIMESTAMP, "an ISO 8601 timestamp with a UTC offset")


def local_timestamp(column: str) -> Expectation:
    return matches(column, LOCAL_TIMESTAMP, "a YYYY-MM-DD HH:MM:SS timestamp")


def as_number(column: str) -> str:
    """SQL: the text column as numeric, null when it is not a whole number (so no cast error).

    No braces in the SQL: Great Expectations formats the query to substitute ``{batch}``.
    """
    quoted = quote(column)
    return f"(case when {quoted} ~ '^-?[0-9]+$' then {quoted}::numeric end)"


def quote(column: str) -> str:
    return '"' + column.replace('"', '""') + '"'


def rows_where(
    description: str,
    where: str,
    columns: Sequence[str],
    *,
    severity: Severity = "critical",
) -> Expectation:
    """No row matches the SQL condition ``where``.

    The query selects the lineage columns and ``columns`` so that a failure names the rows.
    ``meta.columns`` records the columns the rule is about (the runner reports them).
    """
    import great_expectations.expectations as gxe

    selected = ", ".join(quote(c) for c in (*LINEAGE_COLUMNS, *columns))
    query = f"select {selected} from {{batch}} where {where}"
    return gxe.UnexpectedRowsExpectation(
        unexpected_rows_query=query,
        description=description,
        severity=severity,
        meta={"columns": list(columns)},
    )
