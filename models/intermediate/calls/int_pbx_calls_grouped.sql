{#
    One row per PBX call: the CDR legs that share a linkedid, with what the queue_log says of
    the trunk channel (queue_log callid = the trunk leg's uniqueid). Legs are never calls.
#}
with

legs as (

    select * from {{ ref('stg_asterisk__cdr') }}

),

queue_events as (

    select * from {{ ref('stg_asterisk__queue_log') }}

),

escalation_queues as (

    select * from {{ ref('escalation_queues') }}

),

first_legs as (

    -- the leg that started the call carries the caller, the dialled number and the direction
    select distinct on (pbx_id, linkedid)
        pbx_id,
        linkedid,
        uniqueid as trunk_uniqueid,
        started_at,
        source_phone_e164,
        destination_phone_e164,
        dialplan_context,
        dialplan_context = 'from-internal' as is_outbound
    from legs
    order by pbx_id, linkedid, started_at, leg_sequence

),

leg_summary as (

    select
        legs.pbx_id,
        legs.linkedid,
        count(*) as leg_count,
        max(legs.ended_at) as ended_at,
        bool_or(
            legs.destination_channel is not null
            and legs.disposition = 'ANSWERED'
            and not legs.is_voicemail_leg
        ) as is_agent_answered,
        min(legs.answered_at) filter (
            where legs.destination_channel is not null
            and legs.disposition = 'ANSWERED'
            and not legs.is_voicemail_leg
        ) as agent_answered_at,
        bool_or(legs.is_voicemail_leg) as reached_voicemail,
        count(*) filter (
            where legs.destination_channel is not null and legs.disposition = 'NO ANSWER'
        ) as ring_no_answer_legs,
        bool_or(escalation_queues.queuename is not null) as is_escalated,
        max(split_part(legs.last_application_data, ',', 1)) filter (
            where legs.last_application = 'Queue' and escalation_queues.queuename is null
        ) as first_queue_name
    from legs
    left join escalation_queues
        on
            legs.pbx_id = escalation_queues.pbx_id
            and legs.last_application = 'Queue'
            and split_part(legs.last_application_data, ',', 1) = escalation_queues.queuename
    group by legs.pbx_id, legs.linkedid

),

queue_summary as (

    select
        pbx_id,
        callid,
        min(occurred_at) filter (where event = 'ENTERQUEUE') as entered_queue_at,
        max(hold_seconds) filter (where event = 'CONNECT') as hold_seconds,
        max(wait_seconds) as wait_seconds,
        sum(talk_seconds) as talk_seconds,
        bool_or(event = 'CONNECT') as is_connected,
        bool_or(event = 'ABANDON') as is_abandoned_in_queue,
        bool_or(event in ('EXITWITHTIMEOUT', 'EXITEMPTY', 'EXITWITHKEY')) as is_timed_out,
        count(*) filter (
            where event in ('TRANSFER', 'BLINDTRANSFER', 'ATTENDEDTRANSFER')
        ) as transfer_count
    from queue_events
    group by pbx_id, callid

),

final as (

    select
        first_legs.pbx_id || ':' || first_legs.linkedid as pbx_call_id,
        first_legs.pbx_id,
        first_legs.linkedid,
        first_legs.started_at,
        leg_summary.ended_at,
        case when first_legs.is_outbound then 'outbound' else 'inbound' end as direction,
        case
            when first_legs.is_outbound then first_legs.destination_phone_e164
            else first_legs.source_phone_e164
        end as caller_phone_e164,
        case
            when first_legs.is_outbound then first_legs.source_phone_e164
            else first_legs.destination_phone_e164
        end as dialled_phone_e164,
        leg_summary.leg_count,
        leg_summary.is_agent_answered,
        leg_summary.agent_answered_at,
        leg_summary.reached_voicemail,
        leg_summary.ring_no_answer_legs,
        leg_summary.is_escalated,
        leg_summary.first_queue_name,
        queue_summary.entered_queue_at,
        queue_summary.hold_seconds,
        coalesce(
            queue_summary.wait_seconds,
            extract(epoch from leg_summary.ended_at - first_legs.started_at)::integer
        ) as wait_seconds,
        queue_summary.talk_seconds,
        coalesce(queue_summary.is_abandoned_in_queue, false) as is_abandoned_in_queue,
        coalesce(queue_summary.is_timed_out, false) as is_timed_out,
        coalesce(queue_summary.transfer_count, 0) as transfer_count

    from first_legs
    inner join leg_summary
        on
            first_legs.pbx_id = leg_summary.pbx_id
            and first_legs.linkedid = leg_summary.linkedid
    left join queue_summary
        on
            first_legs.pbx_id = queue_summary.pbx_id
            and first_legs.trunk_uniqueid = queue_summary.callid

)

select * from final
