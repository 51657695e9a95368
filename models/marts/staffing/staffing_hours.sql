{#
    Staffing by location x weekday x hour (docs/staffing.md): per open hour of a typical week,
    measured over each PBX location's complete local days (its first and newest day of calls
    are partial and left out):
    - calls offered: callers who entered the location's queue, and the demand among them:
      the first attempts, leaving out retries of a queue call left unanswered within var
      recovery_window_hours (with enough agents they would not have been made, and counting
      them would double the need exactly where agents were short); the need is sized on the
      first attempts per open hour. Counted per hour by marts.queue_calls_hourly, incremental
      by day, so a run reads the hours, not every call;
    - handle time and patience per location: the mean talk time of answered queue calls, and
      the callers' total seconds in queue over the number who abandoned (the estimate of
      mean patience under exponential patience);
    - agents on the phones: queue members available (int_queue_members_available), averaged
      over the open seconds of the hour;
    - agents needed for var service_level_target_share within var service_level_seconds, by
      Erlang C, and by Erlang A (which counts callers who give up); the need is Erlang A's
      where the location's queue abandonment reaches var staffing_erlang_a_min_abandon_share,
      else Erlang C's;
    - the gap (needed - on the phones) and the shrink the gap explains: the expected shrink per
      week of the hour's calls lost to staffing (nobody_staffed, all_busy, long_wait) where the
      gap is positive.
#}
{%- set service_level = var('service_level_seconds') | int %}
{%- set target_share = var('service_level_target_share') %}

with

queue_hours as (

    select * from {{ ref('queue_calls_hourly') }}

),

members_available as (

    select * from {{ ref('int_queue_members_available') }}

),

crosswalk as (

    select * from {{ ref('int_location_crosswalk') }}

),

locations as (

    select * from {{ ref('dim_locations') }}

),

business_hours as (

    select * from {{ ref('business_hours') }}

),

shrink as (

    select * from {{ ref('missed_call_shrink') }}

),

measured_days as (

    -- complete local days: after the first and before the newest day of queue calls
    select
        location_id,
        min(local_date) + 1 as first_day,
        max(local_date) - 1 as last_day
    from queue_hours
    group by location_id

),

open_hours as (

    -- every open hour of every measured day, with the seconds of it the location was open
    select
        measured_days.location_id,
        calendar.local_day::date as local_date,
        business_hours.iso_weekday,
        hours.hour_of_day,
        extract(
            epoch from
            least(
                business_hours.closes_at::time,
                make_time(hours.hour_of_day, 0, 0) + interval '1 hour'
            )
            - greatest(business_hours.opens_at::time, make_time(hours.hour_of_day, 0, 0))
        ) as open_seconds
    from measured_days
    cross join
        lateral generate_series(
            measured_days.first_day, measured_days.last_day, interval '1 day'
        ) as calendar (local_day)
    inner join business_hours
        on
            measured_days.location_id = business_hours.location_id
            and extract(isodow from calendar.local_day) = business_hours.iso_weekday
    cross join lateral generate_series(0, 23) as hours (hour_of_day)
    where
        make_time(hours.hour_of_day, 0, 0) < business_hours.closes_at::time
        and make_time(hours.hour_of_day, 0, 0) + interval '1 hour'
        > business_hours.opens_at::time

),

member_spans as (

    -- each stretch of a queue's member count, in the location's local time
    select
        crosswalk.location_id,
        members_available.available_members,
        members_available.changed_at at time zone locations.timezone as local_start,
        coalesce(members_available.next_changed_at, members_available.changed_at)
        at time zone locations.timezone as local_end
    from members_available
    inner join crosswalk
        on
            crosswalk.system = 'pbx_queue'
            and members_available.pbx_queue = crosswalk.external_id
    inner join locations
        on crosswalk.location_id = locations.location_id

),

members_known as (

    -- locations whose queue logs its members: elsewhere (static members) nobody can say
    -- who was on the phones, and the agents on the phones are unknown, never 0
    select distinct location_id from member_spans

),

agent_seconds as (

    select
        location_id,
        hour_starts.hour_start::date as local_date,
        extract(hour from hour_starts.hour_start)::integer as hour_of_day,
        sum(
            available_members * extract(
                epoch from
                least(local_end, hour_starts.hour_start + interval '1 hour')
                - greatest(local_start, hour_starts.hour_start)
            )
        ) as agent_seconds
    from member_spans
    cross join
        lateral generate_series(
            date_trunc('hour', local_start),
            local_end - interval '1 microsecond',
            interval '1 hour'
        ) as hour_starts (hour_start)
    where available_members > 0
    group by location_id, local_date, hour_of_day

),

calls_per_hour as (

    -- a local hour of a location whose offset is not whole hours is two rows of queue_hours
    select
        location_id,
        local_date,
        hour_of_day,
        sum(offered_calls) as offered_calls,
        sum(first_attempts) as first_attempts,
        sum(abandoned_calls) as abandoned_calls
    from queue_hours
    group by location_id, local_date, hour_of_day

),

