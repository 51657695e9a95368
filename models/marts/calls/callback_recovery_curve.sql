{#
    The chance a callback still recovers a missed opportunity, by the whole hours since the
    call (docs/metrics.md, "Callback work list"). For each h = 0 .. var recovery_window_hours - 1:
    among the missed opportunities whose whole recovery window ended before the newest call in
    the warehouse (so whether they were recovered is known) and that were still unrecovered h
    hours after the call (no connected call by then), the share recovered within the window.

    System-wide, not per location: a location has a few dozen missed opportunities a day, and
    split 24 ways by the hour the later hours would rest on a handful of calls each. Counted
    over callers with a number only (a call without one can never be called back or recovered).
    The shares are what the data shows, not smoothed or forced to fall.
#}
{%- set window_hours = var('recovery_window_hours') | int %}
{#- a table rebuilt on every run (every settled call counts), unlike the incremental call marts -#}
{{ config(
    materialized='table',
    indexes=[],
    post_hook=["{{ grant_to_restricted_role(with_schema=true) }}"],
) }}

with

calls as (

    select * from {{ ref('calls') }}

),

newest as (

    select max(started_at) as newest_call_at
    from calls

),

-- missed opportunities whose window closed at or before the newest call: their outcome is known
settled as (

    select
        calls.call_id,
        calls.started_at,
        calls.is_recovered,
        calls.recovered_at
    from calls
    cross join newest
    where
        calls.is_missed_opportunity
        and calls.caller_key is not null
        and calls.started_at + interval '{{ window_hours }} hours' <= newest.newest_call_at

),

hours as (

    select generate_series(0, {{ window_hours - 1 }}) as hours_elapsed

),

-- each settled call once per hour it was still waiting at: unrecovered h hours after it
waiting as (

    select
        hours.hours_elapsed,
        settled.call_id,
        settled.is_recovered
    from hours
    left join settled
        on
            settled.recovered_at is null
            or settled.recovered_at
            > settled.started_at + make_interval(hours => hours.hours_elapsed)

),

counted as (

    select
        hours_elapsed,
        count(call_id) as waiting_calls,
        count(call_id) filter (where is_recovered) as recovered_calls
    from waiting
    group by hours_elapsed

),

final as (

    select
        counted.hours_elapsed,
        counted.waiting_calls::integer as waiting_calls,
        counted.recovered_calls::integer as recovered_calls,
        round(
            counted.recovered_calls::numeric / nullif(counted.waiting_calls, 0), 6
        )::numeric(9, 6) as recovery_chance,
        {{ window_hours }} as recovery_window_hours,
        newest.newest_call_at
    from counted
    cross join newest

)

select * from final
