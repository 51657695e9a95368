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
    looked for: Postgres keeps the expression in its own spelling, not the config's. A unique
    index that replaces a plain one on the same columns (the key a `unique` test names,
    macros/test_unique.sql) drops the plain one once it is made, unless the config still
    asks for that one too: it would only slow every write. Making a unique index on rows that
    are not unique fails the build, naming a repeated key. Nothing to create renders nothing,
    and dbt then runs no statement.
#}
{% macro create_missing_indexes() -%}
    {%- set wanted = config.get('indexes') or [] -%}
    {%- if execute and wanted and is_incremental() -%}
        {#- each index of the table as 'unique:column,column' (an expression's place as '?'),
            and its name -#}
        {%- set indexes = run_query(
            "select i.indisunique::text || ':' || string_agg(coalesce(a.attname::text, '?'), ','"
            ~ " order by k.ord), i.indexrelid::regclass::text"
            ~ " from pg_index as i"
            ~ " cross join lateral unnest(i.indkey) with ordinality as k (attnum, ord)"
            ~ " left join pg_attribute as a"
            ~ " on a.attrelid = i.indrelid and a.attnum = k.attnum and k.attnum > 0"
            ~ " where i.indrelid = '" ~ this ~ "'::regclass"
            ~ " group by i.indexrelid, i.indisunique"
        ) -%}
        {%- set present = indexes.columns[0].values() -%}
        {%- set wanted_keys = [] -%}
        {%- for index in wanted -%}
            {%- do wanted_keys.append((index.get('unique', false) | string | lower) ~ ':'
                ~ (index['columns'] | join(','))) -%}
        {%- endfor -%}
        {%- for index in wanted -%}
            {%- set ns = namespace(plain=true) -%}
            {%- for column in index['columns'] -%}
                {%- if not modules.re.fullmatch('[a-z_][a-z0-9_]*', column) -%}
                    {%- set ns.plain = false -%}
                {%- endif -%}
            {%- endfor -%}
            {%- set key = wanted_keys[loop.index0] -%}
            {%- if ns.plain and key not in present %}
                {{ get_create_index_sql(this, index) }};
                {%- if key.startswith('true:') -%}
                    {%- set plain = 'false:' ~ key[5:] -%}
                    {%- for row in indexes.rows if row[0] == plain and plain not in wanted_keys %}
                drop index {{ row[1] }};
                    {%- endfor -%}
                {%- endif -%}
            {%- endif -%}
        {%- endfor -%}
    {%- endif -%}
{%- endmacro %}
