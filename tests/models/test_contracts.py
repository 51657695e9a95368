"""A model with an enforced contract is built as its contract says (macros/create_table_as.sql
makes its table with one parallel `create table as` and adds the constraints after): each
column has the type the model's YAML declares, to the precision of a numeric; the columns with
a not_null or primary_key constraint refuse nulls; and a row that breaks a constraint fails
the build and leaves the model's table as it was."""

from __future__ import annotations

import subprocess

import psycopg

from callshrink.dbt import stage_reference
from tests.conftest import PipelineRun, dbt_ls, run_dbt


def _table_columns(conn: psycopg.Connection, table: str) -> list[tuple[str, str, bool]]:
    """(name, type as Postgres spells it, not null) of each column of `table`, in order."""
    return conn.execute(
        "select attname, format_type(atttypid, atttypmod), attnotnull from pg_attribute "
        "where attrelid = %s::regclass and attnum > 0 and not attisdropped order by attnum",
        (table,),
    ).fetchall()


def test_a_contracted_table_has_the_declared_types_and_not_nulls(
    pipeline_run: PipelineRun, conn: psycopg.Connection
) -> None:
    """Every model with an enforced contract, in the suite's warehouse after its full build.
    The expected column types are Postgres' own reading of the YAML's data types (a scratch
    table declared with them), so `numeric(9, 6)` must be numeric(9,6), not the bare numeric a
    computed rate has."""
    models = dbt_ls(
        "--resource-type", "model", "--select", "config.contract.enforced:true",
        "--output-keys", "name schema alias columns constraints",
    )  # fmt: skip
    assert {"missed_call_shrink", "call_conversions", "calls", "dim_locations"} <= {
        model["name"] for model in models
    }
    typmods = 0
    for model in models:
        table = f"{model['schema']}.{model['alias'] or model['name']}"
        columns = list(model["columns"].values())
        declared = ", ".join(f'"{column["name"]}" {column["data_type"]}' for column in columns)
        conn.execute(f"create temp table contract ({declared})")
        try:
            expected = [
                (
                    name,
                    type_,
                    any(
                        constraint["type"] in ("not_null", "primary_key")
                        for constraint in column.get("constraints") or []
                    ),
                )
                for (name, type_, _), column in zip(
                    _table_columns(conn, "contract"), columns, strict=True
                )
            ]
        finally:
            conn.execute("drop table contract")
        assert _table_columns(conn, table) == expected, table
        typmods += sum("numeric(" in type_ for _, type_, _ in expected)
        keys = [
            column["name"]
            for column in columns
            for constraint in column.get("constraints") or []
            if constraint["type"] == "primary_key"
        ]
        primary = conn.execute(
            "select array_agg(attname::text order by attname) from pg_index "
            "join pg_attribute on attrelid = indrelid and attnum = any(indkey) "
            "where indrelid = %s::regclass and indisprimary",
            (table,),
        ).fetchone()[0]
        assert (primary or []) == sorted(keys), table
    assert typmods > 20  # the money and rates of the finance tables


def _build_locations() -> subprocess.CompletedProcess:
    return run_dbt("run", "--select", "dim_locations")


def test_a_row_that_breaks_the_contract_fails_the_build_and_keeps_the_table(
    pipeline_run: PipelineRun, conn: psycopg.Connection
) -> None:
    """marts.locations (dim_locations) declares location_id not null and its primary key. A
    second row of a location in the reference seed fails the build on the key, a location
    with no id on the null; the table keeps the locations it had. Put back after."""
    stage_reference()
    before = conn.execute("select * from marts.locations order by location_id").fetchall()
    try:
        conn.execute("insert into reference.locations select * from reference.locations limit 1")
        duplicated = _build_locations()
        conn.execute(
            "update reference.locations set location_id = null "
            "where ctid = (select max(ctid) from reference.locations)"
        )
        no_id = _build_locations()
    finally:
        conn.execute(
            "delete from reference.locations as copy using reference.locations as first "
            "where copy.location_id is null "
            "or (copy.location_id = first.location_id and copy.ctid > first.ctid)"
        )
    after = conn.execute("select * from marts.locations order by location_id").fetchall()
    rebuilt = _build_locations()

    assert duplicated.returncode == 1, duplicated.stdout[-3000:]
    assert "Key (location_id)=(" in duplicated.stdout and "is duplicated" in duplicated.stdout
    assert no_id.returncode == 1, no_id.stdout[-3000:]
    assert 'column "location_id"' in no_id.stdout and "contains null values" in no_id.stdout
    assert after == before
    assert rebuilt.returncode == 0, rebuilt.stdout[-3000:]
    assert conn.execute("select count(*) from reference.locations").fetchone()[0] == len(before)
