-- The control-chart rules (docs/metrics.md, Process control) over each location x KPI series
-- of judged points, in day order: one row per location, KPI, day and rule that fired. Rules 2
-- to 4 look at consecutive judged points (baseline days, days under the minimum n and closed
-- days are not in the series, so they neither break nor extend a run).
{%- set rules = var('process_control_rules') %}

with points as (
    select * from {{ ref('process_control_points') }}
    where is_judged
),

flagged as (
    select
        *,
        point_value > centre_line as is_above,
        point_value < centre_line as is_below,
        point_value > ucl_2 as is_above_2_sigma,
        point_value < lcl_2 as is_below_2_sigma,
        -- steadily rising or falling relative to the point's own centre and sigma, so that a
        -- weekday pattern (Monday low, Friday high) is not a trend
        coalesce(z_score > lag(z_score) over series, false) as is_rising,
        coalesce(z_score < lag(z_score) over series, false) as is_falling
    from points
    window series as (partition by location_id, kpi order by started_date)
),

windowed as (
    select
        *,
        sum(case when is_above_2_sigma then 1 else 0 end) over last_3 as above_2_sigma_of_3,
        sum(case when is_below_2_sigma then 1 else 0 end) over last_3 as below_2_sigma_of_3,
        sum(case when is_above then 1 else 0 end) over last_8 as above_of_8,
        sum(case when is_below then 1 else 0 end) over last_8 as below_of_8,
        sum(case when is_rising then 1 else 0 end) over last_5 as rises_of_5,
        sum(case when is_falling then 1 else 0 end) over last_5 as falls_of_5
    from flagged
    window
        last_3 as (
            partition by location_id, kpi order by started_date
            rows between 2 preceding and current row
        ),
        last_5 as (
            partition by location_id, kpi order by started_date
            rows between 4 preceding and current row
        ),
        last_8 as (
            partition by location_id, kpi order by started_date
            rows between 7 preceding and current row
        )
),

fired as (
    select
        windowed.*,
        rules.rule_number,
        rules.rule_short,
        rules.direction
    from windowed
    cross join
        lateral (
            values
            (1, 'beyond_3_sigma', 'above', windowed.point_value > windowed.ucl_3),
            (1, 'beyond_3_sigma', 'below', windowed.point_value < windowed.lcl_3),
            (
                2, 'two_of_three_beyond_2_sigma', 'above',
                windowed.is_above_2_sigma and windowed.above_2_sigma_of_3 >= 2
            ),
            (
                2, 'two_of_three_beyond_2_sigma', 'below',
                windowed.is_below_2_sigma and windowed.below_2_sigma_of_3 >= 2
            ),
            (3, 'eight_on_one_side', 'above', windowed.above_of_8 = 8),
            (3, 'eight_on_one_side', 'below', windowed.below_of_8 = 8),
            (4, 'six_trending', 'rising', windowed.rises_of_5 = 5),
            (4, 'six_trending', 'falling', windowed.falls_of_5 = 5)
        ) as rules (rule_number, rule_short, direction, holds)
    where
        rules.holds
        and (
            {%- for chart_type, numbers in rules.items() %}
                (
                    windowed.chart_type = '{{ chart_type }}'
                    and rules.rule_number in ({{ numbers | join(', ') }})
                )
                {%- if not loop.last %} or{% endif %}
            {%- endfor %}
        )
),

final as (
    select
        location_id || '|' || kpi || '|' || started_date || '|' || rule_number as signal_id,
        location_id,
        started_date as signal_date,
        iso_weekday,
        kpi,
        chart_type,
        'rule_' || rule_number || '_' || rule_short as rule_name,
        rule_number,
        direction,
        point_value,
        centre_line,
        sigma,
        z_score,
        lcl_3,
        lcl_2,
        lcl_1,
        ucl_1,
        ucl_2,
        ucl_3,
        numerator,
        n,
        baseline_start,
        baseline_end
    from fired
)

select * from final