per_location as (

    select
        queue_hours.location_id,
        -- the mean talk time of the answered calls
        sum(queue_hours.answered_talk_seconds)
        / nullif(sum(queue_hours.answered_calls_timed), 0) as handle_seconds,
        sum(queue_hours.seconds_in_queue)
        / nullif(sum(queue_hours.abandoned_calls), 0) as patience_seconds,
        sum(queue_hours.abandoned_calls) / sum(queue_hours.offered_calls) as abandoned_share
    from queue_hours
    inner join measured_days
        on
            queue_hours.location_id = measured_days.location_id
            and queue_hours.local_date between measured_days.first_day and measured_days.last_day
    group by queue_hours.location_id

),

staffing_shrink as (

    select
        location_id,
        started_date as local_date,
        started_hour as hour_of_day,
        sum(expected_shrink_usd) as staffing_shrink_usd
    from shrink
    where cause in ('nobody_staffed', 'all_busy', 'long_wait')
    group by location_id, local_date, hour_of_day

),

cells as (

    select
        open_hours.location_id,
        open_hours.iso_weekday,
        open_hours.hour_of_day,
        count(*) as days_measured,
        sum(open_hours.open_seconds) as open_seconds,
        coalesce(sum(calls_per_hour.offered_calls), 0) as offered_calls,
        coalesce(sum(calls_per_hour.first_attempts), 0) as first_attempts,
        coalesce(sum(calls_per_hour.abandoned_calls), 0) as abandoned_calls,
        coalesce(sum(agent_seconds.agent_seconds), 0) as agent_seconds,
        coalesce(sum(staffing_shrink.staffing_shrink_usd), 0) as staffing_shrink_usd
    from open_hours
    left join calls_per_hour
        on
            open_hours.location_id = calls_per_hour.location_id
            and open_hours.local_date = calls_per_hour.local_date
            and open_hours.hour_of_day = calls_per_hour.hour_of_day
    left join agent_seconds
        on
            open_hours.location_id = agent_seconds.location_id
            and open_hours.local_date = agent_seconds.local_date
            and open_hours.hour_of_day = agent_seconds.hour_of_day
    left join staffing_shrink
        on
            open_hours.location_id = staffing_shrink.location_id
            and open_hours.local_date = staffing_shrink.local_date
            and open_hours.hour_of_day = staffing_shrink.hour_of_day
    group by open_hours.location_id, open_hours.iso_weekday, open_hours.hour_of_day

),

rated as (

    select
        cells.*,
        per_location.handle_seconds,
        per_location.patience_seconds,
        per_location.abandoned_share,
        cells.first_attempts * 3600.0 / nullif(cells.open_seconds, 0) as calls_per_hour,
        case
            when members_known.location_id is not null
                then cells.agent_seconds / nullif(cells.open_seconds, 0)
        end as agents_on_phones
    from cells
    inner join per_location
        on cells.location_id = per_location.location_id
    left join members_known
        on cells.location_id = members_known.location_id

),

needed as (

    select
        *,
        {{ erlang_function('erlang_c_agents') }}(
            calls_per_hour, handle_seconds, {{ service_level }}, {{ target_share }}
        ) as agents_needed_erlang_c,
        case
            when patience_seconds is not null
                then {{ erlang_function('erlang_a_agents') }}(
                    calls_per_hour, handle_seconds, patience_seconds,
                    {{ service_level }}, {{ target_share }}
                )
        end as agents_needed_erlang_a,
        abandoned_share >= {{ var('staffing_erlang_a_min_abandon_share') }}
        and patience_seconds is not null as is_abandonment_material
    from rated
    where handle_seconds is not null

),

chosen as (

    select
        *,
        case when is_abandonment_material then 'erlang_a' else 'erlang_c' end as needed_by,
        case
            when is_abandonment_material then agents_needed_erlang_a
            else agents_needed_erlang_c
        end as agents_needed
    from needed

),

final as (

    select
        location_id,
        iso_weekday,
        hour_of_day,
        days_measured,
        offered_calls,
        first_attempts,
        abandoned_calls,
        round(calls_per_hour::numeric, 2) as calls_per_hour,
        round(handle_seconds::numeric, 1) as handle_seconds,
        round(patience_seconds::numeric, 1) as patience_seconds,
        round(agents_on_phones::numeric, 2) as agents_on_phones,
        agents_needed_erlang_c,
        agents_needed_erlang_a,
        needed_by,
        agents_needed,
        -- from the rounded agents, so that the gap is exactly needed minus on the phones
        agents_needed - round(agents_on_phones::numeric, 2) as agent_gap,
        round(staffing_shrink_usd / days_measured, 2) as staffing_shrink_per_week_usd,
        case
            when agents_needed > agents_on_phones
                then round(staffing_shrink_usd / days_measured, 2)
            else 0
        end as shrink_explained_per_week_usd
    from chosen

)

select * from final
