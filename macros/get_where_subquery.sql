{#
    Tests read the rows a model's last build wrote (dbt_project.yml, data_tests). dbt renders
    a `where` config when it parses the project, before any relation or build is known, so
    three `where` words are filled in here, when the test runs, each with a literal (the
    planner then reads the index range of those rows; against a subquery it guesses a third
    of the table and reads all of it):
    - `__last_build__`: the staging tests read the rows of the last build,
      `_staged_at = <the newest _staged_at>`;
    - `__days_built__`: the call models' tests read the days from the first their last
      build wrote (macros/incremental_window.sql); every row after a full build, or for a
      model with no recorded build. A model whose rows carry the time of the build that
      wrote them (`_built_at`: the models that rewrite older calls for their follow-ups,
      from up to `followup_days()` before their cutoff) is read by it instead, the rows of
      its last build (`_built_at = ` the time `_call_model_builds` recorded): the few older
      calls rewritten, not every call of those days (a day's tests of marts.calls read 272
      thousand rows instead of 1.07 million at 3.9 million calls: 4.0 s against 11.7).
    - `__calls_rebuilt__:<column>`: a table rebuilt whole whose rows reference marts.calls
      (call_id) and carry a time at or after their call's start (`<column>`: the call's
      start, an attributed record's time) checks its references in the rows from the first
      day the last build of marts.calls rewrote on (`calls_rebuilt_since()`): a call a
      build deleted started then, and the calls before it are as the references saw them.
      Every row after a full build of the calls. At 3.9 million calls, the references of
      revenue_attributions to calls took 0.7 s instead of 4.7 of a day's run, those of
      call_conversions and missed_call_shrink 0.5 and 0.6 instead of 2.3 and 2.9.
    Otherwise as dbt's own: the relation filtered by `where`.
#}
{% macro default__get_where_subquery(relation) -%}
    {%- set where = config.get('where') or '' -%}
    {%- if where == '__last_build__' -%}
        {%- set where = '_staged_at = '
            ~ value_now('select max(_staged_at) from ' ~ relation, 'timestamptz') -%}
    {%- elif where.startswith('__calls_rebuilt__:') -%}
        {%- set where = where.split(':')[1] ~ ' >= ' ~ calls_rebuilt_since() if execute else '' -%}
    {%- elif where == '__days_built__' -%}
        {%- set build = last_call_model_build(relation) if execute else none -%}
        {%- if build is none -%}
            {%- set where = '' -%}
        {%- elif '_built_at' in adapter.get_columns_in_relation(relation) | map(attribute='name') | list -%}
            {%- set where = "_built_at = '" ~ build.built_at ~ "'::timestamptz" -%}
        {%- else -%}
            {%- set where = "started_date_utc >= '" ~ build.built_from ~ "'::date" -%}
        {%- endif -%}
    {%- endif -%}
    {%- if where -%}
        {%- do return('(select * from ' ~ relation ~ ' where ' ~ where ~ ') as dbt_subquery') -%}
    {%- else -%}
        {%- do return(relation) -%}
    {%- endif -%}
{%- endmacro %}

{#- The relation a generic test reads: `model` as a test receives it, the relation itself or
    the subquery above over it. -#}
{% macro tested_relation(model) -%}
    {%- set prefix = '(select * from ' -%}
    {%- if model is string and model.startswith(prefix) -%}
        {%- do return(model[prefix | length:].split(' where ', 1)[0]) -%}
    {%- endif -%}
    {%- do return(model | string) -%}
{%- endmacro %}
