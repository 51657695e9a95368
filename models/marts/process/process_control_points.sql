-- Statistical process control per location (docs/metrics.md, Process control): one point per
-- location x local day x KPI with the day's value and n, its own weekday's centre line from a
-- fixed baseline window, the sigma of the point, its 1-, 2- and 3-sigma bounds and zone, and
-- whether the rules judge it. process_signals applies the rules to the judged points.
{%- set baseline_days = var('process_control_baseline_days') | int %}
{%- set baseline_start = var('process_control_baseline_start') %}
{%- set min_calls = var('process_control_min_calls') | int %}

with calls as (
    select * from {{ ref('calls') }}
),

-- each location's first and newest local day of calls; both are partial (the data starts
-- and ends at a UTC midnight, not the location's)
location_days as (
    select
        location_id,
        min(started_date) as first_day,
        max(started_date) as newest_day
    from calls
    where location_id is not null
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
        count(minutes_to_recovery) as recovered_calls
    from calls
    where location_id is not null and started_date is not null
    group by location_id, started_date
),

-- one row per KPI: p and u charts count events over n; an XmR chart sums its calls' values
-- (the day's mean is sum / n). follow_up_days: the KPI waits for what happens after a call
-- (a repeat, a recovery, a retried abandon), so its newest complete day is not judged yet.
kpi_days as (
    select
        daily.location_id,
        daily.started_date,
        kpis.kpi,
        kpis.chart_type,
        kpis.follow_up_days,
        kpis.numerator,
        kpis.n
    from daily
    cross join
        lateral (
            values
            ('answer_rate', 'p', 0, daily.answered_calls, daily.answer_rate_eligible_calls),
            ('repeat_contact_rate_24h', 'p', 1, daily.repeat_24h_calls, daily.answered_calls),
            ('transfer_rate', 'p', 0, daily.transferred_calls, daily.answered_calls),
            ('escalation_rate', 'p', 0, daily.escalated_calls, daily.answered_calls),
            (
                'customer_effort_score', 'u', 1,
                daily.customer_effort_events, daily.answer_rate_eligible_calls
            ),
            (
                'average_speed_of_answer_seconds', 'xmr', 0,
                daily.speed_of_answer_seconds, daily.speed_of_answer_calls
            ),
            ('mean_minutes_to_recovery', 'xmr', 1, daily.minutes_to_recovery, daily.recovered_calls)
        ) as kpis (kpi, chart_type, follow_up_days, numerator, n)
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
        cast(kpi_days.numerator as numeric) / kpi_days.n as point_value,
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

-- the baseline: its usable days, per location x KPI x weekday
baseline_points as (
    select *
    from days_classified
    where phase = 'baseline' and unusable_because is null
),

weekday_centres as (
    select
        location_id,
        kpi,
        iso_weekday,
        count(*) as baseline_points,
        sum(n) as baseline_n,
        -- p and u: events over n of the weekday's baseline days; XmR: the mean of their means
        case
            when min(chart_type) = 'xmr' then avg(point_value)
            else sum(numerator) / sum(n)
        end as centre_line
    from baseline_points
    group by location_id, kpi, iso_weekday
),

-- XmR: the moving ranges of consecutive baseline points' deviations from their weekday's
-- centre (the weekday pattern is not variation); sigma = mean moving range / 1.128 (d2, n = 2)
baseline_deviations as (
    select
        baseline_points.location_id,
        baseline_points.kpi,
        baseline_points.started_date,
        baseline_points.iso_weekday,
        baseline_points.point_value - weekday_centres.centre_line as deviation
    from baseline_points
    inner join weekday_centres
        on
            baseline_points.location_id = weekday_centres.location_id
            and baseline_points.kpi = weekday_centres.kpi
            and baseline_points.iso_weekday = weekday_centres.iso_weekday
    where baseline_points.chart_type = 'xmr'
),

moving_ranges as (
    select
        location_id,
        kpi,
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

xmr_sigmas as (
    select
        location_id,
        kpi,
        -- deviations from centres fitted to the same points are smaller than a new point's:
        -- corrected by the degrees of freedom, points / (points - weekday centres)
        avg(moving_range) / 1.128
        * sqrt(1.0 * max(deviations) / nullif(max(deviations) - max(weekdays_fitted), 0))
            as xmr_sigma
    from moving_ranges
    group by location_id, kpi
),

sigmas as (
    select
        days_classified.*,
        weekday_centres.centre_line,
        weekday_centres.baseline_points,
        weekday_centres.baseline_n,
        -- the spread of a new point around a centre estimated from a few baseline days: the
        -- point's own variance plus the centre's (prediction limits, docs/metrics.md)
        case days_classified.chart_type
            when 'p'
                then sqrt(
                    weekday_centres.centre_line * (1 - weekday_centres.centre_line)
                    * (1.0 / days_classified.n + 1.0 / weekday_centres.baseline_n)
                )
            when 'u'
                then sqrt(
                    weekday_centres.centre_line
                    * (1.0 / days_classified.n + 1.0 / weekday_centres.baseline_n)
                )
            else xmr_sigmas.xmr_sigma * sqrt(1 + 1.0 / weekday_centres.baseline_points)
        end as sigma
    from days_classified
    left join weekday_centres
        on
            days_classified.location_id = weekday_centres.location_id
            and days_classified.kpi = weekday_centres.kpi
            and days_classified.iso_weekday = weekday_centres.iso_weekday
    left join xmr_sigmas
        on
            days_classified.location_id = xmr_sigmas.location_id
            and days_classified.kpi = xmr_sigmas.kpi
),

bounds as (
    select
        *,
        -- proportions stay within [0, 1]; rates and durations are never negative (greatest
        -- and least skip nulls: no sigma, no bounds)
        case when sigma is not null then greatest(centre_line - sigma, 0) end as lcl_1,
        case when sigma is not null then greatest(centre_line - 2 * sigma, 0) end as lcl_2,
        case when sigma is not null then greatest(centre_line - 3 * sigma, 0) end as lcl_3,
        case
            when sigma is null then null
            when chart_type = 'p' then least(centre_line + sigma, 1)
            else centre_line + sigma
        end as ucl_1,
        case
            when sigma is null then null
            when chart_type = 'p' then least(centre_line + 2 * sigma, 1)
            else centre_line + 2 * sigma
        end as ucl_2,
        case
            when sigma is null then null
            when chart_type = 'p' then least(centre_line + 3 * sigma, 1)
            else centre_line + 3 * sigma
        end as ucl_3
    from sigmas
),

-- computed in numeric, so that a point exactly on a bound is on it; stored as floats
final as (
    select
        location_id,
        started_date,
        iso_weekday,
        kpi,
        chart_type,
        cast(numerator as double precision) as numerator,
        n,
        cast(point_value as double precision) as point_value,
        cast(centre_line as double precision) as centre_line,
        cast(sigma as double precision) as sigma,
        cast(lcl_3 as double precision) as lcl_3,
        cast(lcl_2 as double precision) as lcl_2,
        cast(lcl_1 as double precision) as lcl_1,
        cast(ucl_1 as double precision) as ucl_1,
        cast(ucl_2 as double precision) as ucl_2,
        cast(ucl_3 as double precision) as ucl_3,
        cast(case when sigma > 0 then (point_value - centre_line) / sigma end as double precision)
            as z_score,
        case
            when centre_line is null or sigma is null then null
            when point_value > ucl_3 or point_value < lcl_3 then 'beyond'
            when point_value > ucl_2 or point_value < lcl_2 then 'a'
            when point_value > ucl_1 or point_value < lcl_1 then 'b'
            else 'c'
        end as sigma_zone,
        case
            when point_value > centre_line then 'above'
            when point_value < centre_line then 'below'
            when point_value = centre_line then 'centre'
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
            case when not coalesce(sigma > 0, false) then 'no_variation' end
        ) as not_judged_because,
        phase = 'monitoring'
        and unusable_because is null
        and centre_line is not null
        and coalesce(sigma > 0, false) as is_judged
    from bounds
)

select * from final
