{#
    What each PBX writes, counted by UTC day, for data health (marts.pbx_names): the channel
    names (without their per-call suffix, a phone number in them masked) with the role the PBX's patterns give them, the
    dialplan contexts, and the dialled numbers and queues of its inbound calls. A name a PBX
    starts writing after a reconfiguration shows up here on its first day.
    Incremental like the call models, by whole UTC days (call_window_grain): the days of the
    calls recomputed are counted again.
#}
{%- set grain = 'day' %}
{{ config(call_window_grain=grain) }}
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
        {{ mask_phone_numbers_in('channel_endpoint') }} as written_as,
        channel_role
    from legs
    union all
    select
        pbx_id,
        started_at,
        'channel' as kind,
        {{ mask_phone_numbers_in('destination_endpoint') }} as written_as,
        destination_role as channel_role
    from legs
    where destination_endpoint is not null
    union all
    select
        pbx_id,
        started_at,
        'context' as kind,
        dialplan_context as written_as,
        null as channel_role
    from legs
    where dialplan_context is not null
    union all
    select
        pbx_id,
        started_at,
        'dialled_number' as kind,
        coalesce(dialled_phone_e164, '(none)') as written_as,
        null as channel_role
    from pbx_calls
    union all
    select
        pbx_id,
        started_at,
        'queue' as kind,
        coalesce(first_queue_name, '(none)') as written_as,
        null as channel_role
    from pbx_calls

),

final as (

    select
        pbx_id,
        (started_at at time zone 'UTC')::date as started_date_utc,
        kind,
        written_as,
        channel_role,
        count(*) as seen,
        max(started_at) as started_at
    from names
    group by pbx_id, started_date_utc, kind, written_as, channel_role

)

select * from final
