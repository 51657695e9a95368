{#
    Each call's caller in clear, next to the keyed hash the marts carry in its place: the one
    place a caller's full number is kept for people (the callback list, a finance reconciliation
    that must dial or match a number). The app's role cannot read this schema. Incremental
    from the cutoff only: a call's number does not change with the calls after it.
#}
{{ config(post_hook=["{{ grant_to_restricted_role() }}"]) }}

with

followed_up_calls as (

    select * from {{ ref('int_calls_followed_up') }}
    where {{ in_call_window('started_at') }}

),

final as (

    select
        call_id,
        started_date_utc,
        location_id,
        direction,
        started_at,
        caller_phone_e164,
        {{ caller_key('caller_phone_e164') }} as caller_key
    from followed_up_calls

)

select * from final
