{#
    Attribution neither loses nor doubles a revenue record: per record type and UTC day, the
    attributions mart holds exactly the count and the amount of the revenue records straight
    from staging (COMPLETED payments and refunds, closed-won deals that are not archived).
#}

-- a check of revenue_attributions in Dagster (it reads several models)
{{ config(meta={'dagster': {'ref': {'name': 'revenue_attributions'}}}) }}

with

payments as (

    select * from {{ ref('stg_square__payments') }}

),

refunds as (

    select * from {{ ref('stg_square__refunds') }}

),

deals as (

    select * from {{ ref('stg_hubspot__deals') }}

),

attributions as (

    select * from {{ ref('revenue_attributions') }}

),

source_records as (

    select
        'payment' as record_type,
        created_at as occurred_at,
        amount_usd
    from payments
    where is_completed
    union all
    select
        'refund' as record_type,
        created_at as occurred_at,
        amount_usd
    from refunds
    where is_completed
    union all
    select
        'deal' as record_type,
        closed_at as occurred_at,
        coalesce(amount_usd, 0) as amount_usd
    from deals
    where is_closed_won and not is_archived

),

source_days as (

    select
        record_type,
        (occurred_at at time zone 'UTC')::date as day_utc,
        count(*) as record_count,
        sum(amount_usd) as amount_usd
    from source_records
    group by record_type, (occurred_at at time zone 'UTC')::date

),

mart_days as (

    select
        record_type,
        (occurred_at at time zone 'UTC')::date as day_utc,
        count(*) as record_count,
        sum(amount_usd) as amount_usd
    from attributions
    group by record_type, (occurred_at at time zone 'UTC')::date

)

select
    coalesce(source_days.record_type, mart_days.record_type) as record_type,
    coalesce(source_days.day_utc, mart_days.day_utc) as day_utc,
    source_days.record_count as source_records,
    mart_days.record_count as mart_records,
    source_days.amount_usd as source_usd,
    mart_days.amount_usd as mart_usd
from source_days
full outer join mart_days
    on
        source_days.record_type = mart_days.record_type
        and source_days.day_utc = mart_days.day_utc
where
    source_days.record_count is distinct from mart_days.record_count
    or source_days.amount_usd is distinct from mart_days.amount_usd
