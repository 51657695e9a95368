{#
    Each call gets its location, whether the location was open, whether it is spam, and
    exactly one outcome of METRICS.md. Precedence: spam, then after_hours, then what happened.
    Where the PBX saw the call, the PBX decides (CallRail marks calls "answered" as soon as the
    PBX's queue picks up the trunk); at a location without a PBX, CallRail decides.
#}
with

calls as (

    select * from {{ ref('int_calls_stitched') }}

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
        ) as location_id
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

localized as (

    select
        located.*,
        locations.region,
        locations.timezone as location_timezone,
        (located.started_at at time zone locations.timezone) as started_at_local
    from located
    left join locations
        on located.location_id = locations.location_id

),

opening as (

    select
        *,
        exists(
            select 1
            from business_hours
            where
                business_hours.location_id = localized.location_id
                and business_hours.iso_weekday
                = extract(isodow from localized.started_at_local)::integer
                and localized.started_at_local::time >= business_hours.opens_at::time
                and localized.started_at_local::time < business_hours.closes_at::time
        ) as is_during_open_hours
    from localized

),

classified as (

    select
        *,
        -- spam: tagged in CallRail, or an inbound caller id that is no phone number at all
        (is_tagged_spam or (direction = 'inbound' and caller_phone_e164 is null)) as is_spam,
        case
            when has_pbx_record then pbx_wait_seconds
            else callrail_duration_seconds
        end as wait_seconds
    from opening

),

final as (

    select
        *,
        case
            when direction <> 'inbound' then null
            when is_spam then 'spam'
            when not is_during_open_hours then 'after_hours'
            when has_pbx_record
                then
                    case
                        when is_agent_answered then 'answered'
                        when reached_voicemail then 'voicemail'
                        when is_timed_out then 'missed'
                        when coalesce(wait_seconds, 0) < {{ var('short_abandon_seconds') }}
                            then 'short_abandon'
                        else 'abandoned'
                    end
            else
                case
                    when callrail_is_voicemail then 'voicemail'
                    when callrail_is_answered then 'answered'
                    when coalesce(wait_seconds, 0) < {{ var('short_abandon_seconds') }}
                        then 'short_abandon'
                    when callrail_call_type = 'abandoned' then 'abandoned'
                    else 'missed'
                end
        end as outcome
    from classified

)

select * from final
