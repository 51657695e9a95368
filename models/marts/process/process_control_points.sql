-- Statistical process control per location (docs/metrics.md, Process control): one point per
-- location x local day x KPI with the day's value and n, its own weekday's centre line from a
-- fixed baseline window, the sigma of the point, its 1-, 2- and 3-sigma bounds and zone, and
-- whether the rules judge it. process_signals applies the rules to the judged points.
{#- The planner estimates one row for each CTE of the points (they have no statistics) and
    compared every baseline point with every weekday centre in a nested loop: 1.2 s of 2.6 at
    3.9 million calls. Every join here is on keys, and hashed. -#}
{{ config(pre_hook=["set local enable_nestloop = off"]) }}
{%- set baseline_days = var('process_control_baseline_days') | int %}
{%- set baseline_start = var('process_control_baseline_start') %}
{%- set min_calls = var('process_control_min_calls') | int %}
{%- set min_xmr_days = var('process_control_min_xmr_baseline_days') | int %}
{#- durations are skewed (a busy day's mean wait is far above, never far below): their XmR
    charts work on ln(1 + value), so that their limits are as likely to be crossed on either
    side, and show the limits back in the KPI's own unit #}
{%- set log_scale_kpis = "('average_speed_of_answer_seconds', 'mean_minutes_to_recovery')" %}

-- calls is read once, by the day's aggregate (the locations' first and newest days come from
-- it): a CTE read twice is materialised whole, every column of every call of the history,
-- and cannot be read in parallel (3.3 s of this model's 5.8 at 3.9 million calls)
with calls as (
    select * from {{ ref('calls') }}
),

-- the numerators and denominators of the warehouse's own metrics (calls.yml's measures)
daily as (
    select
        location_id,
        started_date,
        sum(case when is_answered then 1 else 0 end) as answered_calls,
        sum(case when is_answer_rate_eligible then 1 else 0 end) as answer_rate_eligible_calls,
        sum(case when is_repeat_24h then 1 else 0 end) as repeat_24h_calls,
        sum(case when is_answered and is_transferred then 1 else 0 end) as transferred_calls,
        sum(case when is_answered and is_escalated then 1 else 0 end) as escalated_calls,
        sum(coalesce(customer_effort_events, 0)) as customer_effort_events,
        sum(speed_of_answer_seconds) as speed_of_answer_seconds,
        count(speed_of_answer_seconds) as speed_of_answer_calls,
        sum(minutes_to_recovery) as minutes_to_recovery,
        count(minutes_to_recovery) as recovered_calls,
        sum(case when is_missed_opportunity then 1 else 0 end) as missed_opportunities,
        sum(case when is_recovered then 1 else 0 end) as recovered_missed_opportunities
    from calls
    where location_id is not null and started_date is not null
    group by location_id, started_date
),

-- each location's first and newest local day of calls; both are partial (the data starts
-- and ends at a UTC midnight, not the location's)
location_days as (
    select
        location_id,
        min(started_date) as first_day,
        max(started_date) as newest_day
    from daily
    group by location_id
),

baselines as (
    select
        location_id,
        first_day,
        newest_day,
        {%- if baseline_start %}
            cast('{{ baseline_start }}' as date) as baseline_start
        {%- else %}
            first_day + 1 as baseline_start
        {%- endif %}
    from location_days
),

-- the day's missed-call shrink in dollars (both shrink lines), by the day of the valued call
daily_shrink as (
    select
        location_id,
        started_date,
        sum(expected_shrink_usd) as shrink_usd
    from {{ ref('missed_call_shrink') }}
    where location_id is not null and started_date is not null
    group by location_id, started_date
),

-- one row per KPI: p and u charts count events over n; an XmR chart of means sums its
-- calls' values (the day's mean is sum / n), the shrink chart charts the day's total (its
-- divisor is 1; n, the calls it could have come from, only decides whether the day is
-- judged). follow_up_days: the KPI waits for what happens after a call (a repeat, a
-- recovery, a retried abandon), so its newest complete day is not judged yet.
kpi_days as (
    select
        daily.location_id,
        daily.started_date,
        kpis.kpi,
        kpis.chart_type,
        kpis.follow_up_days,
        kpis.numerator,
        kpis.n,
        kpis.divisor
    from daily
    left join daily_shrink
        on
            daily.location_id = daily_shrink.location_id
            and daily.started_date = daily_shrink.started_date
    cross join
        lateral (
            values
            (
                'answer_rate', 'p', 0,
                daily.answered_calls, daily.answer_rate_eligible_calls, null
            ),
            (
                'repeat_contact_rate_24h', 'p', 1,
                daily.repeat_24h_calls, daily.answered_calls, null
            ),
            ('transfer_rate', 'p', 0, daily.transferred_calls, daily.answered_calls, null),
            ('escalation_rate', 'p', 0, daily.escalated_calls, daily.answered_calls, null),
            (
                'recovery_rate', 'p', 1,
                daily.recovered_missed_opportunities, daily.missed_opportunities, null
            ),
            (
                'customer_effort_score', 'u', 1,
                daily.customer_effort_events, daily.answer_rate_eligible_calls, null
            ),
            (
                'average_speed_of_answer_seconds', 'xmr', 0,
                daily.speed_of_answer_seconds, daily.speed_of_answer_calls, null
            ),
            (
                'mean_minutes_to_recovery', 'xmr', 1,
                daily.minutes_to_recovery, daily.recovered_calls, null
            ),
            (
                'missed_call_shrink_usd', 'xmr', 1,
                coalesce(daily_shrink.shrink_usd, 0), daily.answer_rate_eligible_calls, 1
            )
        ) as kpis (kpi, chart_type, follow_up_days, numerator, n, divisor)
    where kpis.n > 0
),

