{#
    Each call gets its location, whether the location was open, whether it is spam, and
    exactly one outcome of docs/metrics.md. Precedence: spam, then after_hours, then what happened.
    Where the PBX saw the call, the PBX decides (CallRail marks calls "answered" as soon as the
    PBX's queue picks up the trunk); where no PBX record was stitched (a location without a
    PBX), CallRail decides. A call the crosswalk cannot place has no opening hours to check:
    it is classified by what happened, never as after_hours.
    A PBX callback (outbound) dials out from an agent extension, which the crosswalk does not
    know: it belongs to the location of the same caller's latest inbound call before it,
    within `callback_location_days`. So the model reads that many days of inbound calls before
    the ones it writes (their caller, start and location).
    Indexed by caller and start besides the call models' day and start: int_calls_followed_up
    looks up each call's earlier calls from the same number in it.
#}
{{ config(
    indexes=[
        {'columns': ['started_date_utc']},
        {'columns': ['started_at']},
        {'columns': ['caller_phone_e164', 'started_at']},
    ],
) }}
with

calls as (

    select * from {{ ref('int_calls_stitched') }}
    where {{ in_call_window('started_at') }}

),

-- the inbound calls a callback written here may take its location from: the only calls read
-- from before the days written, in the three columns used
earlier_inbound_calls as (

    select
        caller_phone_e164,
        started_at,
        coalesce(callrail_location_id, pbx_location_id) as crosswalk_location_id
    from {{ ref('int_calls_stitched') }}
    where
        direction = 'inbound'
        and coalesce(callrail_location_id, pbx_location_id) is not null
        and {{ in_call_window(
            'started_at', margin="interval '" ~ var('callback_location_days') ~ " days'"
        ) }}

),

locations as (

    select * from {{ ref('locations') }}

),

business_hours as (

    select * from {{ ref('business_hours') }}

),

located as (

    select
        *,
        -- CallRail's company or tracking number, else where the PBX placed the call (its
        -- dialled number, else its queue)
        coalesce(callrail_location_id, pbx_location_id) as crosswalk_location_id
    from calls

),

callback_locations as (

    select distinct on (callbacks.call_id)
        callbacks.call_id,
        earlier.crosswalk_location_id as location_id
    from located as callbacks
    inner join earlier_inbound_calls as earlier
        on
            callbacks.caller_phone_e164 = earlier.caller_phone_e164
            and callbacks.started_at > earlier.started_at
            and callbacks.started_at
            <= earlier.started_at + interval '{{ var("callback_location_days") }} days'
    where
        callbacks.direction = 'outbound'
        and callbacks.crosswalk_location_id is null
    order by callbacks.call_id asc, earlier.started_at desc

),

localized as (

    select
        located.*,
        coalesce(located.crosswalk_location_id, callback_locations.location_id)
            as location_id,
        callback_locations.location_id is not null as is_location_from_earlier_call
    from located
    left join callback_locations
        on located.call_id = callback_locations.call_id

),

timed as (

    select
        localized.*,
        locations.region,
        locations.timezone as location_timezone,
        coalesce(locations.forward_ring_seconds, {{ var('forward_ring_seconds') }})
            as forward_ring_seconds,
        (localized.started_at at time zone locations.timezone) as started_at_local
    from localized
    left join locations
        on localized.location_id = locations.location_id

),

opening as (

    -- a join on the day (business_hours holds at most one row per location and weekday: its
    -- unique test), not an exists subquery: the subquery worked out the call's local time
    -- again for every row of business_hours it read, per call (13 of the model's 17 seconds
    -- for half a million calls). A missing day, or no location's hours, is closed.
    select
        timed.*,
        case
            when timed.location_id is not null
                then coalesce(
                    timed.started_at_local::time >= business_hours.opens_at::time
                    and timed.started_at_local::time < business_hours.closes_at::time,
                    false
                )
        end as is_during_open_hours
    from timed
    left join business_hours
        on
            timed.location_id = business_hours.location_id
            and extract(isodow from timed.started_at_local)::integer
            = business_hours.iso_weekday

),

classified as (

    select
        *,
        -- spam: tagged in CallRail, or an inbound caller id that is no phone number at all
        (is_tagged_spam or (direction = 'inbound' and caller_phone_e164 is null)) as is_spam,
        coalesce(reached_voicemail, callrail_is_voicemail, false) as has_voicemail,
        -- how long the caller waited, from the start of the call, before a person answered
        -- or the call ended unanswered (a PBX greeting included); unknown for a call CallRail
        -- alone saw answered
        case
            when direction <> 'inbound' then null
            when has_pbx_record and is_person_answered
                then extract(epoch from answered_at - started_at)::integer
            when has_pbx_record
                then extract(epoch from coalesce(exited_queue_at, ended_at) - started_at)::integer
            when not coalesce(callrail_is_answered, false) then callrail_duration_seconds
        end as wait_seconds,
        -- the queue's own clock (queue_log CONNECT holdtime, ABANDON / EXIT* waittime), for
        -- the calls that entered a PBX queue
        case
            when direction <> 'inbound' then null
            when has_queue_events and is_person_answered then hold_seconds
            when has_queue_events then exit_wait_seconds
        end as queue_wait_seconds
    from opening

),

final as (

    select
        *,
        -- the wait the service standard judges (customer effort, compliance): the queue's
        -- clock where a queue saw the call, else the caller's
        coalesce(queue_wait_seconds, wait_seconds) as service_wait_seconds,
        case
            when direction <> 'inbound' then null
            when is_spam then 'spam'
            when not is_during_open_hours then 'after_hours'  -- null (no location): open
            when has_pbx_record
                then
                    case
                        when is_person_answered then 'answered'
                        when reached_voicemail then 'voicemail'
                        when is_timed_out or is_rung_out then 'missed'
                        when wait_seconds < {{ var('short_abandon_seconds') }}
                            then 'short_abandon'
                        else 'abandoned'
                    end
            else
                -- METRICS' outcomes, not CallRail's 15-second rule: the caller who hung up
                -- while the forwarded phone still rang abandoned; a call that rang until the
                -- phone's voicemail or greeting took it, with no message detected, was missed
                case
                    when callrail_is_voicemail then 'voicemail'
                    when callrail_is_answered then 'answered'
                    when wait_seconds < {{ var('short_abandon_seconds') }}
                        then 'short_abandon'
                    when wait_seconds < forward_ring_seconds then 'abandoned'
                    else 'missed'
                end
        end as outcome
    from classified

)

select * from final
