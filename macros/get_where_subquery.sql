{#
    A test's `where` config may name the relation under test as `__model__`, so a filter can
    read the relation itself: the staging tests check the rows of the model's last build,
    `_staged_at = (select max(_staged_at) from __model__)` (dbt_project.yml). dbt renders
    `where` when it parses the project, before any relation is known, so the name is put in
    here, when the test runs. Otherwise as dbt's own: the relation filtered by `where`.
#}
{% macro default__get_where_subquery(relation) -%}
    {%- set where = config.get('where', '') -%}
    {%- if where -%}
        {%- do return(
            '(select * from ' ~ relation ~ ' where ' ~ where | replace('__model__', relation | string)
            ~ ') as dbt_subquery'
        ) -%}
    {%- else -%}
        {%- do return(relation) -%}
    {%- endif -%}
{%- endmacro %}
