{#
    The whole period ties out, per record type: the daily and the monthly tie-outs and the
    month totals finance exports hold the same records and dollars as the attributions, and
    source = attributed + unattributed on the totals too (the row identities imply it only if
    the roll-ups lose no row).
#}

-- a check of revenue_reconciliation in Dagster (it reads several models)
{{ config(meta={'dagster': {'ref': {'name': 'revenue_reconciliation'}}}) }}

with

attributions as (

    select * from {{ ref('revenue_attributions') }}

),

daily as (

    select * from {{ ref('revenue_reconciliation') }}

),

monthly as (

    select * from {{ ref('revenue_reconciliation_monthly') }}

),

month_totals as (

    select * from {{ ref('revenue_reconciliation_totals') }}

),

totals as (

    select
        'attributions' as figures_from,
        record_type,
        count(*) as source_records,
        sum(amount_usd) as source_usd,
        coalesce(sum(amount_usd) filter (where is_attributed), 0) as attributed_usd,
        coalesce(sum(amount_usd) filter (where not is_attributed), 0) as unattributed_usd
    from attributions
    group by record_type
    union all
    select
        'daily' as figures_from,
        record_type,
        sum(source_records) as source_records,
        sum(source_usd) as source_usd,
        sum(attributed_usd) as attributed_usd,
        sum(unattributed_usd) as unattributed_usd
    from daily
    group by record_type
    union all
    select
        'monthly' as figures_from,
        record_type,
        sum(source_records) as source_records,
        sum(source_usd) as source_usd,
        sum(attributed_usd) as attributed_usd,
        sum(unattributed_usd) as unattributed_usd
    from monthly
    group by record_type
    union all
    select
        'month_totals' as figures_from,
        record_type,
        sum(source_records) as source_records,
        sum(source_usd) as source_usd,
        sum(attributed_usd) as attributed_usd,
        sum(unattributed_usd) as unattributed_usd
    from month_totals
    group by record_type

),

expected as (

    select * from totals
    where figures_from = 'attributions'

)

select
    totals.figures_from,
    totals.record_type,
    totals.source_records,
    expected.source_records as expected_source_records,
    totals.source_usd,
    expected.source_usd as expected_source_usd,
    totals.attributed_usd,
    totals.unattributed_usd
from totals
full outer join expected
    on totals.record_type = expected.record_type
where
    totals.source_records is distinct from expected.source_records
    or totals.source_usd is distinct from expected.source_usd
    or totals.attributed_usd is distinct from expected.attributed_usd
    or totals.unattributed_usd is distinct from expected.unattributed_usd
    or totals.source_usd is distinct from totals.attributed_usd + totals.unattributed_usd
