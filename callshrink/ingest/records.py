"""Records-only raw tables: each record stored as delivered, its fields read through a view.

A records-only table (`RawTable.records_only`: CallRail, Square and HubSpot) keeps no column
per field. Its rows live in ``raw.<table>__records``: ``_record`` (the record, as jsonb) and
the lineage columns. The view ``raw.<table>`` gives each field of tables.py as a text column,
made from ``_record`` as the careful path would have typed it (blank typed values null,
booleans as ``true``/``false``), followed by ``_record`` and the lineage: the columns and
their order of the table it replaces, so staging, the checks and the quarantine read it
unchanged.

Why: a clean JSON-lines file then loads by one COPY of its lines into ``_record``
(passthrough.py), with Postgres parsing the JSON, and one query over the rows it wrote checks
every field by the rules of tables.py (``check_sql``); a CallRail page on one line is stored
and checked in one statement. Parsing and typing each line in Python ran at half that speed
or less. A file with a record the query does not accept, or that the server refuses (bad
JSON, bytes that are not UTF-8, a NUL), is rolled back and loaded by the careful path, which
names and quarantines the bad lines; the query may refuse more than the careful path does (a
timestamp offset written ``+0530``, a boolean with spaces), never less. CallRail CSV always
takes the careful path, which stores each row as an object of its header's names.
"""

from __future__ import annotations

import psycopg
from psycopg import sql

from callshrink.ingest.tables import RAW_SCHEMA, Field, Format, Kind, RawTable

# The characters Python's str.strip removes that Postgres' btrim must be told about.
_WHITESPACE = r"e' \t\n\r\f\x0b'"  # \v is not an escape there
_TRUE = ("true", "t", "1", "yes")
_FALSE = ("false", "f", "0", "no")


def _path(spec: Field) -> str:
    return "{" + ",".join(str(key) for key in spec.path) + "}"


def value_sql(spec: Field) -> str:
    """The field's value in ``_record`` as text (null when absent or JSON null)."""
    if len(spec.path) == 1:
        return f"(_record ->> '{spec.path[0]}')"
    return f"(_record #>> '{_path(spec)}')"


def _json_sql(spec: Field) -> str:
    if len(spec.path) == 1:
        return f"(_record -> '{spec.path[0]}')"
    return f"(_record #> '{_path(spec)}')"


def _listed(values: tuple[str, ...]) -> str:
    return ", ".join(f"'{value}'" for value in values)


def column_sql(spec: Field) -> str:
    """The view's column of a field: its value as the careful path types it (loader._typed)."""
    value = value_sql(spec)
    if spec.kind is Kind.TEXT:
        return value
    stripped = f"btrim({value}, {_WHITESPACE})"
    if spec.kind is Kind.JSON:  # a string holds JSON text, or is blank (CSV's empty cell)
        json = _json_sql(spec)
        return (
            f"case jsonb_typeof({json}) when 'string' then nullif({stripped}, '') "
            f"when 'null' then null else {json}::text end"
        )
    if spec.kind is Kind.BOOLEAN:
        lowered = f"lower({stripped})"
        return (
            f"case when {lowered} in ({_listed(_TRUE)}) then 'true' "
            f"when {lowered} in ({_listed(_FALSE)}) then 'false' end"
        )
    return f"nullif({stripped}, '')"


def _digits(text: str) -> str:
    """SQL true when ``text`` is digits only (an empty text too): ltrim, not a regular
    expression, which cost ten times as much per row."""
    return f"ltrim({text}, '0123456789') = ''"


def _timestamp_sql(value: str, offset: bool) -> str:
    """YYYY-MM-DD?HH:MM:SS (``T`` or a space between; one LIKE for the separators' places),
    hours under 24 and minutes and seconds under 60 (Python refuses 24:00 and leap seconds,
    Postgres does not), then a fraction and, when ``offset``, ``Z`` or ``+HH:MM``; no space
    after the date. The cast checks the digits and the date (Feb 30 makes it fail, and the
    careful path decides)."""
    checks = [
        f"left({value}, 19) like '____-__-_____:__:__'",  # no %: statements take parameters
        f"substr({value}, 11, 1) in ('T', ' ')",
        f"substr({value}, 12, 2) < '24'",
        f"substr({value}, 15, 2) < '60'",
        f"substr({value}, 18, 2) < '60'",
        f"strpos(substr({value}, 12), ' ') = 0",
    ]
    if offset:
        ends = f"length({value}) - 5"
        checks.append(
            f"(right({value}, 1) = 'Z' or (substr({value}, {ends}, 1) in ('+', '-') "
            f"and substr({value}, {ends} + 3, 1) = ':' and length({value}) >= 25))"
        )
        checks.append(f"{value}::timestamptz is not null")
    else:
        checks.append(f"length({value}) = 19")
        checks.append(f"{value}::timestamp is not null")
    return "(" + " and ".join(checks) + ")"


