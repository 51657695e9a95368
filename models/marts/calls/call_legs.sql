{#- One row per PBX leg, with its call and the part it played (int_pbx_legs_typed). -#}
with

pbx_calls as (

    select * from {{ ref('int_pbx_calls_grouped') }}
    where {{ in_call_window('started_at') }}

),

legs as (

    select * from {{ ref('int_pbx_legs_typed') }}
    where {{ in_call_window('started_at', margin="interval '1 day'") }}

),

final as (

    select
        legs.leg_id,
        legs.pbx_call_id as call_id,
        pbx_calls.started_date_utc,
        legs.pbx_id,
        legs.linkedid,
        legs.uniqueid,
        legs.leg_sequence,
        row_number() over (
            partition by legs.pbx_call_id order by legs.started_at, legs.leg_sequence
        ) as step_number,
        legs.leg_type,
        legs.queue_name,
        legs.destination_extension,
        legs.started_at,
        legs.answered_at,
        legs.ended_at,
        legs.duration_seconds,
        legs.billable_seconds,
        legs.disposition,
        legs.last_application,
        legs.is_escalation_leg,
        legs._source_file as source_file,
        legs._line_number as source_line_number
    from legs
    inner join pbx_calls
        on legs.pbx_call_id = pbx_calls.pbx_call_id

)

select * from final
