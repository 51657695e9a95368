{{ config(
    unique_key='refund_id',
    indexes=[
        {'columns': ['refund_id'], 'unique': True},
        {'columns': ['_loaded_at']},
        {'columns': ['_staged_at']},
    ],
    pre_hook="{{ forget_moved_rows(source('square', 'refunds')) }}",
) }}

with

source as (

    {{ dedupe_latest(source('square', 'refunds'), ['id'], 'updated_at::timestamptz') }}

),

renamed as (

    select
        id as refund_id,
        payment_id,
        nullif(location_id, '') as square_location_id,
        status as refund_status,
        created_at::timestamptz as created_at,
        updated_at::timestamptz as updated_at,
        amount_money_currency as currency,
        {{ cents_to_dollars("coalesce(amount_money_amount, '0')") }} as amount_usd,
        status = 'COMPLETED' as is_completed,
        _source_file,
        _line_number,
        _file_sha256,
        _loaded_at,
        _staged_at

    from source

)

select * from renamed
