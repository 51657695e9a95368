{#
    Finance's restatement report: every closed month whose figures changed after it closed, per
    location (null: deals no call placed) x record type, with the figures as closed (the first
    version in revenue_month_snapshots), as they are now (the current version), the differences,
    and when the warehouse first saw the current figures. A month that never changed has no
    row, so the report is empty when nothing was restated.
#}
with

snapshots as (

    select * from {{ ref('revenue_month_snapshots') }}

),

versions as (

    select
        *,
        row_number() over (partition by month_key order by dbt_valid_from asc)
            as version_number,
        count(*) over (partition by month_key) as version_count
    from snapshots

),

as_closed as (

    select * from versions
    where version_number = 1

),

current_figures as (

    select * from versions
    where dbt_valid_to is null

),

final as (

    select
        current_figures.location_id,
        current_figures.revenue_month,
        current_figures.record_type,
        as_closed.dbt_valid_from as closed_at,
        current_figures.dbt_valid_from as restated_at,
        current_figures.version_count - 1 as restatements,
        as_closed.source_records::bigint as closed_source_records,
        current_figures.source_records::bigint as current_source_records,
        as_closed.source_usd::numeric(18, 2) as closed_source_usd,
        current_figures.source_usd::numeric(18, 2) as current_source_usd,
        (current_figures.source_usd - as_closed.source_usd)::numeric(18, 2)
            as source_usd_change,
        as_closed.attributed_usd::numeric(18, 2) as closed_attributed_usd,
        current_figures.attributed_usd::numeric(18, 2) as current_attributed_usd,
        (current_figures.attributed_usd - as_closed.attributed_usd)::numeric(18, 2)
            as attributed_usd_change,
        as_closed.unattributed_usd::numeric(18, 2) as closed_unattributed_usd,
        current_figures.unattributed_usd::numeric(18, 2) as current_unattributed_usd,
        (current_figures.unattributed_usd - as_closed.unattributed_usd)::numeric(18, 2)
            as unattributed_usd_change
    from current_figures
    inner join as_closed
        on current_figures.month_key = as_closed.month_key
    where
        current_figures.source_records <> as_closed.source_records
        or current_figures.attributed_records <> as_closed.attributed_records
        or current_figures.source_usd <> as_closed.source_usd
        or current_figures.attributed_usd <> as_closed.attributed_usd
        or current_figures.unattributed_usd <> as_closed.unattributed_usd

)

select * from final
