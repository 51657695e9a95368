{#
    Tests read the rows a model's last build wrote (dbt_project.yml, data_tests). dbt renders
    a `where` config when it parses the project, before any relation or build is known, so
    two `where` words are filled in here, when the test runs, each with a literal (the
    planner then reads the index range of those rows; against a subquery it guesses a third
    of the table and reads all of it):
    - `__last_build__`: the staging tests read the rows of the last build,
      `_staged_at = <the newest _staged_at>`;
    - `__days_built__`: the call models' tests read the days from the first their last
      build wrote (macros/incremental_window.sql); every row after a full build, or for a
      model with no recorded build.
    Otherwise as dbt's own: the relation filtered by `where`.
#}
{% macro default__get_where_subquery(relation) -%}
    {%- set where = config.get('where', '') -%}
    {%- if where == '__last_build__' -%}
        {%- set where = '_staged_at = '
            ~ value_now('select max(_staged_at) from ' ~ relation, 'timestamptz') -%}
    {%- elif where == '__days_built__' -%}
        {%- set built_from = days_built_from(relation) if execute else none -%}
        {%- set where = "started_date_utc >= '" ~ built_from ~ "'::date" if built_from else '' -%}
    {%- endif -%}
    {%- if where -%}
        {%- do return('(select * from ' ~ relation ~ ' where ' ~ where ~ ') as dbt_subquery') -%}
    {%- else -%}
        {%- do return(relation) -%}
    {%- endif -%}
{%- endmacro %}
