{#
    One row per PBX call: the CDR legs that share a linkedid, with what the queue_log says of
    the trunk channel (queue_log callid = the trunk leg's uniqueid). Legs are never calls.
    Incremental by day (macros/incremental_window.sql): legs reach one day further back than
    the calls written, so a call that began before midnight keeps all its legs.
#}
with

legs as (

    select * from {{ ref('int_pbx_legs_typed') }}
    where {{ in_call_window('started_at', margin="interval '1 day'") }}

),

queue_events as (

    select * from {{ ref('stg_asterisk__queue_log') }}
    where {{ in_call_window('occurred_at', margin="interval '1 day'") }}

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
        dialplan_context = 'from-internal' as is_outbound
    from legs
    order by pbx_id, linkedid, started_at, leg_sequence

),

leg_summary as (

    select
        pbx_id,
        linkedid,
        count(*) as leg_count,
        max(ended_at) as ended_at,
        bool_or(is_person_answered) as is_person_answered,
        min(answered_at) filter (where is_person_answered) as answered_at,
        bool_or(is_voicemail_leg) as reached_voicemail,
        count(*) filter (
            where destination_channel is not null and disposition = 'NO ANSWER'
        ) as ring_no_answer_legs,
        bool_or(is_escalation_leg) as is_escalated,
        -- rang out without a queue: a Dial leg that rang its whole timeout, or busy
        bool_or(
            disposition in ('BUSY', 'CONGESTION')
            or (disposition = 'NO ANSWER' and duration_seconds >= dial_timeout_seconds)
        ) as is_rung_out,
        (array_agg(queue_name order by started_at, leg_sequence) filter (
            where queue_name is not null and not is_escalation_leg
        ))[1] as first_queue_name
    from legs
    group by pbx_id, linkedid

),

queue_summary as (

    -- an escalated call enters a second queue: its speed of answer is the first queue's
    select
        pbx_id,
        callid,
        (array_agg(hold_seconds order by occurred_at) filter (where event = 'CONNECT'))[1]
            as hold_seconds,
        (array_agg(ring_seconds order by occurred_at) filter (where event = 'CONNECT'))[1]
            as connect_ring_seconds,
        sum(ring_milliseconds) filter (where event = 'RINGNOANSWER') as unanswered_ring_ms,
        max(wait_seconds) as exit_wait_seconds,
        sum(talk_seconds) as talk_seconds,
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
        (first_legs.started_at at time zone 'UTC')::date as started_date_utc,
        first_legs.pbx_id,
        first_legs.linkedid,
        first_legs.started_at,
        leg_summary.answered_at,
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
        leg_summary.is_person_answered,
        leg_summary.reached_voicemail,
        leg_summary.ring_no_answer_legs,
        leg_summary.is_escalated,
        leg_summary.is_rung_out,
        leg_summary.first_queue_name,
        queue_summary.hold_seconds,
        queue_summary.exit_wait_seconds,
        case
            when queue_summary.callid is not null
                then round(
                    coalesce(queue_summary.unanswered_ring_ms, 0) / 1000.0
                    + coalesce(queue_summary.connect_ring_seconds, 0)
                )::integer
        end as ring_seconds,
        queue_summary.talk_seconds,
        extract(epoch from leg_summary.ended_at - first_legs.started_at)::integer
            as duration_seconds,
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
    where {{ in_call_window('first_legs.started_at') }}

)

select * from final
