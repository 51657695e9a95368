{#- HubSpot re-exports a deal each time it changes: the latest updatedAt wins. -#}
{{ config(
    unique_key='hubspot_deal_id',
    indexes=[
        {'columns': ['hubspot_deal_id'], 'unique': True},
        {'columns': ['_loaded_at']},
        {'columns': ['_staged_at']},
    ],
    pre_hook="{{ forget_moved_rows(source('hubspot', 'deals')) }}",
) }}

with

source as (

    {{ dedupe_latest(source('hubspot', 'deals'), ['id'], 'updated_at::timestamptz') }}

),

renamed as (

    select
        id as hubspot_deal_id,
        nullif(dealname, '') as deal_name,
        nullif(dealstage, '') as deal_stage,
        nullif(pipeline, '') as pipeline,
        amount::numeric(18, 2) as amount_usd,
        closedate::timestamptz as closed_at,
        createdate::timestamptz as deal_created_at,
        coalesce(hs_is_closed_won::boolean, false) as is_closed_won,
        coalesce(contact_associations::jsonb, '[]'::jsonb) as contact_associations,
        (contact_associations::jsonb -> 0 ->> 'id') as primary_hubspot_contact_id,
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
