{#
    Finance's daily tie-out, per location (null: deals no call placed) and revenue record
    type: revenue in the source = revenue attributed to calls + revenue not attributed, to the
    cent. Amounts are positive (a refund row holds refunds); net revenue is payments - refunds
    + deals.
#}
with

attributions as (

    select * from {{ ref('revenue_attributions') }}

),

final as (

    select
        location_id,
        revenue_date,
        record_type,
        count(*) as source_records,
        count(*) filter (where is_attributed) as attributed_records,
        sum(amount_usd)::numeric(18, 2) as source_usd,
        coalesce(sum(amount_usd) filter (where is_attributed), 0)::numeric(18, 2)
            as attributed_usd,
        coalesce(sum(amount_usd) filter (where not is_attributed), 0)::numeric(18, 2)
            as unattributed_usd
    from attributions
    group by location_id, revenue_date, record_type

)

select * from final
