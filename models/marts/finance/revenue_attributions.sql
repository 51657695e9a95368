{#
    One row per revenue record (COMPLETED payment or refund, closed-won deal), attributed to at
    most one call by the rule of docs/metrics.md: the latest answered inbound call from the same E.164
    number before it, within `attribution_window_days`, at the same location when the record's
    location is known (payments and refunds; a deal's is not). A refund follows its payment.
    The rule that made each attribution is on the row, and every row traces to its source
    record id, file and line. Amounts stay positive; signed_amount_usd subtracts refunds.

    The calls are read from int_calls_classified, not marts.calls: the same calls (one row of
    calls for each) with the caller's number in clear, so a record's number is compared as
    it is, not hashed into a caller_key first, and the attribution builds beside the later
    call models instead of after calls and its tests (the longest path of a day's run).

    Incremental by record: a run attributes again
    - the records int_revenue_records wrote since this model's last build (`_built_at`);
    - every revenue record from the call cutoff's UTC day on (macros/incremental_window.sql):
      only a call from the cutoff on can have changed (a new call, one re-stitched or gone),
      and such a call takes records after it only;
    - the refunds of those payments, and the payments of those refunds (a refund follows
      its payment).
    The pre-hook deletes the records that left int_revenue_records or stopped being revenue
    (`forget_revenue_records`, macros/revenue_changes.sql). The calls of the rows a build
    deletes or replaces are logged (`logs_attribution_changes`), for call_conversions. A
    changed location time zone reaches the records attributed after it; `callshrink run
    --full-refresh` applies it to every record. A full build hashes every answered call once
    (3.0 s at 3.75 million calls against 5.9 s looked up by the caller's number once per
    record, a nested loop the hook keeps the planner from); an incremental build reads the calls of its few records'
    numbers by int_calls_classified's index on the number, and hashes those. (With nested
    loops allowed, the planner, which cannot count the records a build takes, joined them
    to their matches row by row: 189 s for 49 thousand records.)
#}
{{ config(
    logs_attribution_changes=true,
    pre_hook=[
        "set local enable_nestloop = off",
        "{{ forget_revenue_records(ref('int_revenue_records')) }}",
    ],
) }}
{%- set window_days = var('attribution_window_days') %}
{%- set since = last_build_time() if is_incremental() else none %}
{#- the filters an incremental build adds (below); a full build has `true` in their place -#}
{%- set attributed_again_only =
    'record_id = any(array(select again.record_id from attributed_again as again))'
    ~ ' and (record_type, record_id) in'
    ~ ' (select again.record_type, again.record_id from attributed_again as again)' %}
{%- set records_numbers_only =
    'caller_phone_e164 = any(array(select distinct wanted.phone_e164 from records as wanted'
    ~ ' where wanted.phone_e164 is not null))' %}

with

{%- if is_incremental() %}

    all_records as not materialized (

        select * from {{ ref('int_revenue_records') }}

    ),

    -- the records this build attributes again (above)
    touched_records as (

        select
            record_type,
            record_id,
            payment_id
        from all_records
        where _built_at > {{ since }}
        union
        select
            record_type,
            record_id,
            payment_id
        from all_records
        where {{ in_call_window('occurred_at', grain='day') }} and is_revenue

    ),

    -- and the refunds of their payments, and the payments of their refunds
    attributed_again as (

        select
            record_type,
            record_id
        from touched_records
        union
        select
            all_records.record_type,
            all_records.record_id
        from all_records
        where
            all_records.record_type = 'refund'
            and all_records.payment_id
            = any(array(select touched.payment_id from touched_records as touched))
        union
        select
            'payment' as record_type,
            payment_id as record_id
        from touched_records
        where record_type = 'refund' and payment_id is not null

    ),
{%- endif %}

-- read twice (the matches, every record): in a full build not materialized, so that each
-- read can be parallel; a materialised copy of every record kept the whole attribution on
-- one process (3.6 s against 2.7 at 3.9 million calls). An incremental build's few records
-- are read once, and three times from the copy.
records as {{ 'materialized' if is_incremental() else 'not materialized' }} (

    select * from {{ ref('int_revenue_records') }}
    where
        is_revenue
        -- an incremental build: the records attributed again (by the index on record_id)
        and {{ attributed_again_only if is_incremental() else 'true' }}

),

classified_calls as (

    select * from {{ ref('int_calls_classified') }}

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
    from classified_calls
    -- an outbound call (a callback) has no outcome: answered is an inbound call's
    where
        outcome = 'answered' and caller_phone_e164 is not null
        -- an incremental build: the calls of the records' numbers, by the index on the
        -- number (with every join hashed, the hook, the other calls are not read)
        and {{ records_numbers_only if is_incremental() else 'true' }}

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
        -- the contract's type: an incremental build compares its new rows' types with the
        -- table's
        placed.amount_usd::numeric(18, 2) as amount_usd,
        case
            when placed.record_type = 'refund' then -placed.amount_usd
            else placed.amount_usd
        end::numeric(18, 2) as signed_amount_usd,
        placed.call_id is not null as is_attributed,
        placed.call_id,
        placed.call_location_id,
        placed.attribution_rule,
        {{ window_days }} as attribution_window_days,
        placed.phone_e164 is not null as has_phone,
        placed.source_status,
        placed.source_file,
        placed.source_line_number,
        {{ build_time() }} as _built_at
    from placed
    left join locations
        on placed.revenue_location_id = locations.location_id

)

select * from final
