{#
    Tests read the rows a model's last build wrote (dbt_project.yml, data_tests). dbt renders
    a `where` config when it parses the project, before any relation or build is known, so
    two words in it are filled in here, when the test runs:
    - `__model__`: the relation under test, so a filter can read it: the staging tests check
      `_staged_at = (select max(_staged_at) from __model__)`;
    - `__days_built__` (the whole `where`): the call models' tests read the days from the
      first their last build wrote (macros/incremental_window.sql); every row after a full
      build, or for a model with no recorded build.
    Otherwise as dbt's own: the relation filtered by `where`.
#}
{% macro default__get_where_subquery(relation) -%}
    {%- set where = config.get('where', '') -%}
    {%- if where == '__days_built__' -%}
        {%- set built_from = days_built_from(relation) if execute else none -%}
        {%- set where = "started_date_utc >= '" ~ built_from ~ "'::date" if built_from else '' -%}
    {%- endif -%}
    {%- if where -%}
        {%- do return(
            '(select * from ' ~ relation ~ ' where ' ~ where | replace('__model__', relation | string)
            ~ ') as dbt_subquery'
        ) -%}
    {%- else -%}
        {%- do return(relation) -%}
    {%- endif -%}
{%- endmacro %}
