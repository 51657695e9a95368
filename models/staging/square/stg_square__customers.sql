{{ config(
    unique_key='square_customer_id',
    indexes=[
        {'columns': ['square_customer_id'], 'unique': True},
        {'columns': ['_loaded_at']},
        {'columns': ['_staged_at']},
    ],
    pre_hook="{{ forget_moved_rows(source('square', 'customers')) }}",
) }}

with

source as (

    {{ dedupe_latest(source('square', 'customers'), ['id'], 'updated_at::timestamptz') }}

),

renamed as (

    select
        id as square_customer_id,
        nullif(given_name, '') as given_name,
        nullif(family_name, '') as family_name,
        {{ phone_to_e164('phone_number') }} as phone_e164,
        nullif(phone_number, '') as phone_raw,
        nullif(lower(email_address), '') as email,
        created_at::timestamptz as created_at,
        updated_at::timestamptz as updated_at,
        _source_file,
        _line_number,
        _file_sha256,
        _loaded_at,
        _staged_at

    from source

)

select * from renamed
