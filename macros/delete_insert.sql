{#
    dbt's delete+insert for the incremental models, in five forms: the follow-up models
    (config `rewrites_older_calls`) replace every call from their cutoff on and some older
    calls one by one; the other call models (unique_key started_date_utc) every row from
    their cutoff on; the staging models of the call inputs (config `call_input_time`)
    replace the records of their new rows and record the earliest call time among the rows
    they deleted and those they wrote (macros/incremental_window.sql); revenue_attributions
    (config `logs_attribution_changes`) replaces the records of its new rows and logs the
    calls of those it deleted (macros/revenue_changes.sql); the others replace the keys of
    their new rows, written as literals when they are few.
#}
{% macro postgres__get_delete_insert_merge_sql(
    target, source, unique_key, dest_columns, incremental_predicates
) -%}
    {%- if config.get('rewrites_older_calls') -%}
        {{ delete_rewritten_calls(target, source) }};
        {{ insert_all(target, source, dest_columns) }}
    {%- elif unique_key == 'started_date_utc' -%}
        {{ delete_from_call_cutoff(target) }};
        {{ insert_all(target, source, dest_columns) }}
    {%- elif config.get('call_input_time') -%}
        {{ removed_call_inputs(delete_call_inputs(target, source, unique_key)) }};
        {{ insert_all(target, source, dest_columns) }};
        {{ record_call_input_change(rows=source) }}
    {%- elif config.get('logs_attribution_changes') -%}
        {{ log_attribution_changes(delete_keys(target, source, unique_key)) }};
        {{ insert_all(target, source, dest_columns) }}
    {%- else -%}
        {{ delete_insert_by_literal_keys(
            target, source, unique_key, dest_columns, incremental_predicates
        ) }}
    {%- endif -%}
{%- endmacro %}

{#
    The follow-up models (config `rewrites_older_calls`, macros/incremental_window.sql) write
    every call from their cutoff on and some older calls: the calls from the cutoff on are
    replaced whole (a call re-stitched away is gone), the older calls one by one. An older
    call is rewritten for its follow-ups only and keeps its start (a call whose inputs
    changed starts after the cutoff, before and after the change). A model that indexes
    call_id (calls, call_conversions) deletes them by that index, one probe each: on
    marts.calls at 3.9 million calls, a day's 77 thousand in 0.7 s against 1.6 to 3.1 s as
    below. The others find them from the earliest start among the new rows on, by the index
    on started_at (every row of the follow-up days read and tested), not by testing every
    row of the history (5.9 s for marts.calls). An index kept for this delete alone does not
    pay: on int_calls_followed_up its upkeep added 1.2 s to inserting a day's rows, about
    what it saved the delete.
#}
{% macro delete_rewritten_calls(target, source) -%}
    {%- set cutoff = value_now(call_cutoff(), 'timestamptz') -%}
    {%- set older_calls =
        'select call_id from ' ~ source ~ ' where started_at < ' ~ cutoff -%}
    {%- if 'call_id' in indexed_first_columns() -%}
    delete from {{ target }} where started_at >= {{ cutoff }};
    delete from {{ target }} where call_id = any(array({{ older_calls }}))
    {%- else -%}
    {%- set earliest = value_now(
        'select least(min(started_at), ' ~ cutoff ~ ') from ' ~ source, 'timestamptz'
    ) -%}
    delete from {{ target }}
    where
        started_at >= {{ earliest }}
        and (started_at >= {{ cutoff }} or call_id in ({{ older_calls }}))
    {%- endif -%}
{%- endmacro %}

{#
    The other call models (unique_key started_date_utc) rewrite every row from their cutoff
    on: a call re-stitched or re-grouped away is gone. Rows are placed in time by started_at,
    or by the column of config `call_cutoff_column` (call_legs: its call's start); a model
    whose rows are days (config `call_window_grain` 'day', its cutoff a UTC midnight)
    replaces whole days.
#}
{% macro delete_from_call_cutoff(target) -%}
    {%- set cutoff = value_now(call_cutoff(), 'timestamptz') -%}
    delete from {{ target }}
    {%- if config.get('call_window_grain') == 'day' %}
    where started_date_utc >= ({{ cutoff }} at time zone 'UTC')::date
    {%- else %}
    where {{ config.get('call_cutoff_column', 'started_at') }} >= {{ cutoff }}
    {%- endif %}
{%- endmacro %}

{#
    The staged records of the new rows' keys. When the key fixes the record's time (config
    `time_in_unique_key`: a queue_log event's key holds its epoch), the delete reads the
    table's index on (time, key) from the new rows' earliest time on: a day's build touches
    the day's part of the index, not the whole history, and the index's new entries go at
    its end instead of at random places in a key that is a hash.
#}
{% macro delete_call_inputs(target, source, unique_key) -%}
    {%- if config.get('time_in_unique_key') -%}
        {%- set time = config.get('call_input_time') -%}
        delete from {{ target }}
        where
            {{ time }} >= {{ value_now('select min(' ~ time ~ ') from ' ~ source, 'timestamptz') }}
            and ({{ time }}, {{ unique_key }}) in (select {{ time }}, {{ unique_key }} from {{ source }})
    {%- else -%}
        {{ delete_keys(target, source, unique_key) }}
    {%- endif -%}
{%- endmacro %}

{#
    Delete the rows of `target` whose `unique_key` (a column, or a list of them) one of the
    new rows has. When the model's config indexes a column of the key (first column of an
    index), by that index: `= any(array(...))` probes it once per new key. Written as
    `in (select ...)`, the planner, which has no statistics on the new rows, hash-joins them
    to a sequential scan of the whole table: 10.8 s for a day's 277 thousand CDR legs against
    7.4 million staged, where the probes take 0.7 s. Without such an index `= any(array(...))`
    would compare every row with every new key, so the hash join stays.
#}
{% macro delete_keys(target, source, unique_key) -%}
    {%- set key = [unique_key] if unique_key is string else unique_key -%}
    {%- set indexed = indexed_first_columns() | select('in', key) | list -%}
    {%- set columns = key | join(', ') -%}
    delete from {{ target }}
    where
    {%- if indexed %}
        {{ indexed[0] }} = any(array(select {{ indexed[0] }} from {{ source }}))
        {%- if key | length > 1 %}
        and ({{ columns }}) in (select {{ columns }} from {{ source }})
        {%- endif %}
    {%- else %}
        ({{ columns }}) in (select {{ columns }} from {{ source }})
    {%- endif %}
{%- endmacro %}

{% macro insert_all(target, source, dest_columns) -%}
    {%- set columns = get_quoted_csv(dest_columns | map(attribute='name')) -%}
    insert into {{ target }} ({{ columns }})
    select {{ columns }} from {{ source }}
{%- endmacro %}

{#
    The keys to delete are written into the statement when they are few. dbt deletes
    `where key in (select distinct key from <the new rows>)`, and the planner, with no
    statistics on the new rows, hash-joins them to every row of the table: the call models (unique key `started_date_utc`, a window of
    days) then read their whole history to replace a few days. Given the days as literals,
    Postgres deletes them by the index on the key. With more than `max_literals` keys (the
    staging models, keyed by record), or a key of several columns (int_revenue_records), the
    new rows' keys probe the index (`delete_keys`); dbt's own statement is left for a model
    with `incremental_predicates`.
#}
{% macro delete_insert_by_literal_keys(
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
        {{ insert_all(target, source, dest_columns) }}
    {%- elif keys is defined or not incremental_predicates -%}
        {{ delete_keys(target, source, unique_key) }};
        {{ insert_all(target, source, dest_columns) }}
    {%- else -%}
        {{ default__get_delete_insert_merge_sql(
            target, source, unique_key, dest_columns, incremental_predicates
        ) }}
    {%- endif -%}
{%- endmacro %}

{#- The first column of each index in the model's `indexes` config: the columns a delete can
    read by an index. -#}
{% macro indexed_first_columns() -%}
    {{- return((config.get('indexes') or [])
        | selectattr('columns') | map(attribute='columns') | map('first') | list) -}}
{%- endmacro %}
