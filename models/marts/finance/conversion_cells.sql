{#
    The conversion cells that value a missed call: per location x marketing source x caller
    type (new, returning, unknown), the conversion-eligible calls (call_conversions) n, the
    converted ones k, their rate and average converted value. A cell with fewer than
    var min_calls_per_cell eligible calls borrows the figures of the first level that has
    enough: region x source x caller type, then the whole system x source x caller type, then
    the whole system (the level used is on the row).

    Only mature calls count (call_conversions.is_mature: started var conversion_maturity_days
    before the newest revenue record), so that sales still to come do not pass for calls that
    did not convert. A data set with fewer than min_calls_per_cell mature calls counts every
    eligible call instead (measured_on says which).

    Uncertainty, at the level used (95 %, z = 1.96):
    - conversion rate: Wilson score interval on k of n (stays inside [0, 1], behaves for
      small k);
    - average converted value: mean +- z x sample standard deviation / sqrt(k) (normal
      approximation of the mean; null with fewer than 2 conversions), the low end at 0;
    - value per eligible call (rate x value): low = rate low x value low, high = rate high x
      value high, a conservative product of the two bounds.
    Everything stays numeric: rate x value is sum of converted value / n, exact.
#}
{#- the callback list values its items at these cells (macros/callback_list.sql), so the
    restricted role reads them too: cell figures, no number -#}
{{ config(post_hook=["{{ grant_to_restricted_role(with_schema=true) }}"]) }}
{%- set min_calls = var('min_calls_per_cell') | int %}
{%- set z = '1.96' %}
{#- what every level counts: eligible and converted calls, converted value, its spread -#}
{%- set cell_figures -%}
    count(*) as eligible_calls,
        count(*) filter (where is_converted) as converted_calls,
        sum(converted_value_usd) as converted_value_usd,
        stddev_samp(converted_value_usd) filter (where is_converted) as value_stddev_usd
{%- endset %}

with

calls as (

    select * from {{ ref('calls') }}

),

conversions as (

    select * from {{ ref('call_conversions') }}

),

basis as (

    select
        case
            when count(*) filter (where is_mature) >= {{ min_calls }} then 'mature_calls'
            else 'all_calls'
        end as measured_on
    from conversions

),

measured_calls as (

    select conversions.*
    from conversions
    cross join basis
    where conversions.is_mature or basis.measured_on = 'all_calls'

),

cells as (

    -- every cell an inbound call (not spam) falls in, whether or not it has eligible calls
    select distinct
        location_id,
        region,
        marketing_source,
        caller_type
    from calls
    where direction = 'inbound' and not is_spam

),

-- every level in one pass over the measured calls (a CTE read once per level was copied
-- whole first, and each level read it again): grouping() tells the levels apart, a bit set
-- for each of location_id, region, marketing_source, caller_type left out of the group
levels as (

    select
        grouping(location_id, region, marketing_source, caller_type) as left_out,
        location_id,
        region,
        marketing_source,
        caller_type,
        {{ cell_figures }}
    from measured_calls
    group by grouping sets (
        (location_id, marketing_source, caller_type),
        (region, marketing_source, caller_type),
        (marketing_source, caller_type),
        ()
    )

),

location_level as (

    select * from levels
    where left_out = 4

),

region_level as (

    select * from levels
    where left_out = 8

),

source_level as (

    select * from levels
    where left_out = 12

),

system_level as (

    select * from levels
    where left_out = 15

),

chosen as (

    select
        cells.location_id,
        cells.region,
        cells.marketing_source,
        cells.caller_type,
        basis.measured_on,
        coalesce(location_level.eligible_calls, 0) as cell_eligible_calls,
        coalesce(location_level.converted_calls, 0) as cell_converted_calls,
        case
            when location_level.eligible_calls >= {{ min_calls }} then 'location'
            when region_level.eligible_calls >= {{ min_calls }} then 'region'
            when source_level.eligible_calls >= {{ min_calls }} then 'system_source'
            else 'system'
        end as fallback_level,
        system_level.eligible_calls as system_eligible_calls,
        system_level.converted_calls as system_converted_calls,
        system_level.converted_value_usd as system_converted_value_usd,
        system_level.value_stddev_usd as system_value_stddev_usd,
        location_level.eligible_calls as location_eligible_calls,
        location_level.converted_calls as location_converted_calls,
        location_level.converted_value_usd as location_converted_value_usd,
        location_level.value_stddev_usd as location_value_stddev_usd,
        region_level.eligible_calls as region_eligible_calls,
        region_level.converted_calls as region_converted_calls,
        region_level.converted_value_usd as region_converted_value_usd,
        region_level.value_stddev_usd as region_value_stddev_usd,
        source_level.eligible_calls as source_eligible_calls,
        source_level.converted_calls as source_converted_calls,
        source_level.converted_value_usd as source_converted_value_usd,
        source_level.value_stddev_usd as source_value_stddev_usd
    from cells
    cross join basis
    cross join system_level
    left join location_level
        on
            cells.location_id is not distinct from location_level.location_id
            and cells.marketing_source = location_level.marketing_source
            and cells.caller_type is not distinct from location_level.caller_type
    left join region_level
        on
            cells.region is not distinct from region_level.region
            and cells.marketing_source = region_level.marketing_source
            and cells.caller_type is not distinct from region_level.caller_type
    left join source_level
        on
            cells.marketing_source = source_level.marketing_source
            and cells.caller_type is not distinct from source_level.caller_type

),

used as (

    select
        location_id,
        region,
        marketing_source,
        caller_type,
        measured_on,
        cell_eligible_calls,
        cell_converted_calls,
        fallback_level,
        case fallback_level
            when 'location' then location_eligible_calls
            when 'region' then region_eligible_calls
            when 'system_source' then source_eligible_calls
            else system_eligible_calls
        end::numeric as eligible_calls,
        case fallback_level
            when 'location' then location_converted_calls
            when 'region' then region_converted_calls
            when 'system_source' then source_converted_calls
            else system_converted_calls
        end::numeric as converted_calls,
        case fallback_level
            when 'location' then location_converted_value_usd
            when 'region' then region_converted_value_usd
            when 'system_source' then source_converted_value_usd
            else system_converted_value_usd
        end as converted_value_usd,
        case fallback_level
            when 'location' then location_value_stddev_usd
            when 'region' then region_value_stddev_usd
            when 'system_source' then source_value_stddev_usd
            else system_value_stddev_usd
        end as value_stddev_usd
    from chosen

),

estimated as (

    select
        *,
        converted_calls / nullif(eligible_calls, 0) as rate,
        converted_value_usd / nullif(converted_calls, 0) as mean_value_usd,
        {{ z }} * value_stddev_usd / sqrt(nullif(converted_calls, 0))
            as value_half_width_usd,
        -- Wilson score interval: centre and half width
        (
            converted_calls / nullif(eligible_calls, 0)
            + {{ z }} ^ 2 / (2 * nullif(eligible_calls, 0))
        ) / (1 + {{ z }} ^ 2 / nullif(eligible_calls, 0)) as wilson_centre,
        {{ z }} / (1 + {{ z }} ^ 2 / nullif(eligible_calls, 0)) * sqrt(
            converted_calls / nullif(eligible_calls, 0)
            * (1 - converted_calls / nullif(eligible_calls, 0))
            / nullif(eligible_calls, 0)
            + {{ z }} ^ 2 / (4 * nullif(eligible_calls, 0) ^ 2)
        ) as wilson_half_width
    from used

),

bounded as (

    select
        *,
        greatest(wilson_centre - wilson_half_width, 0) as rate_low,
        least(wilson_centre + wilson_half_width, 1) as rate_high,
        greatest(mean_value_usd - value_half_width_usd, 0) as value_low_usd,
        mean_value_usd + value_half_width_usd as value_high_usd
    from estimated

),

final as (

    select
        {{ conversion_cell_id('location_id', 'marketing_source', 'caller_type') }} as cell_id,
        location_id,
        region,
        marketing_source,
        caller_type,
        measured_on,
        cell_eligible_calls::integer as cell_eligible_calls,
        cell_converted_calls::integer as cell_converted_calls,
        fallback_level,
        {{ min_calls }} as min_calls_per_cell,
        eligible_calls::integer as eligible_calls,
        converted_calls::integer as converted_calls,
        coalesce(converted_value_usd, 0)::numeric(18, 2) as converted_value_usd,
        round(rate, 6)::numeric(9, 6) as conversion_rate,
        round(rate_low, 6)::numeric(9, 6) as conversion_rate_low,
        round(rate_high, 6)::numeric(9, 6) as conversion_rate_high,
        round(mean_value_usd, 2)::numeric(18, 2) as average_converted_value_usd,
        round(value_low_usd, 2)::numeric(18, 2) as average_converted_value_low_usd,
        round(value_high_usd, 2)::numeric(18, 2) as average_converted_value_high_usd,
        -- rate x value = converted value / eligible calls, exactly
        round(coalesce(converted_value_usd, 0) / nullif(eligible_calls, 0), 2)::numeric(18, 2)
            as value_per_eligible_call_usd,
        round(rate_low * coalesce(value_low_usd, 0), 2)::numeric(18, 2)
            as value_per_eligible_call_low_usd,
        round(rate_high * value_high_usd, 2)::numeric(18, 2)
            as value_per_eligible_call_high_usd
    from bounded

)

select * from final
