{#
    The quarantined revenue lines (revenue_left_out) a month's export counts beside its
    totals, per record type: the lines of the month, and every line whose month cannot be
    read, since such a line may belong to any month. Dollars are the USD amounts the lines
    show (null when none shows one): a line in another currency is counted, not added.
    One row per record type for each month the warehouse knows (a month with revenue, or
    with a quarantined line of its own) that has such lines, and one with revenue_month null:
    the undated lines alone, which are what any other month has left out.
#}
with

left_out as (

    select * from {{ ref('revenue_left_out') }}

),

monthly as (

    select * from {{ ref('revenue_reconciliation_monthly') }}

),

months as (

    select revenue_month from monthly
    union
    select record_month as revenue_month from left_out
    where record_month is not null
    union
    -- null: any month not listed
    select null::date as revenue_month

),

final as (

    select
        months.revenue_month,
        left_out.record_type,
        count(*) as left_out_records,
        count(*) filter (where left_out.record_month is null) as undated_records,
        sum(left_out.amount) filter (where left_out.currency = 'USD')::numeric(18, 2)
            as left_out_usd
    from months
    inner join left_out
        on
            months.revenue_month = left_out.record_month
            or left_out.record_month is null
    group by months.revenue_month, left_out.record_type

)

select * from final
