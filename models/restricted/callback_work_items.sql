{#
    The callback work list's items: one row per missed opportunity (voicemail, abandoned or
    missed in open hours) with the caller's number in clear, its conversion cell and when it
    leaves the list: leaves_list_at, the start of the first connected call with the same
    caller after it (an answered inbound call from them or a connected callback to them, any
    location, spam never), the calls that recover a missed opportunity in
    int_calls_followed_up, but not bounded by the recovery window. restricted.callback_list()
    reads it as of a time, and values each item at its cell's current figures
    (docs/metrics.md, "Callback work list").

    Incremental, like the other call models, but by call (unique_key call_id), since a
    connected call today takes a call of any earlier day off the list. Each run:
    - deletes the items of the days marts.calls rebuilt whole (from the UTC day of its
      cutoff, from its recorded build; every item after a full build of marts.calls), in a
      pre-hook, so that a call no longer missed, or no longer there, leaves no item behind
      (the older calls marts.calls rewrites change in their follow-ups only, which no item
      depends on);
    - writes the missed opportunities of those days, each leaving at the first later
      connected call of its caller (all such calls are in those days too);
    - rewrites the earlier items those days can move: the ones still on the list whose caller
      has a connected call in them, and the ones whose leaving call was in them (it may have
      changed); either leaves at the caller's first connected call of those days, all of
      which are later than the item, or stays on the list.
#}
{{ config(
    unique_key='call_id',
    pre_hook=[
        "{% if is_incremental() %}"
        ~ "delete from {{ this }} where started_at >= {{ calls_rebuilt_from() }}"
        ~ "{% endif %}",
    ],
    post_hook=["{{ grant_to_restricted_role() }}", "{{ create_callback_list_function() }}"],
) }}
-- depends_on: {{ ref('callback_recovery_curve') }}
-- depends_on: {{ ref('conversion_cells') }}

with

-- the calls of the days rebuilt (all of them on a full build)
calls as (

    select * from {{ ref('calls') }}
    where started_at >= {{ calls_rebuilt_from() }}

),

numbers as (

    select * from {{ ref('caller_numbers') }}
    where started_at >= {{ calls_rebuilt_from() }}

),

-- the missed opportunities and the connected calls of known callers, in the columns used:
-- one stream per caller, from one read of the calls (joining a second read back by call_id,
-- the planner could not tell the window's rows are one a call, and its estimate of billions
-- of rows made it read the whole calls table by its call_id index)
caller_events as (

    select
        call_id,
        caller_key,
        location_id,
        started_date_utc,
        started_at,
        started_at_local,
        wait_seconds,
        outcome,
        marketing_source,
        caller_type,
        is_missed_opportunity,
        caller_key is not null and is_connected and not is_spam as is_connecting
    from calls
    where
        is_missed_opportunity
        or (caller_key is not null and is_connected and not is_spam)

),

-- the first connected call strictly after each event: the minimum over every later event of
-- the caller, read newest first (so the frame grows and Postgres never restarts it); at an
-- equal start a connected call sorts after the missed call, outside its frame, since only a
-- later call takes a call off the list. The calls of no known caller share one stream of
-- missed calls alone, and never leave the list.
next_connected as (

    select
        *,
        min(case when is_connecting then started_at end) over (
            partition by caller_key
            order by started_at desc, is_connecting asc, call_id desc
            rows between unbounded preceding and 1 preceding
        ) as leaves_list_at
    from caller_events

),

items as (

    select
        next_connected.call_id,
        numbers.caller_phone_e164,
        next_connected.caller_key,
        next_connected.location_id,
        next_connected.started_date_utc,
        next_connected.started_at,
        next_connected.started_at_local,
        next_connected.wait_seconds,
        next_connected.outcome,
        next_connected.marketing_source,
        next_connected.caller_type,
        {{ conversion_cell_id(
            'next_connected.location_id',
            'next_connected.marketing_source',
            'next_connected.caller_type'
        ) }} as cell_id,
        next_connected.leaves_list_at
    from next_connected
    left join numbers
        on next_connected.call_id = numbers.call_id
    where next_connected.is_missed_opportunity

),

-- each caller's first connected call of the days rebuilt
first_connected as (

    select
        caller_key,
        min(started_at) as connected_at
    from caller_events
    where is_connecting
    group by caller_key

),

earlier_items as (

    select
        earlier.call_id,
        earlier.caller_phone_e164,
        earlier.caller_key,
        earlier.location_id,
        earlier.started_date_utc,
        earlier.started_at,
        earlier.started_at_local,
        earlier.wait_seconds,
        earlier.outcome,
        earlier.marketing_source,
        earlier.caller_type,
        earlier.cell_id,
        first_connected.connected_at as leaves_list_at
    -- none on a full build (the items themselves, filtered to nothing, stand in for the
    -- table not built yet)
    from {{ this if is_incremental() else 'items' }} as earlier
    left join first_connected
        on earlier.caller_key = first_connected.caller_key
    where
        earlier.started_at < {{ calls_rebuilt_from() }}
        and (
            earlier.leaves_list_at >= {{ calls_rebuilt_from() }}
            or (earlier.leaves_list_at is null and first_connected.caller_key is not null)
        )

),

final as (

    select * from items
    union all
    select * from earlier_items

)

select * from final
