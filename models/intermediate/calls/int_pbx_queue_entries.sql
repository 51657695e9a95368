{#
    One row per caller's stay in a PBX queue (the first queue a call entered, or was refused
    for having no members (JOINEMPTY), that is not an escalation queue): when they entered and left, how many members were available to ring
    when they entered (int_queue_members_available; null when the queue's members are
    unknown), and whether any member was rung while they waited (RINGNOANSWER, RINGCANCELED or
    the CONNECT of the member who answered). A queue rings only free members, so a caller who
    waited with members available and was never rung found every one of them busy. What the
    shrink's causes are made of (docs/metrics.md, Shrink by root cause).
    Incremental like the other call models: the stays entered from the cutoff on.
#}
with

queue_events as (

    select * from {{ ref('stg_asterisk__queue_log') }}
    where
        callid <> 'NONE'
        and {{ in_call_window('occurred_at', margin=call_reach()) }}

),

escalation_queues as (

    select * from {{ ref('escalation_queues') }}

),

members_available as (

    select * from {{ ref('int_queue_members_available') }}

),

entries as (

    select
        queue_events.pbx_id,
        queue_events.callid,
        queue_events.queue_name,
        min(queue_events.occurred_at) as started_at
    from queue_events
    left join escalation_queues
        on
            queue_events.pbx_id = escalation_queues.pbx_id
            and queue_events.queue_name = escalation_queues.queuename
    where
        queue_events.event in ('ENTERQUEUE', 'JOINEMPTY')
        and escalation_queues.queuename is null
    group by queue_events.pbx_id, queue_events.callid, queue_events.queue_name

),

first_entries as (

    select distinct on (pbx_id, callid) *
    from entries
    order by pbx_id, callid, started_at, queue_name

),

stays as (

    select
        first_entries.pbx_id,
        first_entries.callid,
        first_entries.queue_name,
        first_entries.started_at,
        min(queue_events.occurred_at) filter (
            where queue_events.event in (
                'CONNECT', 'ABANDON', 'EXITEMPTY', 'EXITWITHTIMEOUT', 'EXITWITHKEY', 'JOINEMPTY'
            )
        ) as left_at,
        coalesce(bool_or(queue_events.event in ('RINGNOANSWER', 'RINGCANCELED', 'CONNECT')), false)
            as was_member_rung,
        coalesce(bool_or(queue_events.event in ('EXITEMPTY', 'JOINEMPTY')), false)
            as left_empty_queue
    from first_entries
    inner join queue_events
        on
            first_entries.pbx_id = queue_events.pbx_id
            and first_entries.callid = queue_events.callid
            and first_entries.queue_name = queue_events.queue_name
    group by
        first_entries.pbx_id,
        first_entries.callid,
        first_entries.queue_name,
        first_entries.started_at

),

stream as (

    -- the queues' member changes and the callers' stays in one time line per queue; a change
    -- at the second a caller entered applies first. The stays carry their columns through
    -- (no join back to them: the planner cannot estimate the stays' rows, and a join on a
    -- misestimate compared every stay of a PBX with every other)
    select
        pbx_id,
        queue_name,
        changed_at as happened_at,
        0 as kind,
        available_members,
        null::text as callid,
        null::timestamptz as left_at,
        null::boolean as was_member_rung,
        null::boolean as left_empty_queue
    from members_available
    union all
    select
        pbx_id,
        queue_name,
        started_at as happened_at,
        1 as kind,
        null::integer as available_members,
        callid,
        left_at,
        was_member_rung,
        left_empty_queue
    from stays

),

carried as (

    select
        *,
        count(available_members) over (
            partition by pbx_id, queue_name order by happened_at, kind
            rows unbounded preceding
        ) as change_number
    from stream

),

members_at_entry as (

    select
        *,
        max(available_members) over (
            partition by pbx_id, queue_name, change_number
        ) as available_members_at_entry
    from carried

),

final as (

    select
        pbx_id || ':' || callid as pbx_call_id,
        pbx_id,
        queue_name,
        pbx_id || ':' || queue_name as pbx_queue,
        happened_at as started_at,
        (happened_at at time zone 'UTC')::date as started_date_utc,
        left_at,
        available_members_at_entry,
        was_member_rung,
        left_empty_queue
    from members_at_entry
    -- the stays from the cutoff on: those before it are read (the margin) only to be whole
    where kind = 1 and {{ in_call_window('happened_at') }}

)

select * from final
