{#
    One row per conversion-eligible call: an answered inbound call that is not a repeat call
    (no inbound, not-spam call from the caller in the 24 h before it; docs/metrics.md, Money). Its
    attributed net revenue (payments - refunds + won deals attributed to it) says whether it
    converted (net revenue > 0) and for how much. The base of conversion_rate,
    value_per_answered_call_usd and of the conversion cells that value missed calls. A call is
    mature when it started var conversion_maturity_days or more before the newest revenue
    record: its sale, if any, has had time to arrive.
#}
with

calls as (

    select * from {{ ref('calls') }}

),

-- read twice (the newest record, each call's revenue): not materialized, so that neither
-- read copies every attribution first and each can be parallel
attributions as not materialized (

    select * from {{ ref('revenue_attributions') }}

),

eligible_calls as (

    select
        call_id,
        location_id,
        region,
        marketing_source,
        marketing_campaign,
        caller_type,
        started_at,
        started_at_local,
        started_date,
        started_hour
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

final as (

    select
        eligible_calls.*,
        coalesce(call_revenue.net_revenue_usd, 0)::numeric(18, 2) as net_revenue_usd,
        coalesce(call_revenue.net_revenue_usd, 0) > 0 as is_converted,
        case
            when call_revenue.net_revenue_usd > 0 then call_revenue.net_revenue_usd
            else 0
        end::numeric(18, 2) as converted_value_usd,
        coalesce(call_revenue.revenue_records, 0)::integer as revenue_records,
        coalesce(
            eligible_calls.started_at
            <= newest_revenue.newest_revenue_at
            - interval '{{ var("conversion_maturity_days") }} days',
            false
        ) as is_mature
    from eligible_calls
    cross join newest_revenue
    left join call_revenue
        on eligible_calls.call_id = call_revenue.call_id

)

select * from final
