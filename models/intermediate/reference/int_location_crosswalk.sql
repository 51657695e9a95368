{#
    The reference location_crosswalk with its phone numbers (tracking numbers, dialled numbers)
    in E.164, so each call model looks a location up with an equality join.
#}
{{ config(materialized='view') }}

with

crosswalk as (

    select * from {{ ref('location_crosswalk') }}

),

final as (

    select
        system,
        case
            when system in ('callrail_tracking_number', 'pbx_did')
                then {{ phone_to_e164('external_id') }}
            else external_id
        end as external_id,
        location_id
    from crosswalk

)

select * from final
