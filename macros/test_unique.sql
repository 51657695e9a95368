{#
    dbt's `unique` test, answered by the catalog where the table itself keeps its column
    unique. Where a model kept a plain index on the column its `unique` test names (the
    staging tables' record ids, `calls`' and `call_conversions`' call_id), that index is
    unique (the model's `indexes` config): no row that breaks the test can be written, the
    build that would write it fails, naming the key. The test then only has to find that
    index: while the table has a valid unique index whose one key column is this column (not
    a partial index, not an expression), the query below returns no row without reading the
    table (the condition holds for the whole query, so Postgres checks it once, before any
    row). Without such an index it is dbt's own test: the values that more than one row of
    the rows under test hold. Every row of a unique index's table is unique, so the rows a
    `where` config picks are too (macros/get_where_subquery.sql). A column under test written
    other than as a plain name (an expression) finds no index and is counted.
    In the benchmark's full build of 3.9 million calls, counting took `calls`' test 20 s and
    the CDR legs' 18 s, each on the way to every model below.
#}
{% macro default__test_unique(model, column_name) %}

select
    {{ column_name }} as unique_field,
    count(*) as n_records

from {{ model }}
where {{ column_name }} is not null
    and not exists (
        select
        from pg_catalog.pg_index as i
        inner join pg_catalog.pg_attribute as a
            on a.attrelid = i.indrelid and a.attnum = i.indkey[0]
        where i.indrelid = to_regclass('{{ tested_relation(model) | replace("'", "''") }}')
            and i.indisunique
            and i.indisvalid
            and i.indnkeyatts = 1
            and i.indpred is null
            and a.attname = '{{ column_name | replace("'", "''") }}'
    )
group by {{ column_name }}
having count(*) > 1

{% endmacro %}
