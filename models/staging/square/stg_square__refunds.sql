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
        _loaded_at

    from source

)

select * from renamed
