{#
    The call models build incrementally. Each run recomputes every call that started on or
    after a cutoff worked out from the data: the earliest call input changed since the
    model's last build (`earliest_changed_call_input`), less `call_reach()` (how long before
    a leg, a queue event or a CallRail record the call it belongs to can start), less
    `extra_days` for models whose values look ahead in time (recovery, repeat contacts). So a
    day's run recomputes the new data's hours and the few before them, however long the
    history, and a record that arrives weeks late still reaches its call. The models replace
    every row from the cutoff on (macros/delete_insert.sql), so a recomputed call never
    keeps a stale row. A model whose rows are hours or days (config `call_window_grain`:
    'hour' or 'day', in UTC) takes the cutoff back to the start of its hour or day, and
    replaces whole hours or days; it passes its grain to `in_call_window` too (`grain`),
    because a unit test renders the model with the test's config, not the model's. On a
    first build or a full refresh there is no cutoff; with no changed input the cutoff is
    'infinity' and the run writes nothing.

    `in_call_window(column, extra_days, margin, grain)` is the filter: `column >= cutoff - margin`
    (margin: a SQL interval, for inputs that must reach a little further back than the rows
    a model writes), or `true` on a full build. The cutoff is written into the SQL as a
    literal (`value_now`, below), so each input is read by its index range on the window.

    Time back is counted in seconds, never as `interval 'N days'`: timestamptz arithmetic in
    days follows the session's TimeZone, and across a clock change a day there is 23 or 25
    hours, which would move a day's cutoff off UTC midnight and let an incremental run
    replace a whole UTC day with the hours of it that it recomputed.
#}
{% macro call_cutoff(extra_days=0, grain=none) -%}
    {%- set grain = grain or config.get('call_window_grain') -%}
    (
        select
            {% if grain %}date_trunc('{{ grain }}', {% endif -%}
            coalesce({{ earliest_changed_call_input() }}, 'infinity'::timestamptz)
            - {{ call_reach() }}
            - interval '{{ (extra_days | int) * 86400 }} seconds'
            {%- if grain %}, 'UTC'){% endif %}
    )
{%- endmacro %}

