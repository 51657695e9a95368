{#- HubSpot re-exports a contact each time it changes: the latest updatedAt wins. -#}
{{ config(
    unique_key='hubspot_contact_id',
    indexes=[
        {'columns': ['hubspot_contact_id'], 'unique': True},
        {'columns': ['_loaded_at']},
        {'columns': ['_staged_at']},
    ],
    pre_hook="{{ forget_moved_rows(source('hubspot', 'contacts')) }}",
) }}

with

source as (

    {{ dedupe_latest(source('hubspot', 'contacts'), ['id'], 'updated_at::timestamptz') }}

),

renamed as (

    select
        id as hubspot_contact_id,
        nullif(firstname, '') as first_name,
        nullif(lastname, '') as last_name,
        {{ phone_to_e164('phone') }} as phone_e164,
        {{ phone_to_e164('mobilephone') }} as mobile_phone_e164,
        nullif(lower(email), '') as email,
        createdate::timestamptz as contact_created_at,
        nullif(lifecyclestage, '') as lifecycle_stage,
        nullif(hs_lead_status, '') as lead_status,
        created_at::timestamptz as created_at,
        updated_at::timestamptz as updated_at,
        coalesce(archived::boolean, false) as is_archived,
        _source_file,
        _line_number,
        _file_sha256,
        _loaded_at,
        _staged_at

    from source

)

select * from renamed
