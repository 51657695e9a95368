{#
    Finance's tie-out of a month per record type, every location (and deals no call placed)
    together: the total rows of `callshrink export finance`. The monthly tie-out summed over
    locations, so the month's total is the sum of its days (revenue_date is the location-local
    day, as there).
#}
with

monthly as (

    select * from {{ ref('revenue_reconciliation_monthly') }}

),

final as (

    select
        revenue_month,
        record_type,
        sum(source_records)::bigint as source_records,
        sum(attributed_records)::bigint as attributed_records,
        sum(source_usd)::numeric(18, 2) as source_usd,
        sum(attributed_usd)::numeric(18, 2) as attributed_usd,
        sum(unattributed_usd)::numeric(18, 2) as unattributed_usd
    from monthly
    group by revenue_month, record_type

)

select * from final
