{#-
    One row per PBX leg, with the call it belongs to and the part it played. The record-level
    type of int_pbx_legs_typed is refined with the call around it: of the answered legs to a
    person, the first is the agent and each later one a transfer; every leg of an attended
    transfer's consult call belongs to the call it transferred (leg type consult); legs of a
    staff call that is nobody's call stay here as internal legs with no call_id.
    Incremental like the call models, by the start of the leg's group (call_started_at; a
    row's started_at is its leg's).
-#}
{{ config(
    call_cutoff_column='call_started_at',
    indexes=[
        {'columns': ['started_date_utc']},
        {'columns': ['call_started_at']},
        {'columns': ['started_at']},
    ],
) }}
with

pbx_calls as (

    select * from {{ ref('int_pbx_calls_grouped') }}
    where {{ in_call_window('started_at') }}

),

legs as (

    select * from {{ ref('int_pbx_legs_typed') }}
    where {{ in_call_window('started_at', margin=call_reach()) }}

),

placed as (

    select
        legs.*,
        pbx_calls.started_date_utc as group_started_date_utc,
        pbx_calls.started_at as group_started_at,
        pbx_calls.direction as group_direction,
        pbx_calls.parent_pbx_call_id,
        case
            when pbx_calls.parent_pbx_call_id is not null then pbx_calls.parent_pbx_call_id
            when pbx_calls.direction in ('inbound', 'outbound') then pbx_calls.pbx_call_id
        end as call_id
    from legs
    inner join pbx_calls
        on legs.pbx_call_id = pbx_calls.pbx_call_id

),

ranked as (

    -- one sort for both: the legs of a call (a consult call's with the call it transferred)
    -- in time order. Of its own PBX call's legs (no parent), the answered legs to a person
    -- so far: the first is the agent, each later one a transfer (a consult call's legs are
    -- consult whatever they are). Two windows partitioned apart sorted every leg twice: on
    -- the year slice's 7.4 million legs, the select of a full build took 42 and 45 s with
    -- one, 61 and 55 s with two (2.4 and 2.7 GB spilled to disk by their sorts).
    select
        *,
        count(*) filter (where leg_type = 'agent' and parent_pbx_call_id is null)
            over call_steps as answered_rank,
        row_number() over call_steps as step_number
    from placed
    window call_steps as (
        partition by coalesce(call_id, pbx_call_id)
        order by started_at, leg_sequence
        rows between unbounded preceding and current row
    )

),

final as (

    select
        leg_id,
        call_id,
        pbx_call_id,
        group_started_date_utc as started_date_utc,
        group_started_at as call_started_at,
        pbx_id,
        linkedid,
        uniqueid,
        leg_sequence,
        step_number,
        case
            when parent_pbx_call_id is not null then 'consult'
            when group_direction in ('internal', 'unknown') and leg_type <> 'unknown'
                then 'internal'
            when leg_type = 'agent' and answered_rank > 1 then 'transfer'
            else leg_type
        end as leg_type,
        leg_type <> 'local' and call_id is not null and parent_pbx_call_id is null
            as is_resolution_step,
        {{ mask_phone_numbers_in('channel') }} as channel,
        {{ mask_phone_numbers_in('destination_channel') }} as destination_channel,
        queue_name,
        {{ mask_phone_numbers_in('destination_extension') }} as destination_extension,
        started_at,
        answered_at,
        ended_at,
        duration_seconds,
        billable_seconds,
        disposition,
        last_application,
        is_escalation_leg,
        _source_file as source_file,
        _line_number as source_line_number
    from ranked

)

select * from final
