{#
    The monthly tie-out of every closed month, as finance closed it: what the snapshot
    revenue_month_snapshots records. A month is closed once the newest revenue day in the
    warehouse is `month_close_days` past its last day. The clock is the data's, not the wall's:
    a backfill of last year's exports must not close every month on its first, partial load,
    and a rebuild gives the same months closed whatever the day it runs.
    The grid holds every location (and deals no call placed) x record type of a closed month,
    zeros included, so revenue arriving late where there was none is a change from 0, not a
    new row.
#}
{%- set close_days = var('month_close_days') %}

with

monthly as (

    select * from {{ ref('revenue_reconciliation_monthly') }}

),

attributions as (

    select * from {{ ref('revenue_attributions') }}

),

locations as (

    select * from {{ ref('dim_locations') }}

),

newest_day as (

    select max(revenue_date) as newest_revenue_date
    from attributions

),

closed_months as (

    select distinct monthly.revenue_month
    from monthly
    cross join newest_day
    where
        (monthly.revenue_month + interval '1 month' - interval '1 day')::date
        + {{ close_days }}
        <= newest_day.newest_revenue_date

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
