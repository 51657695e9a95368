{#
    Every month with revenue and whether finance has closed it: the month-closing rule, once.
    A month is closed once the newest revenue day in the warehouse is `month_close_days` past
    its last day. The clock is the data's, not the wall's: a backfill of last year's exports
    must not close every month on its first, partial load, and a rebuild closes the same
    months whatever the day it runs.
#}
{%- set close_days = var('month_close_days') %}

with

monthly as (

    select * from {{ ref('revenue_reconciliation_monthly') }}

),

attributions as (

    select * from {{ ref('revenue_attributions') }}

),

newest_day as (

    select max(revenue_date) as newest_revenue_date
    from attributions

),

months as (

    select distinct
        revenue_month,
        (revenue_month + interval '1 month' - interval '1 day')::date
        + {{ close_days }} as closes_on
    from monthly

),

final as (

    select
        months.revenue_month,
        months.closes_on,
        months.closes_on <= newest_day.newest_revenue_date as is_closed
    from months
    cross join newest_day

)

select * from final
