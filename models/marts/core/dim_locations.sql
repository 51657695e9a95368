with

locations as (

    select * from {{ ref('locations') }}

),

final as (

    select
        location_id,
        location_name,
        region,
        timezone,
        opened_on
    from locations

)

select * from final
