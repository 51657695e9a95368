{#
    Each call gets its location, whether the location was open, whether it is spam, and
    exactly one outcome of METRICS.md. Precedence: spam, then after_hours, then what happened.
    Where the PBX saw the call, the PBX decides (CallRail marks calls "answered" as soon as the
    PBX's queue picks up the trunk); where no PBX record was stitched (a location without a
    PBX), CallRail decides. A call the crosswalk cannot place has no opening hours to check:
    it is classified by what happened, never as after_hours.
    A PBX callback (outbound) dials out from an agent extension, which the crosswalk does not
    know: it belongs to the location of the same caller's latest inbound call before it,
    within `callback_location_days`. So the model reads that many days of calls before the
    ones it writes.
#}
with

calls as (

    select * from {{ ref('int_calls_stitched') }}
    where {{ in_call_window(
        'started_at', margin="interval '" ~ var('callback_location_days') ~ " days'"
    ) }}

),

crosswalk as (

    select
        system,
        case
            when system in ('callrail_tracking_number', 'pbx_did')
                then {{ phone_to_e164('external_id') }}
            else external_id
        end as external_id,
        location_id
    from {{ ref('location_crosswalk') }}

),

locations as (

    select * from {{ ref('locations') }}

),

business_hours as (

    select * from {{ ref('business_hours') }}

),

located as (

    select
        calls.*,
        coalesce(
            by_company.location_id,
            by_tracking_number.location_id,
            by_did.location_id,
            by_queue.location_id
        ) as crosswalk_location_id
    from calls
    left join crosswalk as by_company
        on
            by_company.system = 'callrail_company'
            and calls.callrail_company_id = by_company.external_id
    left join crosswalk as by_tracking_number
        on
            by_tracking_number.system = 'callrail_tracking_number'
            and calls.tracking_phone_e164 = by_tracking_number.external_id
    left join crosswalk as by_did
        on
            by_did.system = 'pbx_did'
            and calls.dialled_phone_e164 = by_did.external_id
    left join crosswalk as by_queue
        on
            by_queue.system = 'pbx_queue'
            and calls.pbx_id || ':' || calls.first_queue_name = by_queue.external_id

),

callback_locations as (

    select distinct on (callbacks.call_id)
        callbacks.call_id,
        earlier.crosswalk_location_id as location_id
    from located as callbacks
    inner join located as earlier
        on
            callbacks.caller_phone_e164 = earlier.caller_phone_e164
            and callbacks.started_at > earlier.started_at
            and callbacks.started_at
            <= earlier.started_at + interval '{{ var("callback_location_days") }} days'
    where
        callbacks.direction = 'outbound'
        and callbacks.crosswalk_location_id is null
        and {{ in_call_window('callbacks.started_at') }}
        and earlier.direction = 'inbound'
        and earlier.crosswalk_location_id is not null
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
    where {{ in_call_window('located.started_at') }}

),

timed as (

    select
        localized.*,
        locations.region,
        locations.timezone as location_timezone,
        (localized.started_at at time zone locations.timezone) as started_at_local
    from localized
    left join locations
        on localized.location_id = locations.location_id

),

opening as (

    select
        *,
        case
            when location_id is not null
                then exists (
                    select 1
                    from business_hours
                    where
                        business_hours.location_id = timed.location_id
                        and business_hours.iso_weekday
                        = extract(isodow from timed.started_at_local)::integer
                        and timed.started_at_local::time >= business_hours.opens_at::time
                        and timed.started_at_local::time < business_hours.closes_at::time
                )
        end as is_during_open_hours
    from timed

),

classified as (

    select
        *,
        -- spam: tagged in CallRail, or an inbound caller id that is no phone number at all
        (is_tagged_spam or (direction = 'inbound' and caller_phone_e164 is null)) as is_spam,
        coalesce(reached_voicemail, callrail_is_voicemail, false) as has_voicemail,
        -- how long the caller waited before a person answered, or before the call ended
        -- unanswered; unknown for a call CallRail alone saw answered
        case
            when has_pbx_record and is_person_answered
                then coalesce(
                    hold_seconds, extract(epoch from answered_at - started_at)::integer
                )
            when has_pbx_record then coalesce(exit_wait_seconds, pbx_duration_seconds)
            when not coalesce(callrail_is_answered, false) then callrail_duration_seconds
        end as wait_seconds
    from opening

),

final as (

    select
        *,
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
                case
                    when callrail_is_voicemail then 'voicemail'
                    when callrail_is_answered then 'answered'
                    when wait_seconds < {{ var('short_abandon_seconds') }}
                        then 'short_abandon'
                    when callrail_call_type = 'abandoned' then 'abandoned'
                    else 'missed'
                end
        end as outcome
    from classified

)

select * from final
