{#
    One row per call that missed-call shrink may value (docs/metrics.md, Money): an inbound
    call left unanswered that was a missed opportunity (voicemail, abandoned or missed in open
    hours) or came after hours. Each carries its root cause (macros/shrink_cause.sql), the id
    of its conversion cell (macros/conversion_cell_id.sql), and the two follow-up flags that
    decide whether it is valued: it heads its chain of unanswered attempts, and nobody reached
    the caller within var recovery_window_hours. marts.missed_call_shrink values the calls
    that head their chain unrecovered, at their cell's current figures.

    Which calls are here depends on each call alone, not on its follow-ups, so the model is
    incremental like calls (in_rewritten_calls): a day's build writes the day's calls and the
    older ones whose follow-ups were rewritten, each with the time of the build that wrote it.
    The cells, measured on every conversion-eligible call, change with every day's revenue;
    they are joined when missed_call_shrink is read, so that a day does not rewrite every
    valued call of the history.
#}
{{ config(
    rewrites_older_calls=true,
    indexes=[
        {'columns': ['started_date_utc']},
        {'columns': ['started_at']},
        {'columns': ['_built_at']},
        {'columns': ["date_trunc('day', started_at_local)"]},
    ],
) }}
with

calls as (

    select * from {{ ref('calls') }}
    where {{ in_rewritten_calls(stamped=true) }}

),

-- the queue stays of those calls: a call enters its queue after it starts, and the older
-- calls rewritten for their follow-ups started at most followup_days() before the cutoff
stays as (

    select * from {{ ref('int_pbx_queue_entries') }}
    where {{ in_call_window('started_at', extra_days=followup_days()) }}

),

unanswered_calls as (

    select
        *,
        case
            when is_missed_opportunity then 'missed_opportunity'
            else 'after_hours'
        end as category
    from calls
    where is_missed_opportunity or outcome = 'after_hours'

),

final as (

    select
        unanswered_calls.call_id,
        unanswered_calls.started_date_utc,
        unanswered_calls.category,
        {{ shrink_cause() }} as cause,
        unanswered_calls.outcome,
        unanswered_calls.location_id,
        unanswered_calls.region,
        unanswered_calls.started_at,
        unanswered_calls.started_at_local,
        unanswered_calls.started_date,
        unanswered_calls.started_hour,
        unanswered_calls.marketing_source,
        unanswered_calls.marketing_campaign,
        unanswered_calls.caller_type,
        {{ conversion_cell_id(
            'unanswered_calls.location_id',
            'unanswered_calls.marketing_source',
            'unanswered_calls.caller_type'
        ) }} as cell_id,
        unanswered_calls.is_first_unanswered_attempt,
        unanswered_calls.is_unanswered_recovered,
        {{ build_time() }} as _built_at
    from unanswered_calls
    left join stays
        on unanswered_calls.pbx_call_id = stays.pbx_call_id

)

select * from final
