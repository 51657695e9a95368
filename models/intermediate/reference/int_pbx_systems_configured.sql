{#
    One row per PBX of the reference pbx_systems with how the warehouse reads it (docs/pbx.md):
    the channel patterns that tell a phone from a trunk and where an inbound call's dialled
    number comes from. A column left empty in the seed takes the project default (vars
    pbx_phone_channel_pattern, pbx_trunk_channel_pattern, pbx_dialled_number_from), so a PBX
    laid out like FreePBX or a plain dialplan needs no configuration.
#}
{{ config(materialized='view') }}

with

pbx_systems as (

    select * from {{ ref('pbx_systems') }}

),

final as (

    select
        pbx_id,
        timezone,
        coalesce(
            nullif(trim(phone_channel_pattern), ''), '{{ var("pbx_phone_channel_pattern") }}'
        ) as phone_channel_pattern,
        -- null: every channel that is not a phone or PBX-internal is a trunk
        nullif(
            coalesce(
                nullif(trim(trunk_channel_pattern), ''),
                '{{ var("pbx_trunk_channel_pattern") }}'
            ),
            ''
        ) as trunk_channel_pattern,
        lower(
            coalesce(
                nullif(trim(dialled_number_from), ''), '{{ var("pbx_dialled_number_from") }}'
            )
        ) as dialled_number_from,
        coalesce(
            nullif(trim(phone_channel_pattern), ''),
            nullif(trim(trunk_channel_pattern), ''),
            nullif(trim(dialled_number_from), '')
        ) is null as uses_defaults
    from pbx_systems

)

select * from final
