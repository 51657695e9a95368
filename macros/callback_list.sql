{#-
    restricted.callback_list(as_of, location): the callback work list as of a time, the one
    definition `callshrink callbacks` and the app's Call back page read (docs/metrics.md,
    "Callback work list"). Created by a post-hook of restricted.callback_work_items on every
    build (dropped first, so a changed list of columns replaces it), executable by the owner
    and var restricted_role only.

    One row per caller and location: the caller's missed opportunities that started in
    (as_of - recovery window, as_of] and had not left the list by as_of (no connected call
    with the caller at or before as_of: leaves_list_at null or later), callers without a
    number left out (nobody can call them). Time, wait and outcome are the latest attempt's,
    and the chance is the recovery curve at the whole hours since it; marketing source, cell
    and value are the caller's first listed attempt's (one contact, valued once at its first
    attempt, as the shrink values a chain). Highest expected value first.

    as_of null: the newest call in the warehouse. location null: every location. The body is
    plain text (not BEGIN ATOMIC), so dbt may replace the tables it reads underneath it.
-#}
{% macro callback_list_function() -%}
    {{ adapter.quote(generate_schema_name('restricted', none)) }}.callback_list
{%- endmacro %}

{% macro create_callback_list_function() -%}
    {%- set window_hours = var('recovery_window_hours') | int -%}
    {%- set function = callback_list_function() -%}
    {%- set role_name = dbt.string_literal(var('restricted_role')) -%}
    {%- set role = adapter.quote(var('restricted_role')) -%}
    drop function if exists {{ function }}(timestamptz, text);
    create function {{ function }}(as_of timestamptz default null, location text default null)
    returns table (
        rank integer,
        caller_phone_e164 text,
        location_id text,
        latest_call_at_local timestamp,
        latest_call_at timestamptz,
        wait_seconds integer,
        attempts integer,
        outcome text,
        marketing_source text,
        hours_since_call numeric(8, 2),
        recovery_chance numeric(9, 6),
        value_usd numeric(18, 2),
        cell_id text,
        expected_value_usd numeric(18, 2),
        call_ids text,
        listed_as_of timestamptz
    )
    language sql
    stable
    as $callback_list$
        with

        curve as (

            select * from {{ ref('callback_recovery_curve') }}

        ),

        chosen as (

            select coalesce(
                callback_list.as_of,
                (select curve.newest_call_at from curve limit 1)
            ) as as_of

        ),

        -- the cells' figures of this build: an item is valued when listed, not when written
        cells as (

            select * from {{ ref('conversion_cells') }}

        ),

        listed as (

            select
                items.call_id,
                items.caller_phone_e164,
                items.location_id,
                items.started_at,
                items.started_at_local,
                items.wait_seconds,
                items.outcome,
                items.marketing_source,
                cells.cell_id,
                cells.value_per_eligible_call_usd as value_usd,
                chosen.as_of
            from {{ this }} as items
            cross join chosen
            left join cells
                on items.cell_id = cells.cell_id
            where
                items.started_at > chosen.as_of - interval '{{ window_hours }} hours'
                and items.started_at <= chosen.as_of
                and (items.leaves_list_at is null or items.leaves_list_at > chosen.as_of)
                and items.caller_phone_e164 is not null
                and (callback_list.location is null or items.location_id = callback_list.location)

        ),

        per_caller as (

            select
                listed.*,
                row_number() over (
                    partition by listed.caller_phone_e164, listed.location_id
                    order by listed.started_at desc, listed.call_id desc
                ) as recency,
                count(*) over (
                    partition by listed.caller_phone_e164, listed.location_id
                ) as attempt_count,
                first_value(listed.value_usd) over attempts_in_order as first_value_usd,
                first_value(listed.cell_id) over attempts_in_order as first_cell_id,
                first_value(listed.marketing_source) over attempts_in_order as first_source,
                string_agg(listed.call_id, ' ') over attempts_in_order as attempt_call_ids
            from listed
            window attempts_in_order as (
                partition by listed.caller_phone_e164, listed.location_id
                order by listed.started_at, listed.call_id
                rows between unbounded preceding and unbounded following
            )

        ),

        latest as (

            select
                per_caller.*,
                extract(epoch from per_caller.as_of - per_caller.started_at) / 3600
                    as hours_elapsed
            from per_caller
            where per_caller.recency = 1

        ),

        valued as (

            select
                latest.*,
                curve.recovery_chance as chance,
                round(latest.first_value_usd * curve.recovery_chance, 2) as expected_usd
            from latest
            left join curve
                on curve.hours_elapsed = floor(latest.hours_elapsed)::integer

        )

        select
            (row_number() over ranking)::integer,
            valued.caller_phone_e164,
            valued.location_id,
            valued.started_at_local,
            valued.started_at,
            valued.wait_seconds,
            valued.attempt_count::integer,
            valued.outcome,
            valued.first_source,
            round(valued.hours_elapsed, 2)::numeric(8, 2),
            valued.chance,
            valued.first_value_usd,
            valued.first_cell_id,
            valued.expected_usd::numeric(18, 2),
            valued.attempt_call_ids,
            valued.as_of
        from valued
        window ranking as (
            order by
                valued.expected_usd desc nulls last,
                valued.started_at desc,
                valued.caller_phone_e164,
                valued.location_id
        )
        order by 1
    $callback_list$;
    revoke all on function {{ function }}(timestamptz, text) from public;
    do $do$
    begin
        if exists (select from pg_roles where rolname = {{ role_name }}) then
            grant execute on function {{ function }}(timestamptz, text) to {{ role }};
        end if;
    end
    $do$
{%- endmacro %}
