{#
    How many members each PBX queue had available to ring, as a step function: one row per
    instant the number changed. A member is available while logged in to the queue (between
    ADDMEMBER and REMOVEMEMBER, or AGENTLOGIN and AGENTLOGOFF) and not paused (between PAUSE
    and UNPAUSE). PAUSEALL, UNPAUSEALL, AGENTLOGIN and AGENTLOGOFF logged without a queue
    (queuename NONE) apply to every queue the member appears in on that PBX. A member logged in
    twice counts once. Events of one second apply in the order of the file.
    The whole history is read on every build, from int_queue_member_events: the member
    events (a few per agent and day) and each member's first event of a day in each queue.
    Queues whose members are static (queues.conf, never logged in or out) have no row here:
    their availability is unknown (docs/staffing.md).
#}
{{ config(materialized='table') }}

with

queue_events as (

    select * from {{ ref('int_queue_member_events') }}

),

member_queues as (

    -- every queue each member appears in, for events logged without a queue
    select distinct
        pbx_id,
        agent,
        queue_name
    from queue_events
    where queue_name <> 'NONE'

),

member_events as (

    select
        pbx_id,
        queue_name,
        agent,
        event,
        occurred_at,
        _source_file,
        _line_number
    from queue_events
    where
        queue_name <> 'NONE'
        and event in {{ queue_member_events() }}
    union all
    select
        member_queues.pbx_id,
        member_queues.queue_name,
        queue_events.agent,
        queue_events.event,
        queue_events.occurred_at,
        queue_events._source_file,
        queue_events._line_number
    from queue_events
    inner join member_queues
        on
            queue_events.pbx_id = member_queues.pbx_id
            and queue_events.agent = member_queues.agent
    where
        queue_events.queue_name = 'NONE'
        and queue_events.event in ('AGENTLOGIN', 'AGENTLOGOFF', 'PAUSEALL', 'UNPAUSEALL')

),

flagged as (

    select
        *,
        case
            when event in ('ADDMEMBER', 'AGENTLOGIN') then true
            when event in ('REMOVEMEMBER', 'AGENTLOGOFF') then false
        end as logs_in,
        case
            when event in ('PAUSE', 'PAUSEALL') then true
            when event in ('UNPAUSE', 'UNPAUSEALL', 'ADDMEMBER', 'REMOVEMEMBER') then false
        end as pauses
    from member_events

),

grouped as (

    -- each event opens a group of the rows that carry its login (and its pause) state forward
    select
        *,
        count(logs_in) over member_order as login_group,
        count(pauses) over member_order as pause_group
    from flagged
    window member_order as (
        partition by pbx_id, queue_name, agent
        order by occurred_at, _source_file, _line_number
        rows unbounded preceding
    )

),

states as (

    select
        *,
        coalesce(bool_or(logs_in) over (
            partition by pbx_id, queue_name, agent, login_group
        ), false)
        and not coalesce(bool_or(pauses) over (
            partition by pbx_id, queue_name, agent, pause_group
        ), false) as is_available
    from grouped

),

changes as (

    select
        pbx_id,
        queue_name,
        occurred_at,
        _source_file,
        _line_number,
        is_available::integer - coalesce(lag(is_available::integer) over (
            partition by pbx_id, queue_name, agent
            order by occurred_at, _source_file, _line_number
        ), 0) as member_change
    from states

),

per_instant as (

    select
        pbx_id,
        queue_name,
        occurred_at,
        sum(member_change) as member_change
    from changes
    group by pbx_id, queue_name, occurred_at

),

final as (

    select
        pbx_id,
        queue_name,
        pbx_id || ':' || queue_name as pbx_queue,
        occurred_at as changed_at,
        lead(occurred_at) over queue_order as next_changed_at,
        sum(member_change) over (queue_order rows unbounded preceding)::integer as available_members
    from per_instant
    window queue_order as (partition by pbx_id, queue_name order by occurred_at)

)

select * from final
