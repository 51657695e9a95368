{#
    One row per call (inbound, and outbound callbacks), the base of every call metric. The
    flags here are the metric definitions of docs/metrics.md applied to one call, so that each
    metric of the semantic model is a plain sum or mean over this table. Incremental: the
    calls from the cutoff and the older calls whose follow-ups int_calls_followed_up rewrote
    since this model's last build (in_rewritten_calls). Each row carries the time of the
    build that wrote it (`_built_at`): the tests read those rows (macros/get_where_subquery.sql).
#}
{{ config(rewrites_older_calls=true) }}
{%- set service_level = var('service_level_seconds') %}
{%- set formula = var('service_level_formula') | int %}
{%- if formula not in [1, 2, 3, 4] %}
    {{ exceptions.raise_compiler_error(
        "var service_level_formula must be 1, 2, 3 or 4 (ICMI), got " ~ formula
    ) }}
{%- endif %}

with

followed_up_calls as (

    select * from {{ ref('int_calls_followed_up') }}
    where {{ in_rewritten_calls() }}

),

measured as (

    select
        *,
        outcome = 'answered' and queue_wait_seconds is not null as is_queue_answered,
        outcome = 'abandoned' and queue_wait_seconds is not null as is_queue_abandoned
    from followed_up_calls

),

final as (

    select
        call_id,
        started_date_utc,
        callrail_call_id,
        pbx_call_id,
        location_id,
        region,
        direction,
        started_at,
        started_at_local,
        started_at_local::date as started_date,
        extract(hour from started_at_local)::integer as started_hour,
        answered_at,
        ended_at,
        {{ caller_key('caller_phone_e164') }} as caller_key,
        {{ mask_phone('caller_phone_e164') }} as caller_masked,
        dialled_phone_e164,
        caller_type,
        coalesce(marketing_source, 'untracked') as marketing_source,
        marketing_medium,
        marketing_campaign,
        outcome,
        coalesce(outcome = 'answered', false) as is_answered,
        is_answer_rate_eligible,
        is_missed_opportunity,
        is_connected,
        is_during_open_hours,
        is_spam,
        has_voicemail,
        wait_seconds,
        queue_wait_seconds,
        case when is_queue_answered then queue_wait_seconds end as speed_of_answer_seconds,
        hold_seconds,
        ring_seconds,
        talk_seconds,
        coalesce(leg_count, 1) as resolution_path_length,
        coalesce(transfer_count, 0) as transfer_count,
        coalesce(transfer_count, 0) > 0 as is_transferred,
        coalesce(is_escalated, false) as is_escalated,
        coalesce(
            {%- if formula == 2 %}
                is_queue_answered
            {%- elif formula == 4 %}
                is_queue_answered
                or (is_queue_abandoned and queue_wait_seconds > {{ service_level }})
            {%- else %}
                is_queue_answered or is_queue_abandoned
            {%- endif %}, false
        ) as counts_in_service_level,
        coalesce(
            {%- if formula == 3 %}
                (is_queue_answered or is_queue_abandoned)
                and queue_wait_seconds <= {{ service_level }}
            {%- else %}
                is_queue_answered and queue_wait_seconds <= {{ service_level }}
            {%- endif %}, false
        ) as meets_service_level,
        is_recovered,
        recovered_by_call_id,
        recovered_at,
        case recovered_by_direction
            when 'outbound' then 'callback'
            when 'inbound' then 'retry'
        end as recovered_by,
        minutes_to_recovery::numeric(12, 2) as minutes_to_recovery,
        repeat_contacts_24h,
        is_repeat_24h,
        is_repeat_7d,
        is_abandoned_then_retried,
        is_repeat_call,
        is_first_unanswered_attempt,
        is_unanswered_recovered,
        customer_effort_events,
        is_compliant,
        is_location_from_earlier_call,
        has_pbx_record,
        has_callrail_record,
        stitch_gap_seconds::numeric(12, 3) as stitch_gap_seconds,
        {{ build_time() }} as _built_at
    from measured

)

select * from final
