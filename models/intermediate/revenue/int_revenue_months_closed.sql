{#
    The monthly tie-out of every closed month, as finance closed it: what the snapshot
    revenue_month_snapshots records. Which months are closed is the rule of the mart
    revenue_months (the newest revenue day in the warehouse is `month_close_days` past the
    month's last day; the clock is the data's, not the wall's), read here, never restated.
    The grid holds every location (and deals no call placed) x record type of a closed month,
    zeros included, so revenue arriving late where there was none is a change from 0, not a
    new row.
#}
with

monthly as (

    select * from {{ ref('revenue_reconciliation_monthly') }}

),

revenue_months as (

    select * from {{ ref('revenue_months') }}

),

locations as (

    select * from {{ ref('dim_locations') }}

),

closed_months as (

    select revenue_month
    from revenue_months
    where is_closed

),

places as (

    select location_id from locations
    union all
    select null as location_id

),

record_types as (

    select record_type
    from (values ('payment'), ('refund'), ('deal')) as type_values (record_type)

),

grid as (

    select
        places.location_id,
        closed_months.revenue_month,
        record_types.record_type
    from closed_months
    cross join places
    cross join record_types

),

final as (

    select
        coalesce(grid.location_id, 'unplaced')
        || '|' || grid.revenue_month::text
        || '|' || grid.record_type as month_key,
        grid.location_id,
        grid.revenue_month,
        grid.record_type,
        coalesce(monthly.source_records, 0) as source_records,
        coalesce(monthly.attributed_records, 0) as attributed_records,
        coalesce(monthly.source_usd, 0) as source_usd,
        coalesce(monthly.attributed_usd, 0) as attributed_usd,
        coalesce(monthly.unattributed_usd, 0) as unattributed_usd
    from grid
    left join monthly
        on
            grid.location_id is not distinct from monthly.location_id
            and grid.revenue_month = monthly.revenue_month
            and grid.record_type = monthly.record_type

)

select * from final
