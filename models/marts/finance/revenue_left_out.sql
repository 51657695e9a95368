{#
    Money finance's tie-out cannot see: every line of the Square payment and refund files and
    the HubSpot deal files the loader kept in quarantine (a record it could not read, or one
    that breaks a rule: a negative amount, another currency), with what can be read of it.
    The line may be broken, so each field is read by pattern from its text, not parsed: the
    record id, the amount and its currency (a payment's or refund's amount_money in cents, a
    deal's amount), and the record's month (of a deal's close date, else of the created date;
    UTC). Patterns that cannot fail: a value out of range reads as null, never an error.
    A line none of that can be read from still counts, with nulls.
#}
with

quarantined as (

    select * from {{ ref('stg_loader__quarantined_lines') }}
    where raw_table in ('square_payments', 'square_refunds', 'hubspot_deals')

),

read as (

    select
        source_file,
        line_number,
        reason,
        case raw_table
            when 'square_payments' then 'payment'
            when 'square_refunds' then 'refund'
            else 'deal'
        end as record_type,
        substring(raw_text from '"id"\s*:\s*"([^"]+)"') as record_id,
        case
            when raw_table = 'hubspot_deals'
                then substring(
                    raw_text from '"amount"\s*:\s*"(-?[0-9]{1,15}(\.[0-9]{1,2})?)"'
                )::numeric
            else
                substring(
                    raw_text from '"amount_money"\s*:\s*\{[^}]*"amount"\s*:\s*(-?[0-9]{1,15})[,} ]'
                )::numeric
                / 100
        end as amount,
        case
            when raw_table = 'hubspot_deals' then 'USD'
            else substring(
                raw_text from '"amount_money"\s*:\s*\{[^}]*"currency"\s*:\s*"([A-Z]{3})"'
            )
        end as currency,
        (
            coalesce(
                substring(raw_text from '"closedate"\s*:\s*"([0-9]{4}-(0[1-9]|1[0-2]))'),
                substring(raw_text from '"created_at"\s*:\s*"([0-9]{4}-(0[1-9]|1[0-2]))')
            )
            || '-01'
        )::date as record_month
    from quarantined

),

final as (

    select
        source_file || ':' || line_number as left_out_id,
        record_type,
        record_id,
        record_month,
        amount::numeric(18, 2) as amount,
        currency,
        source_file,
        line_number,
        reason
    from read

)

select * from final
