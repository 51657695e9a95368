{#- The daily tie-out rolled up to calendar months (the location's months). -#}
with

daily as (

    select * from {{ ref('revenue_reconciliation') }}

),

final as (

    select
        location_id,
        date_trunc('month', revenue_date)::date as revenue_month,
        record_type,
        sum(source_records)::bigint as source_records,
        sum(attributed_records)::bigint as attributed_records,
        sum(source_usd)::numeric(18, 2) as source_usd,
        sum(attributed_usd)::numeric(18, 2) as attributed_usd,
        sum(unattributed_usd)::numeric(18, 2) as unattributed_usd
    from daily
    group by location_id, date_trunc('month', revenue_date)::date, record_type

)

select * from final