days_classified as (
    select
        kpi_days.location_id,
        kpi_days.started_date,
        cast(extract(isodow from kpi_days.started_date) as integer) as iso_weekday,
        kpi_days.kpi,
        kpi_days.chart_type,
        cast(kpi_days.numerator as numeric) as numerator,
        kpi_days.n,
        cast(kpi_days.numerator as numeric)
        / coalesce(kpi_days.divisor, kpi_days.n) as point_value,
        -- XmR: a day's mean of n calls varies as 1 / n, a day's total does not
        coalesce(kpi_days.divisor, kpi_days.n) as xmr_weight,
        case
            when kpi_days.kpi in {{ log_scale_kpis }} then 'log'
            else 'linear'
        end as scale,
        baselines.baseline_start,
        baselines.baseline_start + {{ baseline_days - 1 }} as baseline_end,
        case
            when kpi_days.started_date < baselines.baseline_start then 'before_baseline'
            when kpi_days.started_date <= baselines.baseline_start + {{ baseline_days - 1 }}
                then 'baseline'
            else 'monitoring'
        end as phase,
        case
            when
                kpi_days.started_date = baselines.first_day
                or kpi_days.started_date = baselines.newest_day
                then 'partial_day'
            when kpi_days.started_date >= baselines.newest_day - kpi_days.follow_up_days
                then 'follow_up_incomplete'
            when kpi_days.n < {{ min_calls }} then 'under_min_calls'
        end as unusable_because
    from kpi_days
    inner join baselines on kpi_days.location_id = baselines.location_id
),

-- the value the chart's arithmetic works on: the point, or ln(1 + point) on a log scale
charted as (
    select
        *,
        case when scale = 'log' then ln(1 + point_value) else point_value end as chart_value
    from days_classified
),

-- the baseline: its usable days, per location x KPI x weekday
baseline_points as (
    select *
    from charted
    where phase = 'baseline' and unusable_because is null
),

