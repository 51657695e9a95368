with

classified_calls as (

    select * from {{ ref('int_calls_classified') }}

),

final as (

    select
        call_id,
        callrail_call_id,
        pbx_call_id,
        location_id,
        region,
        direction,
        started_at,
        started_at_local,
        started_at_local::date as started_date,
        extract(hour from started_at_local)::integer as started_hour,
        caller_phone_e164,
        dialled_phone_e164,
        coalesce(marketing_source, 'untracked') as marketing_source,
        marketing_medium,
        marketing_campaign,
        outcome,
        outcome = 'answered' as is_answered,
        coalesce(outcome in ('answered', 'voicemail', 'abandoned', 'missed'), false)
            as is_answer_rate_eligible,
        coalesce(outcome in ('voicemail', 'abandoned', 'missed'), false)
            as is_missed_opportunity,
        is_during_open_hours,
        is_spam,
        wait_seconds,
        hold_seconds,
        talk_seconds,
        coalesce(leg_count, 1) as leg_count,
        coalesce(transfer_count, 0) as transfer_count,
        coalesce(is_escalated, false) as is_escalated,
        has_pbx_record,
        has_callrail_record,
        stitch_gap_seconds
    from classified_calls

)

select * from final
