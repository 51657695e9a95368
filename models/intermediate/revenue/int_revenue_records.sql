{#
    Every payment, refund and deal of the sources in one shape: when it happened, its amount,
    whether it is revenue (COMPLETED payments and refunds, closed-won deals), the location
    when the source knows it, and the phone that reaches the caller. A payment has no phone:
    it reaches the caller through its Square customer; a refund through its payment; a deal
    through its first associated HubSpot contact (phone, else mobile phone).

    Incremental by record (macros/revenue_changes.sql): a run rewrites the records that
    changed since its last build, and each row carries the time of the build that wrote it
    (`_built_at`), for revenue_attributions and for the tests; revenue_attributions also
    reads the records by their time and the refunds by their payment (the indexes). A
    changed square_location row of the location crosswalk reaches the records written after
    it; `callshrink run --full-refresh` applies it to every record.
#}
{{ config(
    indexes=[
        {'columns': ['record_id']},
        {'columns': ['_built_at']},
        {'columns': ['occurred_at']},
        {'columns': ['payment_id']},
    ],
    pre_hook="{{ forget_revenue_records() }}",
) }}
{#- the rows staged since this model's last build began; the rows moved into the quarantine
    since its invocation began (macros/revenue_changes.sql) -#}
{%- set staged_since = last_build_began() if is_incremental() else none %}
{%- set since = last_build_time() if is_incremental() else none %}

-- each staged table is read more than once (the changed records, then their rows): not
-- materialized, so that each read takes its index instead of a copy of the whole table
with

payments as not materialized (

    select * from {{ ref('stg_square__payments') }}

),

refunds as not materialized (

    select * from {{ ref('stg_square__refunds') }}

),

customers as not materialized (

    select * from {{ ref('stg_square__customers') }}

),

deals as not materialized (

    select * from {{ ref('stg_hubspot__deals') }}

),

contacts as not materialized (

    select * from {{ ref('stg_hubspot__contacts') }}

),

{%- if is_incremental() %}

    -- the records this build rewrites (macros/revenue_changes.sql). `= any(array(...))`
    -- probes the staged tables' indexes once per changed key: the planner has no estimate of
    -- a CTE's rows, and with `in (select ...)` it scans and hashes the whole table instead
    changed_customers as (

        select square_customer_id from customers
        where _staged_at > {{ staged_since }}
        union
        {{ moved_record_ids('square', 'customers', since) }}

    ),

    changed_payments as (

        select payment_id from payments
        where _staged_at > {{ staged_since }}
        union
        select payments.payment_id from payments
        where
            payments.square_customer_id
            = any(array(select changed.square_customer_id from changed_customers as changed))
        union
        {{ moved_record_ids('square', 'payments', since) }}

    ),

    changed_refunds as (

        select refund_id from refunds
        where
            _staged_at > {{ staged_since }}
            or payment_id in (select changed.payment_id from changed_payments as changed)
        union
        {{ moved_record_ids('square', 'refunds', since) }}

    ),

    -- the payments the build reads: the changed ones, and those of the changed refunds (the
    -- refund's location and phone when it has none of its own)
    read_payments as (

        select payment_id from changed_payments
        union
        select refunds.payment_id from refunds
        where
            refunds.refund_id
            = any(array(select changed.refund_id from changed_refunds as changed))

    ),

    changed_contacts as (

        select hubspot_contact_id from contacts
        where _staged_at > {{ staged_since }}
        union
        {{ moved_record_ids('hubspot', 'contacts', since) }}

    ),

    changed_deals as (

        select hubspot_deal_id from deals
        where
            _staged_at > {{ staged_since }}
            or primary_hubspot_contact_id in (
                select changed.hubspot_contact_id from changed_contacts as changed
            )
        union
        {{ moved_record_ids('hubspot', 'deals', since) }}

    ),
{%- endif %}

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
    {%- if is_incremental() %}
        where
            payments.payment_id
            = any(array(select wanted.payment_id from read_payments as wanted))
    {%- endif %}

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
    {%- if is_incremental() %}
        where
            refunds.refund_id = any(array(select changed.refund_id from changed_refunds as changed))
    {%- endif %}

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
    {%- if is_incremental() %}
        where
            deals.hubspot_deal_id
            = any(array(select changed.hubspot_deal_id from changed_deals as changed))
    {%- endif %}

),

final as (

    select
        *,
        {{ build_time() }} as _built_at
    from payment_records
    {%- if is_incremental() %}
        where payment_id in (select changed.payment_id from changed_payments as changed)
    {%- endif %}
    union all
    select
        *,
        {{ build_time() }} as _built_at
    from refund_records
    union all
    select
        *,
        {{ build_time() }} as _built_at
    from deal_records

)

select * from final