weekday_centres as (
    select
        location_id,
        kpi,
        iso_weekday,
        count(*) as baseline_points,
        sum(n) as baseline_n,
        sum(1.0 / xmr_weight) as baseline_inverse_weight,
        -- p and u: events over n of the weekday's baseline days; XmR: the mean of their
        -- values (on the chart's scale)
        case
            when min(chart_type) = 'xmr' then avg(chart_value)
            else sum(numerator) / sum(n)
        end as centre_value
    from baseline_points
    group by location_id, kpi, iso_weekday
),

-- each usable baseline point's deviation from its weekday's centre (the weekday pattern is
-- not variation): XmR in the chart's unit times sqrt(weight), the spread of one call (a day
-- of few calls varies more: Saturdays); p and u in sigmas of the point's own n, as a
-- standard score (null where the centre has no variation)
baseline_deviations as (
    select
        baseline_points.location_id,
        baseline_points.kpi,
        baseline_points.started_date,
        baseline_points.iso_weekday,
        case baseline_points.chart_type
            when 'p'
                then (baseline_points.chart_value - weekday_centres.centre_value) / nullif(sqrt(
                    weekday_centres.centre_value * (1 - weekday_centres.centre_value)
                    / baseline_points.n
                ), 0)
            when 'u'
                then
                    (baseline_points.chart_value - weekday_centres.centre_value)
                    / nullif(sqrt(weekday_centres.centre_value / baseline_points.n), 0)
            else
                (baseline_points.chart_value - weekday_centres.centre_value)
                * sqrt(baseline_points.xmr_weight)
        end as deviation
    from baseline_points
    inner join weekday_centres
        on
            baseline_points.location_id = weekday_centres.location_id
            and baseline_points.kpi = weekday_centres.kpi
            and baseline_points.iso_weekday = weekday_centres.iso_weekday
),

moving_ranges as (
    select
        location_id,
        kpi,
        deviation,
        abs(
            deviation - lag(deviation) over (partition by location_id, kpi order by started_date)
        ) as moving_range,
        count(*) over (partition by location_id, kpi) as deviations,
        -- the weekday centres fitted to the same points (distinct is not allowed in a window)
        dense_rank() over (partition by location_id, kpi order by iso_weekday)
        + dense_rank() over (partition by location_id, kpi order by iso_weekday desc)
        - 1 as weekdays_fitted
    from baseline_deviations
),

-- deviations from centres fitted to the same points are smaller than a new point's: both
-- estimates are corrected by the degrees of freedom, points - weekday centres
spreads as (
    select
        location_id,
        kpi,
        max(deviations) as baseline_days,
        -- short-term: mean moving range / 1.128 (d2, n = 2), times sqrt(points / (points -
        -- centres))
        avg(moving_range) / 1.128
        * sqrt(1.0 * max(deviations) / nullif(max(deviations) - max(weekdays_fitted), 0))
            as short_term_spread,
        -- overall: the root mean square deviation over (points - centres), which also holds
        -- week-to-week swings that consecutive days share
        sqrt(sum(deviation * deviation) / nullif(max(deviations) - max(weekdays_fitted), 0))
            as overall_spread
    from moving_ranges
    group by location_id, kpi
),

-- XmR sigma: the larger of the two; p and u: the overdispersion factor, by how much the
-- baseline's days vary more than their n explains (the Laney idea), never below 1
baseline_spreads as (
    select
        location_id,
        kpi,
        greatest(short_term_spread, overall_spread) as xmr_sigma,
        greatest(overall_spread, 1) as dispersion,
        baseline_days as xmr_baseline_days
    from spreads
),

sigmas as (
    select
        charted.*,
        weekday_centres.centre_value,
        weekday_centres.baseline_points,
        weekday_centres.baseline_n,
        baseline_spreads.xmr_baseline_days,
        -- the spread of a new point around a centre estimated from a few baseline days: the
        -- point's own variance plus the centre's (prediction limits, docs/metrics.md); in
        -- the chart's scale
        case charted.chart_type
            when 'p'
                then sqrt(
                    weekday_centres.centre_value * (1 - weekday_centres.centre_value)
                    * (1.0 / charted.n + 1.0 / weekday_centres.baseline_n)
                ) * coalesce(baseline_spreads.dispersion, 1)
            when 'u'
                then sqrt(
                    weekday_centres.centre_value
                    * (1.0 / charted.n + 1.0 / weekday_centres.baseline_n)
                ) * coalesce(baseline_spreads.dispersion, 1)
            -- XmR: a new day of weight w around the mean of k baseline days of weights w_j:
            -- sigma sqrt(1 / w + sum(1 / w_j) / k^2)
            else baseline_spreads.xmr_sigma * sqrt(
                1.0 / charted.xmr_weight
                + weekday_centres.baseline_inverse_weight
                / (weekday_centres.baseline_points * weekday_centres.baseline_points)
            )
        end as sigma
    from charted
    left join weekday_centres
        on
            charted.location_id = weekday_centres.location_id
            and charted.kpi = weekday_centres.kpi
            and charted.iso_weekday = weekday_centres.iso_weekday
    left join baseline_spreads
        on
            charted.location_id = baseline_spreads.location_id
            and charted.kpi = baseline_spreads.kpi
),

