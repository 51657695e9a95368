{#
    The queue calls of each location's local hours (docs/staffing.md), what staffing_hours
    measures its typical week from: per location, local day and hour, the inbound calls that
    entered the location's queue (int_pbx_queue_entries), the first attempts among them (not a
    retry: the caller's previous queue call, at any location, was left unanswered within var
    recovery_window_hours), the abandoned ones, the talk time of the answered ones and the
    seconds callers spent in the queue.

    Incremental like the other call marts, but from the cutoff only: nothing here looks
    ahead (no recovery or repeat contact), so an hour's counts change only while its calls
    do. A build replaces whole UTC hours (call_window_grain), so a row is also split by UTC
    hour (started_at): a location whose offset is not whole hours has local hours that
    straddle two UTC hours. A retry is judged on the caller's queue calls of the recovery
    window before the hours written (in_call_window's margin): an earlier previous call is
    too old to make a retry either way.
#}
{%- set grain = 'hour' %}
{{ config(call_window_grain=grain) }}
{%- set window_hours = var('recovery_window_hours') | int %}

with

calls as (

    select * from {{ ref('calls') }}
    where
        direction = 'inbound'
        and {{ in_call_window(
            'started_at', margin="interval '" ~ window_hours ~ " hours'", grain=grain
        ) }}

),

stays as (

    select * from {{ ref('int_pbx_queue_entries') }}

),

queue_calls as (

    select
        calls.location_id,
        calls.started_date_utc,
        calls.started_at,
        calls.started_date,
        calls.started_hour,
        calls.outcome,
        calls.talk_seconds,
        extract(epoch from coalesce(stays.left_at, calls.ended_at) - stays.started_at)
            as seconds_in_queue,
        -- a retry: the caller's previous queue call was left unanswered shortly before
        coalesce(
            calls.caller_key is not null
            and lag(calls.outcome) over caller_calls <> 'answered'
            and calls.started_at - lag(calls.started_at) over caller_calls
            <= interval '{{ window_hours }} hours',
            false
        ) as is_retry
    from stays
    inner join calls
        on stays.pbx_call_id = calls.pbx_call_id
    window caller_calls as (partition by calls.caller_key order by calls.started_at)

),

final as (

    select
        location_id,
        started_date_utc,
        date_trunc('hour', started_at) as started_at,
        started_date as local_date,
        started_hour as hour_of_day,
        count(*) as offered_calls,
        count(*) filter (where not is_retry) as first_attempts,
        count(*) filter (where outcome in ('abandoned', 'short_abandon')) as abandoned_calls,
        count(talk_seconds) filter (where outcome = 'answered') as answered_calls_timed,
        sum(talk_seconds) filter (where outcome = 'answered') as answered_talk_seconds,
        sum(seconds_in_queue) as seconds_in_queue
    from queue_calls
    -- the margin's calls only looked back for retries; this build writes the days after it
    where {{ in_call_window('started_at', grain=grain) }}
    group by
        location_id,
        started_date_utc,
        date_trunc('hour', started_at),
        started_date,
        started_hour

)

select * from final
