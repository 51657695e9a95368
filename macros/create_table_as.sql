{#
    How dbt makes a model's table (`create_table_as`), with two changes to dbt-postgres' own:

    - Write order. A full build of an incremental model whose config sets `write_order` (the
      call models, dbt_project.yml) writes its rows in that order. Those models are
      incremental by day: a day's build deletes and rewrites the last days, and their tests
      and the models after them read those days by index. In the order a full build's joins
      and windows leave them (by caller, by hash), a day's rows lie on nearly every page of
      the table, so each of those reads touched the whole table, a cost that grew with the
      history: on 3.9 million calls, the 8 days a build rewrites were 27 % of the rows of
      marts.calls and on 99 % of its pages. Written by day, they are on the table's last
      pages, and a day's build appends after them. A temporary table (an incremental build's
      new rows) and a table rebuilt whole are left in the order they come.

    - Contracts in one parallel statement. For a model with an enforced contract, dbt-postgres
      creates the empty table with its columns and constraints, then `insert into ... select`.
      Postgres plans no INSERT in parallel, so the select ran on one core. Here the contract's
      columns are selected, each cast to its declared type, by `create table as`, which
      Postgres does run in parallel, and the constraints are added after: not null, primary
      key and unique, each checked on the rows as the insert would have (a row that breaks one
      fails the build, and the model's previous table stays). A model with another kind of
      constraint (check, foreign key, or one on the model) takes dbt-postgres' own path.
      dbt's check that the select's columns are the contract's (names, types) runs first in
      both. The table missed_call_shrink was (946 thousand rows at 3.9 million calls, built
      alone): 2.8 to 3.3 s instead of 4.6 to 6.5. Within a day's build on two cores, busy
      with the other models, the gain was within the noise.
#}
{% macro postgres__create_table_as(temporary, relation, sql) -%}
    {%- set order = config.get('write_order') -%}
    {%- if order and not temporary and config.get('materialized') == 'incremental' -%}
        {%- set sql -%}
select * from (
{{ sql }}
) as written
order by {{ order | join(', ') }}
        {%- endset -%}
    {%- endif -%}
    {%- set contract = config.get('contract') -%}
    {%- if contract.enforced and not temporary and contract_constraints_after() is not none -%}
        {{ contract_table_as(relation, sql) }}
    {%- else -%}
        {{ dbt.postgres__create_table_as(temporary, relation, sql) }}
    {%- endif -%}
{%- endmacro %}

{#- The contract's constraints as clauses of `alter table` (a list, maybe empty), or none when
    one of them is of a kind added here by no clause. -#}
{% macro contract_constraints_after() -%}
    {%- set clauses = [] -%}
    {%- if model['constraints'] -%}
        {{- return(none) -}}
    {%- endif -%}
    {%- for column in model['columns'].values() -%}
        {%- set name = contract_column_name(column) -%}
        {%- for constraint in column.get('constraints') or [] -%}
            {%- set named = 'constraint ' ~ adapter.quote(constraint['name']) ~ ' ' if constraint.get('name') else '' -%}
            {%- if constraint['type'] == 'not_null' -%}
                {%- do clauses.append('alter column ' ~ name ~ ' set not null') -%}
            {%- elif constraint['type'] == 'primary_key' -%}
                {%- do clauses.append('add ' ~ named ~ 'primary key (' ~ name ~ ')') -%}
            {%- elif constraint['type'] == 'unique' -%}
                {%- do clauses.append('add ' ~ named ~ 'unique (' ~ name ~ ')') -%}
            {%- else -%}
                {{- return(none) -}}
            {%- endif -%}
        {%- endfor -%}
    {%- endfor -%}
    {{- return(clauses) -}}
{%- endmacro %}

{% macro contract_column_name(column) -%}
    {{- adapter.quote(column['name']) if column.get('quote') else column['name'] -}}
{%- endmacro %}

{% macro contract_table_as(relation, sql) -%}
    {%- set sql_header = config.get('sql_header') -%}
    {%- set clauses = contract_constraints_after() -%}
    {{ sql_header if sql_header is not none }}
    {{ get_assert_columns_equivalent(sql) }}
    create {% if config.get('unlogged') %}unlogged {% endif %}table {{ relation }} as
    select
        {%- for column in model['columns'].values() %}
        {{ contract_column_name(column) }}::{{ column['data_type'] }} as {{ contract_column_name(column) }}
        {{- ',' if not loop.last }}
        {%- endfor %}
    from (
        {{ sql }}
    ) as model_subq
    {%- if clauses %};
    alter table {{ relation }}
        {{ clauses | join(',\n        ') }}
    {%- endif %}
{%- endmacro %}
