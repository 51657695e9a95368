{#- One row per day, the time spine MetricFlow joins metrics to. -#}
with

days as (

    select generate_series(
        date '2020-01-01', date '2035-12-31', interval '1 day'
    )::date as date_day

),

final as (

    select date_day from days

)

select * from final
