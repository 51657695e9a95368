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

    A view: the calls, with their cause and cell, are kept incrementally in
    shrink_candidates, and the cells' figures, which every day's revenue moves, are joined
    here when the view is read.
#}
{{ config(materialized='view') }}
with

candidates as (

    select * from {{ ref('shrink_candidates') }}

),

cells as (

    select * from {{ ref('conversion_cells') }}

),

final as (

    select
        candidates.call_id,
        candidates.category,
        candidates.cause,
        candidates.outcome,
        candidates.location_id,
        candidates.region,
        candidates.started_at,
        candidates.started_at_local,
        candidates.started_date,
        candidates.started_hour,
        candidates.marketing_source,
        candidates.marketing_campaign,
        candidates.caller_type,
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
    from candidates
    inner join cells
        on candidates.cell_id = cells.cell_id
    where
        candidates.is_first_unanswered_attempt
        and not candidates.is_unanswered_recovered

)

select * from final
