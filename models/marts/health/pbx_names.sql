{#
    Every name each PBX writes, and what the warehouse makes of it: channel names (without
    their per-call suffix) with their role (phone, trunk, local, unknown), dialplan contexts
    (never interpreted, listed so a new one is noticed), and the dialled numbers and queues of
    its inbound calls with the location the crosswalk gives them (none: unplaced).
#}
with

names_by_day as (

    select * from {{ ref('int_pbx_names_counted') }}

),

crosswalk as (

    select * from {{ ref('int_location_crosswalk') }}

),

names as (

    select
        pbx_id,
        kind,
        written_as,
        -- the role the PBX's patterns gave the name most recently
        (array_agg(channel_role order by started_date_utc desc))[1] as channel_role,
        sum(seen)::bigint as seen,
        min(started_date_utc) as first_seen_date,
        max(started_date_utc) as last_seen_date
    from names_by_day
    group by pbx_id, kind, written_as

),

pbx_spans as (

    select
        pbx_id,
        min(first_seen_date) as oldest_date,
        max(last_seen_date) as newest_date
    from names
    group by pbx_id

),

final as (

    select
        names.pbx_id || ':' || names.kind || ':' || names.written_as as pbx_name_id,
        names.pbx_id,
        names.kind,
        names.written_as,
        names.channel_role,
        coalesce(by_did.location_id, by_queue.location_id) as location_id,
        names.seen,
        names.first_seen_date,
        names.last_seen_date,
        -- new: first seen within the PBX's newest days, when the PBX has older data to
        -- compare with (on a first load every name is as old as the data)
        names.first_seen_date
        > pbx_spans.newest_date - {{ var('health_new_name_days') }}
        and pbx_spans.oldest_date
        <= pbx_spans.newest_date - {{ var('health_new_name_days') }} as is_new
    from names
    inner join pbx_spans
        on names.pbx_id = pbx_spans.pbx_id
    left join crosswalk as by_did
        on
            names.kind = 'dialled_number'
            and by_did.system = 'pbx_did'
            and names.written_as = by_did.external_id
    left join crosswalk as by_queue
        on
            names.kind = 'queue'
            and by_queue.system = 'pbx_queue'
            and names.pbx_id || ':' || names.written_as = by_queue.external_id

)

select * from final
