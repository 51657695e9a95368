{#- The 24 hours of a local day, labelled for charts and grouped into dayparts. -#}
with

hours as (

    select generate_series(0, 23) as hour_of_day

),

final as (

    select
        hour_of_day,
        lpad(hour_of_day::text, 2, '0') || ':00' as hour_label,
        case
            when hour_of_day < 6 then 'night'
            when hour_of_day < 12 then 'morning'
            when hour_of_day < 17 then 'afternoon'
            when hour_of_day < 21 then 'evening'
            else 'night'
        end as daypart
    from hours

)

select * from final
