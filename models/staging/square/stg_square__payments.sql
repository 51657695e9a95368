{#- square_customer_id: int_revenue_records finds a changed customer's payments by it -#}
{{ config(
    unique_key='payment_id',
    indexes=[
        {'columns': ['payment_id'], 'unique': True},
        {'columns': ['_loaded_at']},
        {'columns': ['_staged_at']},
        {'columns': ['square_customer_id']},
    ],
    pre_hook="{{ forget_moved_rows(source('square', 'payments')) }}",
) }}

with

source as (

    {{ dedupe_latest(source('square', 'payments'), ['id'], 'updated_at::timestamptz') }}

),

renamed as (

    select
        id as payment_id,
        location_id as square_location_id,
        nullif(customer_id, '') as square_customer_id,
        nullif(order_id, '') as order_id,
        nullif(receipt_number, '') as receipt_number,
        status as payment_status,
        nullif(source_type, '') as source_type,
        created_at::timestamptz as created_at,
        updated_at::timestamptz as updated_at,
        amount_money_currency as currency,
        {{ cents_to_dollars("coalesce(amount_money_amount, '0')") }} as amount_usd,
        {{ cents_to_dollars("coalesce(tip_money_amount, '0')") }} as tip_usd,
        {{ cents_to_dollars("coalesce(total_money_amount, '0')") }} as total_usd,
        {{ cents_to_dollars("coalesce(refunded_money_amount, '0')") }} as refunded_usd,
        status = 'COMPLETED' as is_completed,
        _source_file,
        _line_number,
        _file_sha256,
        _loaded_at,
        _staged_at

    from source

)

select * from renamed
