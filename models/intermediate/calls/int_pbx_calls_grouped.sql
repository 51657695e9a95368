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

    -- the columns read below only: this CTE is read four times, so Postgres materialises it,
    -- and whole rows would spill to disk on a large history
    select
        pbx_call_id,
        pbx_id,
        linkedid,
        uniqueid,
        leg_sequence,
        started_at,
        answered_at,
        ended_at,
        channel,
        destination_channel,
        channel_role,
        destination_role,
        source_phone_e164,
        destination_phone_e164,
        userfield,
        last_application,
        disposition,
        duration_seconds,
        dial_timeout_seconds,
        queue_name,
        leg_type,
        is_person_answered,
        is_voicemail_leg,
        is_escalation_leg
    from {{ ref('int_pbx_legs_typed') }}
    where {{ in_call_window('started_at', margin=call_reach()) }}

),

queue_events as (

    select * from {{ ref('stg_asterisk__queue_log') }}
    where {{ in_call_window('occurred_at', margin=call_reach()) }}

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
    select distinct on (pbx_call_id)
        pbx_call_id,
        pbx_id,
        linkedid,
        pbx_id || ':' || uniqueid as origin_channel_key,
        started_at,
        channel_role as origin_channel_role,
        source_phone_e164,
        destination_phone_e164
    from legs
    order by pbx_call_id asc, (uniqueid = linkedid) desc, started_at asc, leg_sequence asc

),

leg_summary as (

    select
        pbx_call_id,
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
    group by pbx_call_id

),

queue_summary as (

    -- an escalated call enters a second queue: its speed of answer is the first queue's
    select
        queue_events.pbx_id || ':' || queue_events.callid as channel_key,
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
    group by queue_events.pbx_id || ':' || queue_events.callid

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
        on origins.pbx_call_id = leg_summary.pbx_call_id

),

channel_uses as (

    -- every phone or trunk channel a group's legs touched, and when (a channel name is
    -- unique on its PBX while the channel lives)
    select
        pbx_call_id,
        pbx_id || '|' || channel as channel_key,
        started_at,
        ended_at
    from legs
    where channel_role in ('phone', 'trunk')
    union all
    select
        pbx_call_id,
        pbx_id || '|' || destination_channel as channel_key,
        started_at,
        ended_at
    from legs
    where destination_role in ('phone', 'trunk')

),

phone_started_uses as materialized (

    -- the channels of the groups a phone started: the candidates for a consult call. A CTE
    -- has no statistics, so each step of the search is a CTE of its own and every join below
    -- is on one selective key: estimated from nothing, the planner joined on the PBX alone.
    select channel_uses.*
    from channel_uses
    inner join directed
        on channel_uses.pbx_call_id = directed.pbx_call_id
    where directed.origin_channel_role = 'phone'

),

shared_channels as materialized (

    -- another group of the same PBX used the same channel within a minute
    select
        phone_started_uses.pbx_call_id,
        other_uses.pbx_call_id as other_pbx_call_id
    from phone_started_uses
    inner join channel_uses as other_uses
        on phone_started_uses.channel_key = other_uses.channel_key
    where
        phone_started_uses.pbx_call_id <> other_uses.pbx_call_id
        and other_uses.started_at <= phone_started_uses.ended_at + interval '1 minute'
        and phone_started_uses.started_at <= other_uses.ended_at + interval '1 minute'

),

consults as (

    -- a group started by a phone that shares a channel with an inbound or outbound call that
    -- began before it is that call's consult: the earliest such call
    select distinct on (shared_channels.pbx_call_id)
        shared_channels.pbx_call_id,
        parents.pbx_call_id as parent_pbx_call_id
    from shared_channels
    inner join directed as parents
        on shared_channels.other_pbx_call_id = parents.pbx_call_id
    inner join directed as consult_groups
        on shared_channels.pbx_call_id = consult_groups.pbx_call_id
    where
        parents.direction in ('inbound', 'outbound')
        and parents.started_at < consult_groups.started_at
    order by
        shared_channels.pbx_call_id asc,
        parents.started_at asc,
        parents.pbx_call_id asc

),

numbered as (

    select
        directed.*,
        consults.parent_pbx_call_id,
        queue_summary.hold_seconds,
        queue_summary.connect_ring_seconds,
        queue_summary.unanswered_ring_ms,
        queue_summary.exit_wait_seconds,
        queue_summary.exited_queue_at,
        queue_summary.talk_seconds,
        queue_summary.is_abandoned_in_queue,
        queue_summary.is_timed_out,
        queue_summary.transfer_count,
        queue_summary.channel_key is not null as has_queue_events,
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
        on directed.pbx_call_id = consults.pbx_call_id
    left join queue_summary
        on directed.origin_channel_key = queue_summary.channel_key

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
        pbx_call_id,
        (started_at at time zone 'UTC')::date as started_date_utc,
        pbx_id,
        linkedid,
        parent_pbx_call_id,
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
