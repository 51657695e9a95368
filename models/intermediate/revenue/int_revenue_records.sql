{#
    Every payment, refund and deal of the sources in one shape: when it happened, its amount,
    whether it is revenue (COMPLETED payments and refunds, closed-won deals), the location
    when the source knows it, and the phone that reaches the caller. A payment has no phone:
    it reaches the caller through its Square customer; a refund through its payment; a deal
    through its first associated HubSpot contact (phone, else mobile phone).
#}
with

payments as (

    select * from {{ ref('stg_square__payments') }}

),

refunds as (

    select * from {{ ref('stg_square__refunds') }}

),

customers as (

    select * from {{ ref('stg_square__customers') }}

),

deals as (

    select * from {{ ref('stg_hubspot__deals') }}

),

contacts as (

    select * from {{ ref('stg_hubspot__contacts') }}

),

square_locations as (

    select
        external_id as square_location_id,
        location_id
    from {{ ref('location_crosswalk') }}
    where system = 'square_location'

),

payment_records as (

    select
        'payment' as record_type,
        payments.payment_id as record_id,
        payments.payment_id,
        payments.created_at as occurred_at,
        payments.amount_usd,
        payments.payment_status as source_status,
        payments.is_completed as is_revenue,
        square_locations.location_id,
        customers.phone_e164,
        payments._source_file as source_file,
        payments._line_number as source_line_number
    from payments
    left join customers
        on payments.square_customer_id = customers.square_customer_id
    left join square_locations
        on payments.square_location_id = square_locations.square_location_id

),

refund_records as (

    select
        'refund' as record_type,
        refunds.refund_id as record_id,
        refunds.payment_id,
        refunds.created_at as occurred_at,
        refunds.amount_usd,
        refunds.refund_status as source_status,
        refunds.is_completed as is_revenue,
        coalesce(square_locations.location_id, payment_records.location_id) as location_id,
        payment_records.phone_e164,
        refunds._source_file as source_file,
        refunds._line_number as source_line_number
    from refunds
    left join payment_records
        on refunds.payment_id = payment_records.payment_id
    left join square_locations
        on refunds.square_location_id = square_locations.square_location_id

),

deal_records as (

    select
        'deal' as record_type,
        deals.hubspot_deal_id as record_id,
        null::text as payment_id,
        deals.closed_at as occurred_at,
        coalesce(deals.amount_usd, 0) as amount_usd,
        deals.deal_stage as source_status,
        deals.is_closed_won and not deals.is_archived as is_revenue,
        null::text as location_id,
        coalesce(contacts.phone_e164, contacts.mobile_phone_e164) as phone_e164,
        deals._source_file as source_file,
        deals._line_number as source_line_number
    from deals
    left join contacts
        on deals.primary_hubspot_contact_id = contacts.hubspot_contact_id

),

final as (

    select * from payment_records
    union all
    select * from refund_records
    union all
    select * from deal_records

)

select * from final
