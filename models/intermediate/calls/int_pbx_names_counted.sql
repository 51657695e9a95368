{#
    What each PBX writes, counted by UTC day, for data health (marts.pbx_names): the channel
    names (without their per-call suffix, a phone number in them masked) with the role the PBX's patterns give them, the
    dialplan contexts, and the dialled numbers and queues of its inbound calls. A name a PBX
    starts writing after a reconfiguration shows up here on its first day.
    Incremental like the call models, by whole UTC days (call_window_grain): the days of the
    calls recomputed are counted again.
#}
{%- set grain = 'day' %}
{#- The planner takes every name of every day for a group of its own (2.9 million groups
    estimated, 37 thousand on the year slice) and sorts the 25 million names to count them:
    hashed, the count fits in memory. A full build's select took 41 s sorted, 14 s hashed
    with the masking after the count (18.6 s hashed with it before). -#}
{{ config(call_window_grain=grain, pre_hook=["set local enable_sort = off"]) }}
with

legs as (

    -- the columns counted only: read three times, this CTE is materialised
    select
        pbx_id,
        started_at,
        channel_endpoint,
        channel_role,
        destination_endpoint,
        destination_role,
        dialplan_context
    from {{ ref('int_pbx_legs_typed') }}
    where {{ in_call_window('started_at', grain=grain) }}

),

pbx_calls as (

    select * from {{ ref('int_pbx_calls_grouped') }}
    where
        direction = 'inbound'
        and parent_pbx_call_id is null
        and {{ in_call_window('started_at', grain=grain) }}

),

names as (

    select
        pbx_id,
        started_at,
        'channel' as kind,
        channel_endpoint as name_written,
        channel_role
    from legs
    union all
    select
        pbx_id,
        started_at,
        'channel' as kind,
        destination_endpoint as name_written,
        destination_role as channel_role
    from legs
    where destination_endpoint is not null
    union all
    select
        pbx_id,
        started_at,
        'context' as kind,
        dialplan_context as name_written,
        null as channel_role
    from legs
    where dialplan_context is not null
    union all
    select
        pbx_id,
        started_at,
        'dialled_number' as kind,
        coalesce(dialled_phone_e164, '(none)') as name_written,
        null as channel_role
    from pbx_calls
    union all
    select
        pbx_id,
        started_at,
        'queue' as kind,
        coalesce(first_queue_name, '(none)') as name_written,
        null as channel_role
    from pbx_calls

),

-- counted as written first, masked after: a PBX writes a few thousand names in millions of
-- legs, so the masking (a regular expression) runs once per name and day, not per leg
counted as (

    select
        pbx_id,
        (started_at at time zone 'UTC')::date as started_date_utc,
        kind,
        name_written,
        channel_role,
        count(*) as seen,
        max(started_at) as started_at
    from names
    group by pbx_id, started_date_utc, kind, name_written, channel_role

),

final as (

    select
        pbx_id,
        started_date_utc,
        kind,
        case
            when kind = 'channel' then {{ mask_phone_numbers_in('name_written') }}
            else name_written
        end as written_as,
        channel_role,
        sum(seen)::bigint as seen,
        max(started_at) as started_at
    from counted
    group by pbx_id, started_date_utc, kind, written_as, channel_role

)

select * from final
