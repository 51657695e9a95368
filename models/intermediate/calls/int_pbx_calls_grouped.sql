{#
    One row per group of CDR legs that share a linkedid, with what the queue_log says of the
    caller's channel (queue_log callid = that channel's uniqueid). Legs are never calls; a group
    is the PBX's side of one call, or a staff call that is nobody's call (docs/pbx.md):
    - direction comes from the channels, never from context names: a group started by a trunk
      channel is `inbound`; one started by a phone (or a Local channel) that reaches a trunk is
      `outbound`; phone to phone is `internal`; a group started by a channel the PBX's
      patterns do not recognise is `unknown` (data health lists it);
    - an attended transfer's consult call (an agent's phone calling a colleague) gets a
      linkedid of its own, then hands the colleague's channel over to the call it transfers:
      a group started by a phone that shares a channel with an earlier call of the same PBX,
      at the same time, is that call's consult (parent_pbx_call_id) and is no call itself;
    - the dialled number of an inbound call is the queue_log DID event, else the first dst of
      the caller's channel that is a phone number, else the userfield (pbx_systems
      dialled_number_from picks one), and the PBX places the call through the crosswalk by
      that number, else by its first queue.
    Incremental by day (macros/incremental_window.sql): legs reach one day further back than
    the groups written, so a call that began before midnight keeps all its legs.
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

pbx_systems as (

    select * from {{ ref('int_pbx_systems_configured') }}

),

escalation_queues as (

    select * from {{ ref('escalation_queues') }}

),

crosswalk as (

    select * from {{ ref('int_location_crosswalk') }}

),

origins as (

    -- the channel that started the group: its uniqueid is the linkedid (Asterisk gives a new
    -- channel the linkedid of the channel that caused it); its first record
    select distinct on (pbx_id, linkedid)
        pbx_id,
        linkedid,
        uniqueid as origin_uniqueid,
        started_at,
        channel_endpoint as origin_channel_endpoint,
        channel_role as origin_channel_role,
        dialplan_context as origin_context,
        source_phone_e164,
        destination_phone_e164
    from legs
    order by pbx_id asc, linkedid asc, (uniqueid = linkedid) desc, started_at, leg_sequence asc

),

leg_summary as (

    select
        pbx_id,
        linkedid,
        -- the resolution path: Local-channel plumbing only repeats the leg it serves
        count(*) filter (where leg_type <> 'local') as leg_count,
        max(ended_at) as ended_at,
        bool_or(is_person_answered) as is_person_answered,
        min(answered_at) filter (where is_person_answered) as answered_at,
        bool_or(is_voicemail_leg) as reached_voicemail,
        count(*) filter (where leg_type = 'ring') as ring_no_answer_legs,
        bool_or(is_escalation_leg) as is_escalated,
        bool_or(channel_role = 'trunk' or destination_role = 'trunk') as has_trunk_leg,
        bool_or(channel_role = 'unknown' or destination_role = 'unknown') as has_unknown_channel,
        -- rang out without a queue: the caller's channel dialled and rang the whole Dial
        -- timeout, or got busy (a queue member's busy phone is the queue's business)
        bool_or(
            channel_role = 'trunk'
            and last_application = 'Dial'
            and (
                disposition in ('BUSY', 'CONGESTION')
                or (disposition = 'NO ANSWER' and duration_seconds >= dial_timeout_seconds)
            )
        ) as is_rung_out,
        (array_agg(queue_name order by started_at, leg_sequence) filter (
            where queue_name is not null and not is_escalation_leg
        ))[1] as first_cdr_queue_name,
        -- the dialled number as dst: the first record of the caller's own channel whose dst
        -- is a phone number (on FreePBX a queue call's dst is the queue, a voicemail's vmu<box>)
        (array_agg(destination_phone_e164 order by started_at, leg_sequence) filter (
            where uniqueid = linkedid and destination_phone_e164 is not null
        ))[1] as dst_phone_e164,
        (array_agg({{ phone_to_e164('userfield') }} order by started_at, leg_sequence) filter (
            where uniqueid = linkedid and {{ phone_to_e164('userfield') }} is not null
        ))[1] as userfield_phone_e164
    from legs
    group by pbx_id, linkedid

),

