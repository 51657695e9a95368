{#
    One row per call: a CallRail record and a PBX call are the same call when the caller and
    the direction match, they start within `stitch_tolerance_seconds`, and nothing they know
    says otherwise: their locations (CallRail's company or tracking number, the PBX's dialled
    number or queue, through the crosswalk) must match when both are known; where one is not,
    their dialled numbers must match when both are known; where neither can be compared
    (a PBX that wrote no dialled number and a crosswalk that cannot place it), caller and start
    decide. So stitching never depends on the PBX writing the dialled number in dst.
    Each side is paired with its nearest partner, and a pair is kept only when each is the
    other's nearest, so no record is ever used twice. Records left unpaired because their
    nearest partner was taken try again with the partners still free, in a second and a third
    round (a caller who rings twice within the tolerance). Calls seen by one system only are
    kept. A PBX group that is no call (an internal call, an attended transfer's consult) never
    reaches this model.
    Incremental by day: each round's choice can look two tolerances away, so the inputs reach
    that much further back, for each of the three rounds, than the calls written.
#}
{%- set stitch_margin = "interval '" ~ (6 * var('stitch_tolerance_seconds')) ~ " seconds'" %}

with

callrail_records as (

    select * from {{ ref('stg_callrail__calls') }}
    where {{ in_call_window('started_at', margin=stitch_margin) }}

),

pbx_calls as (

    select * from {{ ref('int_pbx_calls_grouped') }}
    where
        direction in ('inbound', 'outbound')
        and parent_pbx_call_id is null
        and {{ in_call_window('started_at', margin=stitch_margin) }}

),

crosswalk as (

    select * from {{ ref('int_location_crosswalk') }}

),

callrail_calls as (

    select
        callrail_records.*,
        coalesce(by_company.location_id, by_tracking_number.location_id) as location_id
    from callrail_records
    left join crosswalk as by_company
        on
            by_company.system = 'callrail_company'
            and callrail_records.callrail_company_id = by_company.external_id
    left join crosswalk as by_tracking_number
        on
            by_tracking_number.system = 'callrail_tracking_number'
            and callrail_records.tracking_phone_e164 = by_tracking_number.external_id

),

candidates as (

    select
        callrail_calls.callrail_call_id,
        pbx_calls.pbx_call_id,
        abs(extract(epoch from pbx_calls.started_at - callrail_calls.started_at)) as gap_seconds
    from callrail_calls
    inner join pbx_calls
        on
            callrail_calls.caller_phone_e164 = pbx_calls.caller_phone_e164
            and callrail_calls.direction = pbx_calls.direction
            and pbx_calls.started_at between
            callrail_calls.started_at - interval '{{ var("stitch_tolerance_seconds") }} seconds'
            and callrail_calls.started_at + interval '{{ var("stitch_tolerance_seconds") }} seconds'
    where
        case
            when callrail_calls.location_id is not null and pbx_calls.location_id is not null
                then callrail_calls.location_id = pbx_calls.location_id
            when
                callrail_calls.business_phone_e164 is not null
                and pbx_calls.dialled_phone_e164 is not null
                then callrail_calls.business_phone_e164 = pbx_calls.dialled_phone_e164
            else true
        end

),

first_round as (

    {{ mutual_nearest_pairs('candidates') }}

),

second_round as (

    select * from first_round
    union all
    {{ mutual_nearest_pairs('candidates', taken='first_round') }}

),

matches as (

    select * from second_round
    union all
    {{ mutual_nearest_pairs('candidates', taken='second_round') }}

),

stitched as (

    select
        coalesce(pbx_calls.pbx_call_id, 'callrail:' || callrail_calls.callrail_call_id)
            as call_id,
        callrail_calls.callrail_call_id,
        pbx_calls.pbx_call_id,
        pbx_calls.pbx_id,
        matches.gap_seconds as stitch_gap_seconds,
        coalesce(pbx_calls.started_at, callrail_calls.started_at) as started_at,
        coalesce(pbx_calls.direction, callrail_calls.direction) as direction,
        coalesce(pbx_calls.caller_phone_e164, callrail_calls.caller_phone_e164)
            as caller_phone_e164,
        coalesce(pbx_calls.dialled_phone_e164, callrail_calls.business_phone_e164)
            as dialled_phone_e164,
        callrail_calls.callrail_company_id,
        callrail_calls.location_id as callrail_location_id,
        pbx_calls.location_id as pbx_location_id,
        pbx_calls.dialled_phone_e164 as pbx_dialled_phone_e164,
        callrail_calls.tracking_phone_e164,
        callrail_calls.marketing_source,
        callrail_calls.marketing_medium,
        callrail_calls.marketing_campaign,
        callrail_calls.is_first_call as callrail_is_first_call,
        callrail_calls.call_type as callrail_call_type,
        callrail_calls.is_answered as callrail_is_answered,
        callrail_calls.is_voicemail as callrail_is_voicemail,
        callrail_calls.duration_seconds as callrail_duration_seconds,
        coalesce(callrail_calls.is_tagged_spam, false) as is_tagged_spam,
        pbx_calls.first_queue_name,
        pbx_calls.has_queue_events,
        pbx_calls.exited_queue_at,
        pbx_calls.leg_count,
        pbx_calls.is_person_answered,
        pbx_calls.answered_at,
        pbx_calls.ended_at,
        pbx_calls.reached_voicemail,
        pbx_calls.ring_no_answer_legs,
        pbx_calls.is_escalated,
        pbx_calls.hold_seconds,
        pbx_calls.exit_wait_seconds,
        pbx_calls.ring_seconds,
        pbx_calls.talk_seconds,
        pbx_calls.duration_seconds as pbx_duration_seconds,
        pbx_calls.is_abandoned_in_queue,
        pbx_calls.is_timed_out,
        pbx_calls.is_rung_out,
        pbx_calls.transfer_count,
        pbx_calls.pbx_call_id is not null as has_pbx_record,
        callrail_calls.callrail_call_id is not null as has_callrail_record
    from matches
    full outer join callrail_calls
        on matches.callrail_call_id = callrail_calls.callrail_call_id
    full outer join pbx_calls
        on matches.pbx_call_id = pbx_calls.pbx_call_id

),

final as (

    select
        *,
        (started_at at time zone 'UTC')::date as started_date_utc
    from stitched
    where {{ in_call_window('started_at') }}

)

select * from final
