{#
    The queue_log events int_queue_members_available needs, a small part of the queue_log:
    - every member event (ADDMEMBER, REMOVEMEMBER, AGENTLOGIN, AGENTLOGOFF, PAUSE, UNPAUSE,
      PAUSEALL, UNPAUSEALL), the events that change who is available;
    - for the other events that name a member and a queue (CONNECT, RINGNOANSWER, ...), the
      first of each member, queue and UTC day: enough to know every queue each member
      appears in, which a member event logged without a queue (queuename NONE) applies to.
    Incremental like the call models, by whole UTC days (call_window_grain): a build rewrites
    the days from its cutoff, which any change to the staged queue_log moves back to the
    change's day (macros/incremental_window.sql). So a day's build reads the day's events
    by the staged queue_log's time index, and int_queue_members_available reads this table
    instead of every queue event ever staged.
#}
{%- set grain = 'day' %}
{{ config(
    call_window_grain=grain,
    indexes=[{'columns': ['started_date_utc']}],
) }}
with

agent_events as (

    select
        pbx_id,
        queue_name,
        agent,
        event,
        occurred_at,
        (occurred_at at time zone 'UTC')::date as started_date_utc,
        _source_file,
        _line_number
    from {{ ref('stg_asterisk__queue_log') }}
    where agent is not null and {{ in_call_window('occurred_at', grain=grain) }}

),

first_appearances as (

    select distinct on (pbx_id, agent, queue_name, started_date_utc) *
    from agent_events
    where queue_name <> 'NONE' and event not in {{ queue_member_events() }}
    order by pbx_id, agent, queue_name, started_date_utc, occurred_at, _source_file, _line_number

),

final as (

    select * from agent_events
    where event in {{ queue_member_events() }}
    union all
    select * from first_appearances

)

select * from final