queue_summary as (

    -- an escalated call enters a second queue: its speed of answer is the first queue's
    select
        queue_events.pbx_id,
        queue_events.callid,
        (array_agg(queue_events.hold_seconds order by queue_events.occurred_at) filter (
            where queue_events.event = 'CONNECT'
        ))[1] as hold_seconds,
        (array_agg(queue_events.ring_seconds order by queue_events.occurred_at) filter (
            where queue_events.event = 'CONNECT'
        ))[1] as connect_ring_seconds,
        sum(queue_events.ring_milliseconds) filter (where queue_events.event = 'RINGNOANSWER')
            as unanswered_ring_ms,
        max(queue_events.wait_seconds) as exit_wait_seconds,
        min(queue_events.occurred_at) filter (
            where queue_events.event in ('ABANDON', 'EXITEMPTY', 'EXITWITHTIMEOUT', 'EXITWITHKEY')
        ) as exited_queue_at,
        sum(queue_events.talk_seconds) as talk_seconds,
        bool_or(queue_events.event = 'ABANDON') as is_abandoned_in_queue,
        bool_or(queue_events.event in ('EXITWITHTIMEOUT', 'EXITEMPTY', 'EXITWITHKEY'))
            as is_timed_out,
        count(*) filter (
            where queue_events.event in ('TRANSFER', 'BLINDTRANSFER', 'ATTENDEDTRANSFER')
        ) as transfer_count,
        (array_agg(queue_events.queue_name order by queue_events.occurred_at) filter (
            where queue_events.event = 'ENTERQUEUE' and escalation_queues.queuename is null
        ))[1] as first_queue_name,
        (
            array_agg({{ phone_to_e164('queue_events.data1') }} order by queue_events.occurred_at)
            filter (
                where
                queue_events.event = 'DID'
                and {{ phone_to_e164('queue_events.data1') }} is not null
            )
        )[1
        ] as did_event_phone_e164
    from queue_events
    left join escalation_queues
        on
            queue_events.pbx_id = escalation_queues.pbx_id
            and queue_events.queue_name = escalation_queues.queuename
    where queue_events.callid <> 'NONE'
    group by queue_events.pbx_id, queue_events.callid

),

directed as (

    select
        origins.*,
        leg_summary.leg_count,
        leg_summary.ended_at,
        leg_summary.is_person_answered,
        leg_summary.answered_at,
        leg_summary.reached_voicemail,
        leg_summary.ring_no_answer_legs,
        leg_summary.is_escalated,
        leg_summary.has_unknown_channel,
        leg_summary.is_rung_out,
        leg_summary.first_cdr_queue_name,
        leg_summary.dst_phone_e164,
        leg_summary.userfield_phone_e164,
        case
            when origins.origin_channel_role = 'trunk' then 'inbound'
            when origins.origin_channel_role = 'unknown' then 'unknown'
            when leg_summary.has_trunk_leg then 'outbound'
            else 'internal'
        end as direction
    from origins
    inner join leg_summary
        on
            origins.pbx_id = leg_summary.pbx_id
            and origins.linkedid = leg_summary.linkedid

),

channel_uses as (

    -- every phone or trunk channel a group's legs touched, and when
    select
        pbx_id,
        linkedid,
        channel as channel_name,
        started_at,
        ended_at
    from legs
    where channel_role in ('phone', 'trunk')
    union all
    select
        pbx_id,
        linkedid,
        destination_channel as channel_name,
        started_at,
        ended_at
    from legs
    where destination_role in ('phone', 'trunk')

),

consults as (

    -- a group started by a phone that shares a channel (same name, within a minute) with an
    -- inbound or outbound call of the PBX that began before it: the earliest such call
    select distinct on (consult_uses.pbx_id, consult_uses.linkedid)
        consult_uses.pbx_id,
        consult_uses.linkedid,
        parents.linkedid as parent_linkedid
    from directed as consult_groups
    inner join channel_uses as consult_uses
        on
            consult_groups.pbx_id = consult_uses.pbx_id
            and consult_groups.linkedid = consult_uses.linkedid
    inner join channel_uses as parent_uses
        on
            consult_uses.pbx_id = parent_uses.pbx_id
            and consult_uses.channel_name = parent_uses.channel_name
            and consult_uses.linkedid <> parent_uses.linkedid
            and parent_uses.started_at <= consult_uses.ended_at + interval '1 minute'
            and consult_uses.started_at <= parent_uses.ended_at + interval '1 minute'
    inner join directed as parents
        on
            parent_uses.pbx_id = parents.pbx_id
            and parent_uses.linkedid = parents.linkedid
    where
        consult_groups.origin_channel_role = 'phone'
        and parents.direction in ('inbound', 'outbound')
        and parents.started_at < consult_groups.started_at
    order by consult_uses.pbx_id, consult_uses.linkedid, parents.started_at, parents.linkedid

),