{#- How long before one of its inputs a call can start: `incremental_lookback_hours` (a
    call's legs and queue events come within that many hours of its start), and 6 stitch
    tolerances (the reach of stitching a CallRail record, int_calls_stitched). -#}
{% macro call_reach() -%}
    interval '{{ var("incremental_lookback_hours") * 3600 + 6 * var("stitch_tolerance_seconds") }} seconds'
{%- endmacro %}

{#
    The earliest call time among the call inputs (staged CDR legs, queue_log events, CallRail
    records) written or removed since this model's last build: every staging build of them
    records its earliest in `_call_input_changes` (`record_call_input_change`). Null when
    nothing changed. A macro of its own, so that a unit test can give its value.
#}
{% macro earliest_changed_call_input() -%}
    (
        select min(changed.earliest) from {{ call_input_changes_relation() }} as changed
        where changed.changed_at > (
            select coalesce(max(built.built_at), '-infinity')
            from {{ call_model_builds_relation() }} as built
            where built.model = '{{ this }}'
        )
    )
{%- endmacro %}

{% macro in_call_window(column, extra_days=0, margin=none, grain=none) -%}
    {%- if is_incremental() -%}
        {{ column }} >= {{ value_now(call_cutoff(extra_days, grain), 'timestamptz') }}
        {%- if margin %} - {{ margin }}{% endif %}
    {%- else -%}
        true
    {%- endif -%}
{%- endmacro %}

{#
    For the models downstream of int_calls_followed_up (configured `rewrites_older_calls`):
    the calls an incremental run rewrites are those from its cutoff on, and the older
    calls whose follow-ups int_calls_followed_up has rewritten since this model's last build
    (their `_built_at` is later than the time `_call_model_builds` recorded for it). A model
    that missed a run (a failed test upstream) so catches up on every call rewritten since.

    `stamped=true` for a model that reads marts.calls, whose rows carry the time of the
    build that wrote them: calls rewrote those same calls in its own builds since this
    model's last one, so the older calls are those of its rows with a later `_built_at`.
    Both arms are then ranges of calls' indexes (on started_at and on _built_at), read
    together, instead of a scan of every call tested against the rewritten ones: 0.9 s
    against 2.8 for shrink_candidates' day at 3.9 million calls.
#}
{% macro in_rewritten_calls(stamped=false) -%}
    {%- if is_incremental() -%}
        {%- set last_build = last_build_time() -%}
        (
            {{ in_call_window('started_at') }}
            {%- if stamped %}
            or _built_at > {{ last_build }}
            {%- else %}
            or call_id in (
                select rewritten.call_id from {{ ref('int_calls_followed_up') }} as rewritten
                where rewritten._built_at > {{ last_build }}
            )
            {%- endif %}
        )
    {%- else -%}
        true
    {%- endif -%}
{%- endmacro %}

{#- When this model's last build began, as `_call_model_builds` recorded it (-infinity when
    none is), a literal: a macro of its own, so that a unit test can give its value. -#}
{% macro last_build_time() -%}
    {{ recorded_build_time('built_at') }}
{%- endmacro %}

{#- When the transaction of this model's last build began (its invocation's start when an
    older version recorded none; -infinity when no build is), a literal. The rows its
    parents wrote in that invocation were committed before it, so the rows they wrote since
    are the later ones: int_revenue_records reads the staged rows by it, where the
    invocation's start would take every row the invocation staged once more, all of them
    after a full build. A macro of its own, so that a unit test can give its value. -#}
{% macro last_build_began() -%}
    {{ recorded_build_time('coalesce(began_at, built_at)') }}
{%- endmacro %}

{#- `column` (an expression) of this model's row of `_call_model_builds`, as a literal;
    -infinity when no build is recorded. -#}
{% macro recorded_build_time(column) -%}
    {{ value_now(
        "select coalesce(max(" ~ column ~ "), '-infinity') from "
        ~ call_model_builds_relation() ~ " where model = '" ~ this ~ "'",
        'timestamptz'
    ) }}
{%- endmacro %}

{#- Days a call's follow-up values look ahead: 7 days of repeat contacts, or the recovery
    window when it is longer. -#}
{% macro followup_days() -%}
    {{- [7, ((var('recovery_window_hours') + 23) // 24)] | max -}}
{%- endmacro %}

{#
    What the tests of a call model read: the days its last build wrote. Each build records,
    in a post-hook, the first UTC day it may write (its cutoff's, or that of its widest
    window, `followup_days()` back, for a model that writes older calls; '-infinity' on a
    full build: every day) and `build_time()` in `_call_model_builds` of the intermediate
    schema (made by `create_call_model_builds`, an on-run-start hook). A test whose `where`
    is `__days_built__` (dbt_project.yml) then reads the days from that one on (macros/
    get_where_subquery.sql), so a day's tests cost a day's rows and a full build, the first
    in every new database included, tests every row. The next build's cutoff reads the
    changes of the call inputs recorded by later invocations; a build that fails records
    nothing (its transaction is rolled back), so the next one catches up on its changes too.
#}
{#- When the dbt invocation began, the time of every build and change recorded here. Not the
    time of each model's own transaction: a model builds after the staging models upstream
    of it, but a staging model that is not upstream of it (CallRail, for the PBX legs) may
    record its changes later in the same invocation, and those must not look new to the
    model next time. Every node of an invocation shares this time, so a model reads the
    changes of the invocations after its last build, and of no other. -#}
{% macro build_time() -%}
    '{{ run_started_at.isoformat() }}'::timestamptz
{%- endmacro %}

{% macro call_model_builds_relation() -%}
    {{ adapter.quote(generate_schema_name('intermediate', none)) }}._call_model_builds
{%- endmacro %}

{% macro call_input_changes_relation() -%}
    {{ adapter.quote(generate_schema_name('intermediate', none)) }}._call_input_changes
{%- endmacro %}

{#- Made before every run; the changes every call model has read since are dropped, so the
    change tables hold a run or two of rows. -#}
{% macro create_call_model_builds() -%}
    create schema if not exists {{ adapter.quote(generate_schema_name('intermediate', none)) }};
    create table if not exists {{ call_model_builds_relation() }} (
        model text primary key,
        built_from date not null,
        built_at timestamptz not null
    );
    {#- when the build's own transaction began (`last_build_began`); added to a warehouse made
        before it -#}
    alter table {{ call_model_builds_relation() }} add column if not exists began_at timestamptz;
    create table if not exists {{ call_input_changes_relation() }} (
        source text not null,
        earliest timestamptz not null,
        changed_at timestamptz not null
    );
    {# the calls whose attributions changed (macros/revenue_changes.sql) #}
    create table if not exists {{ attribution_changes_relation() }} (
        call_id text not null,
        changed_at timestamptz not null
    );
    {%- for changes in [call_input_changes_relation(), attribution_changes_relation()] %}
    delete from {{ changes }}
    where changed_at < (select min(built_at) from {{ call_model_builds_relation() }})
    {{- ';' if not loop.last }}
    {%- endfor %}
{%- endmacro %}

{#- One row per model, its last build's: the table does not grow run by run. The models that
    write older calls than their cutoff (the follow-up models, and the callback list, which
    follows calls of any day) record the day `followup_days()` before it. A model
    incremental by record (config `incremental_by_record`: int_revenue_records and
    revenue_attributions, whose rows carry `_built_at`) writes records of any day and
    records the build's UTC day: its tests read the rows of its last build by their
    `_built_at`. Each build also records when its own transaction began (`began_at`, a
    post-hook runs in the model's transaction): later than the builds of its parents in the
    same invocation, which `last_build_began()` gives. -#}
{% macro record_call_model_build() -%}
    {%- set writes_older = config.get('rewrites_older_calls')
        or config.get('unique_key') != 'started_date_utc' -%}
    insert into {{ call_model_builds_relation() }} (model, built_from, built_at, began_at)
    {%- if is_incremental() and config.get('incremental_by_record') %}
    values (
        '{{ this }}', ({{ build_time() }} at time zone 'UTC')::date, {{ build_time() }}, now()
    )
    {%- elif is_incremental() %}
    select
        '{{ this }}',
        ({{ call_cutoff(followup_days() if writes_older else 0) }} at time zone 'UTC')::date,
        {{ build_time() }},
        now()
    {%- else %}
    values ('{{ this }}', '-infinity'::date, {{ build_time() }}, now())
    {%- endif %}
    on conflict (model) do update
    set
        built_from = excluded.built_from,
        built_at = excluded.built_at,
        began_at = excluded.began_at
{%- endmacro %}

{#
    The staging models of the call inputs (config `call_input_time`: the column of the call
    time) record the earliest call time among the rows their build wrote, and, where a build
    deletes rows (a record re-delivered, a row moved into the quarantine), the earliest among
    those it deleted (`removed_call_inputs`), so that a record corrected to another time also
    recomputes the day it left. An incremental build records its new rows from the temporary
    table that holds them (`rows`, macros/delete_insert.sql); the post-hook (no `rows`)
    records a full build's, every row of the table. Read back by `_staged_at` after an
    incremental build, a day's 277 thousand CDR legs took 2.3 s among 7.4 million staged
    (their heap pages, scattered where vacuum freed space); from the temporary table, a few
    milliseconds.
#}
{% macro record_call_input_change(rows=none) -%}
    {%- if rows or not is_incremental() -%}
    {%- set time = config.get('call_input_time') -%}
    insert into {{ call_input_changes_relation() }} (source, earliest, changed_at)
    select '{{ this.identifier }}', min({{ time }}), {{ build_time() }}
    from {{ rows or this }}
    having min({{ time }}) is not null
    {%- endif -%}
{%- endmacro %}

{#- `delete_statement` (a delete from the staged table) as one that records the earliest call
    time of the rows it deletes. -#}
{% macro removed_call_inputs(delete_statement) -%}
    with removed as (
        {{ delete_statement }}
        returning {{ config.get('call_input_time') }} as call_time
    )
    insert into {{ call_input_changes_relation() }} (source, earliest, changed_at)
    select '{{ this.identifier }}', min(call_time), {{ build_time() }} from removed
    having min(call_time) is not null
{%- endmacro %}

{#- The last build of `relation` recorded: its first day written (`built_from`) and the time
    of its invocation (`built_at`), as text; none when it wrote every day (a full build) or no
    build is recorded (a table rebuilt whole). -#}
{% macro last_call_model_build(relation) -%}
    {%- set found = run_query(
        "select built_from::text, built_at::text from " ~ call_model_builds_relation()
        ~ " where model = '" ~ relation ~ "' and built_from <> '-infinity'"
    ) -%}
    {%- do return({'built_from': found.rows[0][0], 'built_at': found.rows[0][1]}
        if found.rows | length else none) -%}
{%- endmacro %}

{#- The start (UTC midnight) of the day of the cutoff of the last build of marts.calls (from
    the cutoff on it rewrote every call; before it, calls only for follow-ups, which keep
    their start and their call_id), as a literal: -infinity after its full build, or when
    none is recorded. The build recorded the day of its follow-up cutoff, `followup_days()`
    earlier. A call of marts.calls that a build deleted (re-stitched or re-grouped away)
    started after this. -#}
{% macro calls_rebuilt_since() -%}
    {{ value_now(
        "(select coalesce(max(built_from), '-infinity'::date)::timestamp at time zone 'UTC'"
        ~ " + interval '" ~ (followup_days() | int) * 24 ~ " hours'"
        ~ " from " ~ call_model_builds_relation() ~ " where model = '" ~ calls_relation() ~ "')",
        'timestamptz'
    ) }}
{%- endmacro %}

{#- marts.calls, named as its builds are recorded (its `this`), found in the graph rather than
    by ref: a test that reads by `__calls_rebuilt__` a view built on calls (missed_call_shrink)
    reads only the record of calls' builds, and need not declare calls as its parent. -#}
{% macro calls_relation() -%}
    {%- for node in graph.nodes.values()
        if node.resource_type == 'model' and node.package_name == project_name
        and node.name == 'calls' -%}
        {{- return(api.Relation.create(
            database=node.database, schema=node.schema, identifier=node.alias)) -}}
    {%- endfor -%}
    {{- exceptions.raise_compiler_error('no model calls in the graph') -}}
{%- endmacro %}

{#- `calls_rebuilt_since()` for a model that follows the calls by call rather than by day
    (restricted.callback_work_items: nothing it reads of a call changes with its
    follow-ups); -infinity on a full build of that model: every call. -#}
{% macro calls_rebuilt_from() -%}
    {%- if is_incremental() -%}
    {{ calls_rebuilt_since() }}
    {%- else -%}
    '-infinity'::timestamptz
    {%- endif -%}
{%- endmacro %}

{#-
    `expression` (a scalar subquery) as a literal of `type`, evaluated when the model is
    compiled, right before it runs. A filter `started_at >= (select ...)` leaves the planner
    guessing a third of the table, so it scans all of it; against a literal it reads its
    statistics and the index range of the days a run writes, and a day's run reads a day's
    rows however long the history. In a unit test the relations are CTEs of the test's
    rows, which a query cannot read before the test runs: the expression stays SQL there.
-#}
{% macro value_now(expression, type) -%}
    {%- if execute and model.resource_type != 'unit_test' -%}
        {%- set value = run_query('select (' ~ expression ~ ')::text').columns[0].values()[0] -%}
        {%- if value is none -%}
            null::{{ type }}
        {%- else -%}
            '{{ value }}'::{{ type }}
        {%- endif -%}
    {%- else -%}
        {{ expression }}
    {%- endif -%}
{%- endmacro %}
