{#
    Each PBX leg with the part it played in its call (METRICS.md counts these as the
    resolution path): the trunk leg that carried the caller in, an agent ring that was not
    answered, the agent who answered, a transfer to another extension, the escalation queue
    (reference escalation_queues), voicemail; or the callback an agent dialled out.
#}
{{ config(materialized='view') }}

with

legs as (

    select * from {{ ref('stg_asterisk__cdr') }}

),

escalation_queues as (

    select * from {{ ref('escalation_queues') }}

),

flagged as (

    select
        legs.*,
        legs.pbx_id || ':' || legs.linkedid as pbx_call_id,
        case
            when legs.last_application = 'Queue'
                then split_part(legs.last_application_data, ',', 1)
        end as queue_name,
        -- Dial(<targets>,<timeout>,...): how long a Dial leg rings before it gives up
        case
            when legs.last_application = 'Dial'
                then {{ safe_integer("split_part(legs.last_application_data, ',', 2)") }}
        end as dial_timeout_seconds,
        escalation_queues.queuename is not null as is_escalation_leg,
        legs.destination_channel is not null
        and legs.disposition = 'ANSWERED'
        and not legs.is_voicemail_leg as is_person_answered
    from legs
    left join escalation_queues
        on
            legs.pbx_id = escalation_queues.pbx_id
            and legs.last_application = 'Queue'
            and split_part(legs.last_application_data, ',', 1) = escalation_queues.queuename

),

final as (

    select
        *,
        case
            when is_voicemail_leg then 'voicemail'
            when uniqueid = linkedid and dialplan_context = 'from-internal' then 'callback'
            when uniqueid = linkedid then 'trunk'
            when is_escalation_leg then 'escalation'
            when last_application = 'Dial' then 'transfer'
            when is_person_answered then 'agent'
            else 'ring'
        end as leg_type,
        -- the extension of a leg's far end: PJSIP/101-00001da6 -> 101
        substring(destination_channel from '^[A-Za-z0-9]+/([^-@]+)') as destination_extension
    from flagged

)

select * from final
