{#
    dbt's delete+insert, for the incremental models, with the keys to delete written into
    the statement when they are few. dbt deletes `where key in (select distinct key from
    <the new rows>)`, and the planner, with no statistics on the new rows, hash-joins them
    to every row of the table: the call models (unique key `started_date_utc`, a window of
    days) then read their whole history to replace a few days. Given the days as literals,
    Postgres deletes them by the index on the key. With more than `max_literals` keys (the
    staging models, keyed by record) dbt's own statement is used.
#}
{% macro postgres__get_delete_insert_merge_sql(
    target, source, unique_key, dest_columns, incremental_predicates
) -%}
    {%- set max_literals = 1000 -%}
    {%- if unique_key is string and not incremental_predicates -%}
        {%- set found = run_query(
            'select distinct ' ~ unique_key ~ '::text from ' ~ source
            ~ ' where ' ~ unique_key ~ ' is not null limit ' ~ (max_literals + 1)
        ) -%}
        {%- set keys = found.columns[0].values() -%}
    {%- endif -%}
    {%- if keys is defined and keys | length <= max_literals -%}
        {%- if keys | length -%}
        delete from {{ target }}
        where {{ unique_key }} in (
            {%- for key in keys %}'{{ key | replace("'", "''") }}'{{ ', ' if not loop.last }}{% endfor -%}
        );
        {% endif -%}
        {%- set columns = get_quoted_csv(dest_columns | map(attribute='name')) %}
        insert into {{ target }} ({{ columns }})
        select {{ columns }} from {{ source }}
    {%- else -%}
        {{ default__get_delete_insert_merge_sql(
            target, source, unique_key, dest_columns, incremental_predicates
        ) }}
    {%- endif -%}
{%- endmacro %}
