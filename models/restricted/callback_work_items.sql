{#
    The callback work list's items: one row per missed opportunity (voicemail, abandoned or
    missed in open hours) with the caller's number in clear, what the call was worth (its
    conversion cell's value per eligible call, the value the shrink gives a call) and when it
    leaves the list: leaves_list_at, the start of the first connected call with the same
    caller after it (an answered inbound call from them or a connected callback to them, any
    location, spam never), the calls that recover a missed opportunity in
    int_calls_followed_up, but not bounded by the recovery window. restricted.callback_list()
    reads it as of a time (docs/metrics.md, "Callback work list").

    A table rebuilt on every run, not incremental by day like the other restricted model: a
    connected call today takes a call of any earlier day off the list.
#}
{{ config(
    materialized='table',
    indexes=[{'columns': ['started_at']}],
    post_hook=["{{ create_callback_list_function() }}"],
) }}
-- depends_on: {{ ref('callback_recovery_curve') }}

with

calls as (

    select * from {{ ref('calls') }}

),

numbers as (

    select * from {{ ref('caller_numbers') }}

),

cells as (

    select * from {{ ref('conversion_cells') }}

),

-- the caller's missed opportunities and connected calls, in one stream per caller
caller_events as (

    select
        call_id,
        caller_key,
        started_at,
        is_missed_opportunity,
        is_connected and not is_spam as is_connecting
    from calls
    where
        caller_key is not null
        and (is_missed_opportunity or (is_connected and not is_spam))

),

-- the first connected call strictly after each event: the minimum over every later event of
-- the caller, read newest first (so the frame grows and Postgres never restarts it); at an
-- equal start a connected call sorts after the missed call, outside its frame, since only a
-- later call takes a call off the list
next_connected as (

    select
        call_id,
        min(case when is_connecting then started_at end) over (
            partition by caller_key
            order by started_at desc, is_connecting asc, call_id desc
            rows between unbounded preceding and 1 preceding
        ) as leaves_list_at
    from caller_events

),

final as (

    select
        calls.call_id,
        numbers.caller_phone_e164,
        calls.caller_key,
        calls.location_id,
        calls.started_at,
        calls.started_at_local,
        calls.wait_seconds,
        calls.outcome,
        calls.marketing_source,
        calls.caller_type,
        cells.cell_id,
        cells.value_per_eligible_call_usd as value_usd,
        next_connected.leaves_list_at
    from calls
    left join next_connected
        on calls.call_id = next_connected.call_id
    left join numbers
        on calls.call_id = numbers.call_id
    left join cells
        on
            calls.location_id is not distinct from cells.location_id
            and calls.marketing_source = cells.marketing_source
            and calls.caller_type is not distinct from cells.caller_type
    where calls.is_missed_opportunity

)

select * from final