def _kind_sql(spec: Field, value: str, json: str) -> str:
    """SQL true when a present value is of the field's kind, as strict as loader._typed or
    stricter."""
    kind = spec.kind
    if kind is Kind.TEXT:
        # a printable character other than a space (Python's strip removes every kind of
        # space, Unicode's too); the regular expression only when the first is not one
        printable = f"({value} ~ '[!-~]')"
        first = f"ascii({value}) between 33 and 126"
        return f"({first} or {printable})" if spec.required else "true"
    if kind in (Kind.INTEGER, Kind.EPOCH):
        unsigned = f"(case when left({value}, 1) = '-' then substr({value}, 2) else {value} end)"
        return f"(length({unsigned}) between 1 and 18 and {_digits(unsigned)})"
    if kind is Kind.DECIMAL:
        return f"{value} ~ '^-?[0-9]+([.][0-9]+)?$'"
    if kind is Kind.BOOLEAN:
        return f"lower({value}) in ({_listed(_TRUE + _FALSE)})"
    if kind is Kind.TIMESTAMP:
        return _timestamp_sql(value, offset=True)
    if kind is Kind.LOCAL_TIMESTAMP:
        return _timestamp_sql(value, offset=False)
    if kind is Kind.JSON:
        return f"jsonb_typeof({json}) in ('array', 'object')"
    raise AssertionError(kind)


def _field_sql(spec: Field, value: str, json: str) -> str:
    """SQL true when the field passes (``value``: its text, ``json``: its jsonb): missing and
    optional, or present, of its kind and within its rule."""
    if spec.kind is Kind.TEXT:
        missing = f"{value} is null"
    elif spec.kind is Kind.JSON:
        missing = f"coalesce(jsonb_typeof({json}), 'null') = 'null'"
    else:
        missing = f"coalesce({value}, '') = ''"
    present = [_kind_sql(spec, value, json)]
    if spec.rule is not None:
        present.append(spec.rule.sql.format(value=value))
    if spec.required:
        return f"(not {missing} and {' and '.join(present)})"
    return f"({missing} or ({' and '.join(present)}))"


def check_sql(
    table: RawTable, stored: sql.Composable, where: sql.Composable | None = None
) -> sql.Composed:
    """A query giving (rows, refused): how many rows of ``stored`` (the storage table, or the
    rows an insert returns) match ``where``, and how many of them hold a record the careful
    path would not load as it is.

    ``jsonb_to_record`` takes each top-level key a field reads out of ``_record`` once per
    row (a field's path written out in every check that reads its value cost twice as much),
    and as a function call, unlike a subquery, it lets Postgres check the rows in parallel.
    An object whose fields are all one level down (a Square Money, HubSpot's properties) is
    taken apart the same way, each of its fields once per row; a record where it is not an
    object is an error, which sends the file down the careful path."""
    by_top: dict[str, list[Field]] = {}
    for spec in table.fields:
        by_top.setdefault(str(spec.path[0]), []).append(spec)
    objects = {  # top-level key -> the keys of its fields, all one level down
        top: [str(spec.path[1]) for spec in specs]
        for top, specs in by_top.items()
        if all(len(spec.path) == 2 and spec.kind is not Kind.JSON for spec in specs)
    }
    tops = {
        top: "jsonb" if any(len(s.path) > 1 or s.kind is Kind.JSON for s in specs) else "text"
        for top, specs in by_top.items()
    }
    checks = ["jsonb_typeof(stored._record) = 'object'"]
    if table.format is Format.CALLRAIL:  # a line that is a page: the careful path reads it
        checks.append("jsonb_typeof(stored._record -> 'calls') is distinct from 'array'")
    for spec in table.fields:
        top, rest = str(spec.path[0]), ",".join(str(key) for key in spec.path[1:])
        column = f"fields.{sql.Identifier(top).as_string(None)}"
        if top in objects:
            value = json = f"{_object_alias(top)}.{sql.Identifier(rest).as_string(None)}"
        elif tops[top] == "text":
            value = json = column
        else:
            value, json = f"({column} #>> '{{{rest}}}')", f"({column} #> '{{{rest}}}')"
        checks.append(_field_sql(spec, value, json))

    def columns(kinds: dict[str, str]) -> sql.Composed:
        return sql.SQL(", ").join(
            sql.SQL("{} {}").format(sql.Identifier(name), sql.SQL(kind))
            for name, kind in kinds.items()
        )

    lateral = [
        sql.SQL("cross join lateral jsonb_to_record(stored._record) as fields ({})").format(
            columns(tops)
        )
    ]
    lateral += [
        sql.SQL("cross join lateral jsonb_to_record(fields.{}) as {} ({})").format(
            sql.Identifier(top),
            sql.SQL(_object_alias(top)),
            columns(dict.fromkeys(keys, "text")),
        )
        for top, keys in objects.items()
    ]
    return sql.SQL(
        "select count(*), count(*) filter (where not coalesce({}, false)) "
        "from {} as stored {} where {}"
    ).format(
        sql.SQL("\n    and ".join(checks)),
        stored,
        sql.SQL(" ").join(lateral),
        where or sql.SQL("true"),
    )