-- the centre and centre +- 1, 2, 3 sigma on the chart's scale
chart_bounds as (
    select
        *,
        centre_value - 3 * sigma as lcl_3_value,
        centre_value - 2 * sigma as lcl_2_value,
        centre_value - sigma as lcl_1_value,
        centre_value + sigma as ucl_1_value,
        centre_value + 2 * sigma as ucl_2_value,
        centre_value + 3 * sigma as ucl_3_value
    from sigmas
),

-- back in the KPI's unit (exp(b) - 1 on a log scale); proportions stay within [0, 1],
-- rates and durations are never negative; no sigma, no bounds
bounds as (
    select
        *,
        {{ process_control_bound('centre_value') }} as centre_line,
        case
            when sigma is not null then
                greatest({{ process_control_bound('lcl_3_value') }}, 0)
        end as lcl_3,
        case
            when sigma is not null then
                greatest({{ process_control_bound('lcl_2_value') }}, 0)
        end as lcl_2,
        case
            when sigma is not null then
                greatest({{ process_control_bound('lcl_1_value') }}, 0)
        end as lcl_1,
        case
            when sigma is null then null
            when chart_type = 'p' then least(ucl_1_value, 1)
            else {{ process_control_bound('ucl_1_value') }}
        end as ucl_1,
        case
            when sigma is null then null
            when chart_type = 'p' then least(ucl_2_value, 1)
            else {{ process_control_bound('ucl_2_value') }}
        end as ucl_2,
        case
            when sigma is null then null
            when chart_type = 'p' then least(ucl_3_value, 1)
            else {{ process_control_bound('ucl_3_value') }}
        end as ucl_3
    from chart_bounds
),

-- computed in numeric, so that a point exactly on a bound is on it; stored as floats, to 10
-- decimals (what a chart can show, and the same whatever order the arithmetic ran in)
final as (
    select
        location_id,
        started_date,
        iso_weekday,
        kpi,
        chart_type,
        cast(numerator as double precision) as numerator,
        n,
        cast(round(cast(point_value as numeric), 10) as double precision) as point_value,
        cast(round(cast(centre_line as numeric), 10) as double precision) as centre_line,
        cast(round(cast(sigma as numeric), 10) as double precision) as sigma,
        cast(round(cast(lcl_3 as numeric), 10) as double precision) as lcl_3,
        cast(round(cast(lcl_2 as numeric), 10) as double precision) as lcl_2,
        cast(round(cast(lcl_1 as numeric), 10) as double precision) as lcl_1,
        cast(round(cast(ucl_1 as numeric), 10) as double precision) as ucl_1,
        cast(round(cast(ucl_2 as numeric), 10) as double precision) as ucl_2,
        cast(round(cast(ucl_3 as numeric), 10) as double precision) as ucl_3,
        scale,
        cast(
            round(
                cast(case when sigma > 0 then (chart_value - centre_value) / sigma end as numeric),
                10
            )
            as double precision
        ) as z_score,
        case
            when centre_line is null or sigma is null then null
            when point_value > ucl_3 or point_value < lcl_3 then 'beyond'
            when point_value > ucl_2 or point_value < lcl_2 then 'a'
            when point_value > ucl_1 or point_value < lcl_1 then 'b'
            else 'c'
        end as sigma_zone,
        case
            when chart_value > centre_value then 'above'
            when chart_value < centre_value then 'below'
            when chart_value = centre_value then 'centre'
        end as side,
        phase,
        baseline_start,
        baseline_end,
        baseline_points,
        baseline_n,
        coalesce(
            case when phase != 'monitoring' then phase end,
            unusable_because,
            case when centre_line is null then 'no_baseline' end,
            case
                when chart_type = 'xmr' and coalesce(xmr_baseline_days, 0) < {{ min_xmr_days }}
                    then 'short_baseline'
            end,
            case when not coalesce(sigma > 0, false) then 'no_variation' end
        ) as not_judged_because,
        phase = 'monitoring'
        and unusable_because is null
        and centre_line is not null
        and (chart_type != 'xmr' or coalesce(xmr_baseline_days, 0) >= {{ min_xmr_days }})
        and coalesce(sigma > 0, false) as is_judged
    from bounds
)

select * from final
