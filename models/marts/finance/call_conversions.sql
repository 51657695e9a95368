{#
    One row per conversion-eligible call: an answered inbound call that is not a repeat call
    (no inbound, not-spam call from the caller in the 24 h before it; docs/metrics.md, Money). Its
    attributed net revenue (payments - refunds + won deals attributed to it) says whether it
    converted (net revenue > 0) and for how much. The base of conversion_rate,
    value_per_answered_call_usd and of the conversion cells that value missed calls. A call is
    mature when it started var conversion_maturity_days or more before the newest revenue
    record: its sale, if any, has had time to arrive.

    Incremental like the call marts (in_rewritten_calls): a build writes the calls calls
    rewrote since its last one, and rewrites the other calls it holds whose figures changed:
    a record attributed to or away from them, or the newest revenue moving past their
    maturity. Those are found by comparing each call's row with the attributions' sums, a
    read of the attributions and of this table's few columns instead of every call's.
#}
{{ config(
    materialized='incremental',
    incremental_strategy='delete+insert',
    unique_key='call_id',
    on_schema_change='fail',
    rewrites_older_calls=true,
    post_hook=["{{ record_call_model_build() }}", "{{ create_missing_indexes() }}"],
) }}
{%- set maturity = "interval '" ~ var('conversion_maturity_days') ~ " days'" %}
{%- set eligible_columns = [
    'call_id', 'location_id', 'region', 'marketing_source', 'marketing_campaign',
    'caller_type', 'started_at', 'started_at_local', 'started_date', 'started_hour'] %}

with

-- read twice (the eligible calls, the calls not to take from this table): each read takes
-- calls' index ranges instead of one copy of every column
calls as not materialized (

    select * from {{ ref('calls') }}
    where {{ in_rewritten_calls(stamped=true) }}

),

-- read twice (the newest record, each call's revenue): not materialized, so that neither
-- read copies every attribution first and each can be parallel
attributions as not materialized (

    select * from {{ ref('revenue_attributions') }}

),

eligible_calls as (

    select {{ eligible_columns | join(', ') }}
    from calls
    where is_answered and not is_repeat_call

),

newest_revenue as (

    select max(occurred_at) as newest_revenue_at
    from attributions

),

call_revenue as (

    select
        call_id,
        sum(signed_amount_usd) as net_revenue_usd,
        count(*) as revenue_records
    from attributions
    where is_attributed
    group by call_id

),

{%- if is_incremental() %}

    -- the calls built before and not rewritten above whose revenue or maturity changed
    kept_calls as (

        select {{ 'kept.' ~ eligible_columns | join(', kept.') }}
        from {{ this }} as kept
        cross join newest_revenue
        left join call_revenue
            on kept.call_id = call_revenue.call_id
        where
            kept.call_id not in (select rewritten.call_id from calls as rewritten)
            and not ({{ in_call_window('kept.started_at') }})
            and (
                kept.net_revenue_usd <> coalesce(call_revenue.net_revenue_usd, 0)
                or kept.revenue_records <> coalesce(call_revenue.revenue_records, 0)
                or kept.is_mature <> coalesce(
                    kept.started_at <= newest_revenue.newest_revenue_at - {{ maturity }}, false
                )
            )

    ),
{%- endif %}

written_calls as (

    select * from eligible_calls
    {%- if is_incremental() %}
        union all
        select * from kept_calls
    {%- endif %}

),

final as (

    select
        written_calls.*,
        coalesce(call_revenue.net_revenue_usd, 0)::numeric(18, 2) as net_revenue_usd,
        coalesce(call_revenue.net_revenue_usd, 0) > 0 as is_converted,
        case
            when call_revenue.net_revenue_usd > 0 then call_revenue.net_revenue_usd
            else 0
        end::numeric(18, 2) as converted_value_usd,
        coalesce(call_revenue.revenue_records, 0)::integer as revenue_records,
        coalesce(
            written_calls.started_at <= newest_revenue.newest_revenue_at - {{ maturity }},
            false
        ) as is_mature,
        {{ build_time() }} as _built_at
    from written_calls
    cross join newest_revenue
    left join call_revenue
        on written_calls.call_id = call_revenue.call_id

)

select * from final