def _object_alias(top: str) -> str:
    return sql.Identifier(f"object_{top}").as_string(None)


def _relation(name: str) -> sql.Identifier:
    return sql.Identifier(RAW_SCHEMA, name)


def lookup_columns(table: RawTable) -> sql.Composed:
    """The lookup index's key: the key columns' expressions (the view's own, so a query on
    the view's columns uses the index)."""
    by_column = {spec.column: spec for spec in table.fields}
    return sql.SQL(", ").join(
        sql.SQL(f"({column_sql(by_column[column])})") for column in table.lookup_key
    )


def view_ddl(table: RawTable, lineage: tuple[str, ...]) -> sql.Composed:
    columns = [
        sql.SQL("{} as {}").format(sql.SQL(column_sql(spec)), sql.Identifier(spec.column))
        for spec in table.fields
    ]
    columns += [sql.Identifier(column) for column in ("_record", *lineage)]
    return sql.SQL("create or replace view {} as select {} from {}").format(
        _relation(table.identifier), sql.SQL(", ").join(columns), _relation(table.storage)
    )


def migrate(conn: psycopg.Connection, table: RawTable) -> None:
    """Turn a raw table an older loader made (a text column per field, then ``_record`` and
    the lineage) into this layout: renamed to the storage table, the field columns dropped
    (their values are in ``_record``; the view gives them back) with the indexes on them. Its
    rows, sequence and lineage stay. Views left over on it (a check's, from a run that was
    killed) go with the columns."""
    (kind,) = conn.execute(
        "select relkind from pg_class where oid = to_regclass(%s)",
        (f"{RAW_SCHEMA}.{table.identifier}",),
    ).fetchone() or (None,)
    if kind != "r":
        return
    old = _relation(table.identifier)
    conn.execute(
        sql.SQL("drop index if exists {}, {}").format(
            _relation(f"{table.identifier}__lookup"), _relation(f"{table.identifier}__loaded_at")
        )
    )
    conn.execute(
        sql.SQL("alter table {} {}").format(
            old,
            sql.SQL(", ").join(
                sql.SQL("drop column if exists {} cascade").format(sql.Identifier(spec.column))
                for spec in table.fields
            ),
        )
    )
    conn.execute(sql.SQL("alter table {} rename to {}").format(old, sql.Identifier(table.storage)))


def no_record_statistics(conn: psycopg.Connection, table: RawTable) -> None:
    """Leave ``_record`` out of ANALYZE (statistics target 0). The loader analyzes a table a
    load has grown by a tenth or more, for the lineage columns and the lookup index's
    expressions, which the models' plans use; no plan uses the statistics of whole JSON
    documents, and sampling them was three fifths of that analyze's time."""
    relation = f"{RAW_SCHEMA}.{table.storage}"
    (target,) = conn.execute(
        "select attstattarget from pg_attribute "
        "where attrelid = %s::regclass and attname = '_record'",
        (relation,),
    ).fetchone()
    if target != 0:  # -1 (or null from Postgres 17 on): the default
        conn.execute(
            sql.SQL("alter table {} alter column _record set statistics 0").format(
                _relation(table.storage)
            )
        )