numbered as (

    select
        directed.*,
        consults.parent_linkedid,
        queue_summary.hold_seconds,
        queue_summary.connect_ring_seconds,
        queue_summary.unanswered_ring_ms,
        queue_summary.exit_wait_seconds,
        queue_summary.exited_queue_at,
        queue_summary.talk_seconds,
        queue_summary.is_abandoned_in_queue,
        queue_summary.is_timed_out,
        queue_summary.transfer_count,
        queue_summary.callid is not null as has_queue_events,
        coalesce(queue_summary.first_queue_name, directed.first_cdr_queue_name)
            as first_queue_name,
        case
            when directed.direction <> 'inbound' then null
            when pbx_systems.dialled_number_from = 'did_event'
                then queue_summary.did_event_phone_e164
            when pbx_systems.dialled_number_from = 'dst' then directed.dst_phone_e164
            when pbx_systems.dialled_number_from = 'userfield'
                then directed.userfield_phone_e164
            else
                coalesce(
                    queue_summary.did_event_phone_e164,
                    directed.dst_phone_e164,
                    directed.userfield_phone_e164
                )
        end as inbound_dialled_phone_e164
    from directed
    inner join pbx_systems
        on directed.pbx_id = pbx_systems.pbx_id
    left join consults
        on
            directed.pbx_id = consults.pbx_id
            and directed.linkedid = consults.linkedid
    left join queue_summary
        on
            directed.pbx_id = queue_summary.pbx_id
            and directed.origin_uniqueid = queue_summary.callid

),

located as (

    select
        numbered.*,
        coalesce(by_did.location_id, by_queue.location_id) as location_id,
        case
            when by_did.location_id is not null then 'pbx_did'
            when by_queue.location_id is not null then 'pbx_queue'
        end as located_by
    from numbered
    left join crosswalk as by_did
        on
            by_did.system = 'pbx_did'
            and numbered.inbound_dialled_phone_e164 = by_did.external_id
    left join crosswalk as by_queue
        on
            by_queue.system = 'pbx_queue'
            and numbered.direction = 'inbound'
            and numbered.pbx_id || ':' || numbered.first_queue_name = by_queue.external_id

),

final as (

    select
        pbx_id || ':' || linkedid as pbx_call_id,
        (started_at at time zone 'UTC')::date as started_date_utc,
        pbx_id,
        linkedid,
        case when parent_linkedid is not null then pbx_id || ':' || parent_linkedid end
            as parent_pbx_call_id,
        started_at,
        answered_at,
        ended_at,
        direction,
        case
            when direction = 'inbound' then source_phone_e164
            when direction = 'outbound' then destination_phone_e164
        end as caller_phone_e164,
        case
            when direction = 'inbound' then inbound_dialled_phone_e164
            when direction = 'outbound' then source_phone_e164
        end as dialled_phone_e164,
        location_id,
        located_by,
        origin_channel_endpoint,
        origin_context,
        has_unknown_channel,
        leg_count,
        is_person_answered,
        reached_voicemail,
        ring_no_answer_legs,
        is_escalated,
        is_rung_out,
        first_queue_name,
        has_queue_events,
        hold_seconds,
        exit_wait_seconds,
        exited_queue_at,
        case
            when has_queue_events
                then round(
                    coalesce(unanswered_ring_ms, 0) / 1000.0
                    + coalesce(connect_ring_seconds, 0)
                )::integer
        end as ring_seconds,
        talk_seconds,
        extract(epoch from ended_at - started_at)::integer as duration_seconds,
        coalesce(is_abandoned_in_queue, false) as is_abandoned_in_queue,
        coalesce(is_timed_out, false) as is_timed_out,
        coalesce(transfer_count, 0) as transfer_count
    from located
    where {{ in_call_window('started_at') }}

)

select * from final
