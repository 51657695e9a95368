{#- One row per calendar day of the time spine, with the calendar attributes reports group by. -#}
with

days as (

    select date_day from {{ ref('metricflow_time_spine') }}

),

final as (

    select
        date_day,
        date_trunc('week', date_day)::date as week_start,
        date_trunc('month', date_day)::date as month_start,
        to_char(date_day, 'YYYY-MM') as calendar_month,
        extract(year from date_day)::integer as calendar_year,
        extract(quarter from date_day)::integer as calendar_quarter,
        extract(isodow from date_day)::integer as iso_weekday,
        trim(to_char(date_day, 'Day')) as weekday_name,
        extract(isodow from date_day) in (6, 7) as is_weekend
    from days

)

select * from final
