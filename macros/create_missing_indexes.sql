{#
    A pre-hook of the incremental models (dbt_project.yml): before an incremental build, the
    statements that create the indexes the model's `indexes` config asks for and its table
    lacks. dbt creates an incremental model's indexes only when it creates the table, so
    without this an index added to the config in a new version would wait for a
    `--full-refresh`, and a query that relies on it would read the whole table once per row
    on a warehouse built before it: int_calls_followed_up probes int_calls_classified by
    caller once per call, and call_conversions reads its own changed calls by call_id. A
    pre-hook, so that a build that reads its own table finds the index already there. A
    full build makes every index itself. An index counts
    as present when one on the table has the same columns in the same order and the same
    uniqueness. An index on an expression (`date_trunc('day', started_at_local)`) is not
    looked for: Postgres keeps the expression in its own spelling, not the config's. Nothing
    to create renders nothing, and dbt then runs no statement.
#}
{% macro create_missing_indexes() -%}
    {%- set wanted = config.get('indexes') or [] -%}
    {%- if execute and wanted and is_incremental() -%}
        {#- each index of the table as 'unique:column,column' (an expression's place as '?') -#}
        {%- set present = run_query(
            "select i.indisunique::text || ':' || string_agg(coalesce(a.attname::text, '?'), ','"
            ~ " order by k.ord)"
            ~ " from pg_index as i"
            ~ " cross join lateral unnest(i.indkey) with ordinality as k (attnum, ord)"
            ~ " left join pg_attribute as a"
            ~ " on a.attrelid = i.indrelid and a.attnum = k.attnum and k.attnum > 0"
            ~ " where i.indrelid = '" ~ this ~ "'::regclass"
            ~ " group by i.indexrelid, i.indisunique"
        ).columns[0].values() -%}
        {%- for index in wanted -%}
            {%- set ns = namespace(plain=true) -%}
            {%- for column in index['columns'] -%}
                {%- if not modules.re.fullmatch('[a-z_][a-z0-9_]*', column) -%}
                    {%- set ns.plain = false -%}
                {%- endif -%}
            {%- endfor -%}
            {%- set key = (index.get('unique', false) | string | lower) ~ ':'
                ~ (index['columns'] | join(',')) -%}
            {%- if ns.plain and key not in present %}
                {{ get_create_index_sql(this, index) }};
            {%- endif -%}
        {%- endfor -%}
    {%- endif -%}
{%- endmacro %}
