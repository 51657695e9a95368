{#
    One row per revenue record (COMPLETED payment or refund, closed-won deal), attributed to at
    most one call by the rule of docs/metrics.md: the latest answered inbound call from the same E.164
    number before it, within `attribution_window_days`, at the same location when the record's
    location is known (payments and refunds; a deal's is not). A refund follows its payment.
    The rule that made each attribution is on the row, and every row traces to its source
    record id, file and line. Amounts stay positive; signed_amount_usd subtracts refunds.

    The calls are read from int_calls_followed_up, not marts.calls: the same calls (one row of
    calls for each) with the caller's number in clear, so a record's number is compared as
    it is, not hashed into a caller_key first, and the attribution builds beside calls
    instead of after it and its tests (the longest path of a day's run). The planner takes
    the records CTE for a few thousand rows: the hook keeps it from looking the calls up once
    per record (a nested loop; by an index on the number, 5.9 s at 3.75 million calls
    against 3.0 s for one hash join).
#}
{{ config(pre_hook=["set local enable_nestloop = off"]) }}
{%- set window_days = var('attribution_window_days') %}

with

-- read twice (the matches, every record): not materialized, so that each read can be
-- parallel; a materialised copy of every record kept the whole attribution on one process
-- (3.6 s against 2.7 at 3.9 million calls)
records as not materialized (

    select * from {{ ref('int_revenue_records') }}
    where is_revenue

),

followed_up_calls as (

    select * from {{ ref('int_calls_followed_up') }}

),

locations as (

    select * from {{ ref('dim_locations') }}

),

answered_calls as (

    select
        call_id,
        location_id,
        started_at,
        caller_phone_e164
    from followed_up_calls
    -- an outbound call (a callback) has no outcome: answered is an inbound call's
    where outcome = 'answered' and caller_phone_e164 is not null

),

call_matches as (

    select distinct on (records.record_type, records.record_id)
        records.record_type,
        records.record_id,
        answered_calls.call_id,
        answered_calls.location_id as call_location_id,
        case
            when records.location_id is not null
                then 'same_number_same_location_{{ window_days }}d'
            else 'same_number_any_location_{{ window_days }}d'
        end as attribution_rule
    from records
    inner join answered_calls
        on
            records.phone_e164 = answered_calls.caller_phone_e164
            and records.occurred_at > answered_calls.started_at
            and records.occurred_at
            <= answered_calls.started_at + interval '{{ window_days }} days'
            and (
                records.location_id is null
                or records.location_id = answered_calls.location_id
            )
    where records.record_type in ('payment', 'deal')
    order by
        records.record_type asc,
        records.record_id asc,
        answered_calls.started_at desc,
        answered_calls.call_id desc

),

payment_calls as (

    select
        record_id as payment_id,
        call_id,
        call_location_id
    from call_matches
    where record_type = 'payment'

),

attributed as (

    select
        records.*,
        coalesce(call_matches.call_id, payment_calls.call_id) as call_id,
        coalesce(call_matches.call_location_id, payment_calls.call_location_id)
            as call_location_id,
        case
            when call_matches.call_id is not null then call_matches.attribution_rule
            when payment_calls.call_id is not null then 'refund_follows_payment'
            else 'unattributed'
        end as attribution_rule
    from records
    left join call_matches
        on
            records.record_type = call_matches.record_type
            and records.record_id = call_matches.record_id
    left join payment_calls
        on
            records.record_type = 'refund'
            and records.payment_id = payment_calls.payment_id

),

placed as (

    -- a deal has no location of its own: it is placed at its call's, else nowhere
    select
        *,
        coalesce(location_id, call_location_id) as revenue_location_id
    from attributed

),

final as (

    select
        placed.record_type,
        placed.record_id,
        placed.payment_id,
        placed.occurred_at,
        placed.revenue_location_id as location_id,
        -- the location's own calendar day; a record with no location, its UTC day
        (placed.occurred_at at time zone coalesce(locations.timezone, 'UTC'))::date
            as revenue_date,
        placed.amount_usd,
        case
            when placed.record_type = 'refund' then -placed.amount_usd
            else placed.amount_usd
        end as signed_amount_usd,
        placed.call_id is not null as is_attributed,
        placed.call_id,
        placed.call_location_id,
        placed.attribution_rule,
        {{ window_days }} as attribution_window_days,
        placed.phone_e164 is not null as has_phone,
        placed.source_status,
        placed.source_file,
        placed.source_line_number
    from placed
    left join locations
        on placed.revenue_location_id = locations.location_id

)

select * from final
