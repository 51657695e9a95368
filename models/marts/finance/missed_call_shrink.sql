{#
    Missed-call shrink (docs/metrics.md, Money): one row per valued call, an unanswered inbound call
    that heads its chain of unanswered attempts (is_first_unanswered_attempt: a caller who
    retries three times unanswered is one lost contact, valued once) and that nobody reached
    within var recovery_window_hours (no callback or retry connected):
    - missed_opportunity: voicemail, abandoned or missed in open hours, not recovered;
    - after_hours: an after-hours call, not recovered by the same rule (the same valuation,
      its own shrink line).
    Short abandons are left out, as from every other rate. Each call is valued at its
    conversion cell (location x marketing source x caller type, with its fallback level):
    expected shrink = conversion rate x average converted value, with the cell's bounds.
#}
with

calls as (

    select * from {{ ref('calls') }}

),

cells as (

    select * from {{ ref('conversion_cells') }}

),

stays as (

    select * from {{ ref('int_pbx_queue_entries') }}

),

unrecovered_calls as (

    select
        *,
        case
            when is_missed_opportunity then 'missed_opportunity'
            else 'after_hours'
        end as category
    from calls
    where
        is_first_unanswered_attempt
        and not is_unanswered_recovered
        and (is_missed_opportunity or outcome = 'after_hours')

),

valued_calls as (

    select
        unrecovered_calls.*,
        {{ shrink_cause() }} as cause
    from unrecovered_calls
    left join stays
        on unrecovered_calls.pbx_call_id = stays.pbx_call_id

),

final as (

    select
        valued_calls.call_id,
        valued_calls.category,
        valued_calls.cause,
        valued_calls.outcome,
        valued_calls.location_id,
        valued_calls.region,
        valued_calls.started_at,
        valued_calls.started_at_local,
        valued_calls.started_date,
        valued_calls.started_hour,
        valued_calls.marketing_source,
        valued_calls.marketing_campaign,
        valued_calls.caller_type,
        cells.cell_id,
        cells.fallback_level,
        cells.eligible_calls,
        cells.converted_calls,
        cells.conversion_rate,
        cells.conversion_rate_low,
        cells.conversion_rate_high,
        cells.average_converted_value_usd,
        cells.value_per_eligible_call_usd as expected_shrink_usd,
        cells.value_per_eligible_call_low_usd as expected_shrink_low_usd,
        cells.value_per_eligible_call_high_usd as expected_shrink_high_usd
    from valued_calls
    -- by the cell's id, one hashed key (a null location or caller type is '?' in it), not
    -- the three columns null-safe: those the planner can only hash by source and then
    -- compare every call with each cell of its source
    inner join cells
        on
            {{ conversion_cell_id(
                'valued_calls.location_id',
                'valued_calls.marketing_source',
                'valued_calls.caller_type'
            ) }} = cells.cell_id
            and valued_calls.marketing_source = cells.marketing_source

)

select * from final
