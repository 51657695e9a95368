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

-- read twice (the newest call, the settled ones): not materialized, so neither read copies
-- every column of every call
calls as not materialized (

    select * from {{ ref('calls') }}

),

newest as (

    select max(started_at) as newest_call_at
    from calls

),

-- missed opportunities whose window closed at or before the newest call: their outcome is
-- known. hours_waiting: how many of the hours h = 0 .. window - 1 the call was still
-- unrecovered at (no connected call by h hours after it): all of them without one, else
-- the h with started_at + h hours < recovered_at, which is the whole hours to it rounded up
settled as (

    select
        calls.is_recovered,
        case
            when calls.recovered_at is null then {{ window_hours }}
            else
                least(
                    {{ window_hours }},
                    ceil(extract(epoch from calls.recovered_at - calls.started_at) / 3600)
                )::integer
        end as hours_waiting
    from calls
    cross join newest
    where
        calls.is_missed_opportunity
        and calls.caller_key is not null
        and calls.started_at + interval '{{ window_hours }} hours' <= newest.newest_call_at

),

-- how many settled calls waited how many hours: at most window + 1 rows
waited as (

    select
        hours_waiting,
        count(*) as settled_calls,
        count(*) filter (where is_recovered) as recovered_calls
    from settled
    group by hours_waiting

),

hours as (

    select generate_series(0, {{ window_hours - 1 }}) as hours_elapsed

),

-- waiting at h: the calls that waited more than h hours
counted as (

    select
        hours.hours_elapsed,
        coalesce(sum(waited.settled_calls), 0) as waiting_calls,
        coalesce(sum(waited.recovered_calls), 0) as recovered_calls
    from hours
    left join waited
        on hours.hours_elapsed < waited.hours_waiting
    group by hours.hours_elapsed

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
