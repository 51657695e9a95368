{#
    A pre-hook of the incremental models (dbt_project.yml): before an incremental build, the
    statements that create the indexes the model's `indexes` config asks for and its table
    lacks. dbt creates an incremental model's indexes only when it creates the table, so
    without this an index added to the config in a new version would wait for a
    `--full-refresh`, and a query that relies on it would read the whole table once per row
    on a warehouse built before it: int_calls_followed_up probes int_calls_classified by
    caller once per call, and call_conversions reads its own changed calls by call_id. A
    pre-hook, so that a build that reads its own table finds the index already there. A
    full build makes every index itself.
    An index counts as present when one on the table has the same key columns in the same
    order, the same uniqueness and the same included columns (macros/create_index.sql). One
    with the same key and other included columns is an earlier version's: it is dropped once
    the new one is made, so the table does not keep both up to date. An index on an
    expression (`date_trunc('day', started_at_local)`) is not looked for: Postgres keeps the
    expression in its own spelling, not the config's. Nothing to create renders nothing,
    and dbt then runs no statement.
#}
{% macro create_missing_indexes() -%}
    {%- set wanted = config.get('indexes') or [] -%}
    {%- if execute and wanted and is_incremental() -%}
        {#- each index of the table by 'unique:column,column;included,columns' (an
            expression's place as '?'): its name -#}
        {%- set indexes = run_query(
            "select i.indisunique::text || ':' || string_agg(coalesce(a.attname::text, '?'), ','"
            ~ " order by k.ord) filter (where k.ord <= i.indnkeyatts) || ';' || coalesce("
            ~ "string_agg(a.attname::text, ',' order by k.ord) filter (where k.ord > i.indnkeyatts),"
            ~ " ''), i.indexrelid::regclass::text"
            ~ " from pg_index as i"
            ~ " cross join lateral unnest(i.indkey) with ordinality as k (attnum, ord)"
            ~ " left join pg_attribute as a"
            ~ " on a.attrelid = i.indrelid and a.attnum = k.attnum and k.attnum > 0"
            ~ " where i.indrelid = '" ~ this ~ "'::regclass"
            ~ " group by i.indexrelid, i.indisunique, i.indnkeyatts"
        ) -%}
        {%- set present = {} -%}
        {%- for key, name in indexes.rows -%}
            {%- do present.update({key: name}) -%}
        {%- endfor -%}
        {%- for index in wanted -%}
            {%- set ns = namespace(plain=true) -%}
            {%- for column in index['columns'] + (index.get('include') or []) -%}
                {%- if not modules.re.fullmatch('[a-z_][a-z0-9_]*', column) -%}
                    {%- set ns.plain = false -%}
                {%- endif -%}
            {%- endfor -%}
            {%- set keyed = (index.get('unique', false) | string | lower) ~ ':'
                ~ (index['columns'] | join(',')) -%}
            {%- set key = keyed ~ ';' ~ ((index.get('include') or []) | join(',')) -%}
            {%- if ns.plain and key not in present %}
                {{ get_create_index_sql(this, index) }};
                {%- for earlier, name in present.items() if earlier.split(';')[0] == keyed %}
                    drop index {{ name }};
                {%- endfor -%}
            {%- endif -%}
        {%- endfor -%}
    {%- endif -%}
{%- endmacro %}
