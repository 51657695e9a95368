{#
    One row per missed opportunity (voicemail, abandoned or missed in open hours): who was
    left waiting (the caller's number masked but for its country code and last four digits),
    for how long, and whether and when the business got them back. Incremental like calls
    (in_rewritten_calls), each row with the time of the build that wrote it.
#}
{{ config(
    rewrites_older_calls=true,
    indexes=[
        {'columns': ['started_date_utc']},
        {'columns': ['started_at']},
        {'columns': ['_built_at']},
    ],
) }}
with

calls as (

    select * from {{ ref('calls') }}
    where {{ in_rewritten_calls(stamped=true) }}

),

final as (

    select
        call_id,
        started_date_utc,
        location_id,
        region,
        started_at,
        started_at_local,
        started_date,
        started_hour,
        caller_masked,
        caller_type,
        marketing_source,
        marketing_campaign,
        outcome,
        wait_seconds,
        has_voicemail,
        is_recovered,
        recovered_by,
        recovered_at,
        minutes_to_recovery,
        {{ build_time() }} as _built_at
    from calls
    where is_missed_opportunity

)

select * from final
