{#
    What adding agents to an hour buys (docs/staffing.md): for each location x weekday x open
    hour of staffing_hours and 0 .. var staffing_what_if_max_agents added agents, the answered
    share Erlang A gives with the hour's agents on the phones (rounded to whole agents) plus
    the added ones, the calls a week that would answer more than with none added, and what they
    are worth: each at the location's mean value per valued missed call (missed_call_shrink),
    the value the shrink gives a call lost.
#}
with

staffing_hours as (

    select * from {{ ref('staffing_hours') }}

),

shrink as (

    select * from {{ ref('missed_call_shrink') }}

),

call_values as (

    select
        location_id,
        avg(expected_shrink_usd) as value_per_missed_call_usd
    from shrink
    where category = 'missed_opportunity'
    group by location_id

),

agents_added as (

    select generate_series(0, {{ var('staffing_what_if_max_agents') }}) as added_agents

),

added as (

    select
        staffing_hours.*,
        agents_added.added_agents,
        round(staffing_hours.agents_on_phones)::integer + agents_added.added_agents as agents
    from staffing_hours
    cross join agents_added
    where
        staffing_hours.patience_seconds is not null
        and staffing_hours.agents_on_phones is not null

),

answered as (

    select
        *,
        {{ erlang_function('erlang_a_answered_share') }}(
            agents, calls_per_hour, handle_seconds, patience_seconds
        ) as answered_share
    from added

),

final as (

    select
        answered.location_id,
        answered.iso_weekday,
        answered.hour_of_day,
        answered.added_agents,
        answered.agents,
        round(answered.answered_share::numeric, 4) as answered_share,
        round(
            (answered.answered_share - first_value(answered.answered_share) over hour_cell)::numeric
            * answered.offered_calls / answered.days_measured,
            2
        ) as more_answered_calls_per_week,
        round(
            (answered.answered_share - first_value(answered.answered_share) over hour_cell)::numeric
            * answered.offered_calls / answered.days_measured
            * coalesce(call_values.value_per_missed_call_usd, 0),
            2
        ) as value_per_week_usd
    from answered
    left join call_values
        on answered.location_id = call_values.location_id
    window hour_cell as (
        partition by answered.location_id, answered.iso_weekday, answered.hour_of_day
        order by answered.added_agents
    )

)

select * from final
