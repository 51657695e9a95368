{#
    Whether the warehouse reads each PBX and location right, one row per PBX and location
    (docs/pbx.md, "Data health"). A location's row holds all its calls, under the PBX that
    carries most of them (none for a location CallRail alone sees); each PBX has a row with no
    location for what no location claims: its unplaced calls, internal and consult calls, calls
    started by channels its patterns do not recognise, and its quarantined lines. A PBX whose
    files were loaded but that has no pbx_systems row has such a row too: none of its calls
    can be read. The is_* flags compare the figures with the health_* vars; the dbt tests of
    this model warn on each, and `callshrink doctor` explains them.
#}
with

calls as (

    select * from {{ ref('int_calls_classified') }}

),

pbx_groups as (

    select * from {{ ref('int_pbx_calls_grouped') }}

),

pbx_systems as (

    select * from {{ ref('int_pbx_systems_configured') }}

),

loaded_files as (

    select * from {{ ref('stg_loader__files') }}

),

-- one pass over each PBX's call groups: how far its data reaches (a PBX export that lags
-- CallRail by a day is no misreading, so tracked calls after it are not judged) and what no
-- location claims
pbx_group_figures as (

    select
        pbx_id,
        max(started_at) as newest_started_at,
        count(*) filter (where direction = 'internal' and parent_pbx_call_id is null)
            as internal_calls,
        count(*) filter (where parent_pbx_call_id is not null) as consult_calls,
        count(*) filter (where direction = 'unknown' or has_unknown_channel)
            as unknown_channel_calls,
        -- longer than an incremental build reaches back (macros/incremental_window.sql)
        count(*) filter (
            where ended_at > started_at + interval '{{ var("incremental_lookback_hours") }} hours'
        ) as long_calls
    from pbx_groups
    group by pbx_id

),

-- one pass over the calls, every count by location and PBX. Whether a tracked call came
-- after its location's PBX's newest call is known only once the counts say which PBX that
-- is, so the calls after the earliest of the PBXs' newest calls (the last hours, as a rule;
-- all since a PBX went silent, if one did) keep their start as a group of their own, to be
-- compared below; the rest, before every PBX's newest call, are counted whatever the PBX.
calls_grouped as (

    select
        location_id,
        pbx_id,
        case
            when
                started_at > (
                    select min(pbx_group_figures.newest_started_at) from pbx_group_figures
                )
                then started_at
        end as late_started_at,
        count(*) filter (where direction = 'inbound') as inbound_calls,
        count(*) filter (where direction = 'outbound') as outbound_calls,
        count(*) filter (where direction = 'inbound' and has_callrail_record)
            as tracked_inbound_calls,
        count(*) filter (
            where direction = 'inbound' and has_callrail_record and has_pbx_record
        ) as stitched_inbound_calls,
        count(*) filter (where direction = 'inbound' and has_pbx_record) as pbx_inbound_calls,
        count(*) filter (
            where direction = 'inbound' and has_pbx_record and pbx_dialled_phone_e164 is null
        ) as undialled_pbx_inbound_calls
    from calls
    group by location_id, pbx_id, late_started_at

),

-- each location's and PBX's inbound PBX calls: the counts location_pbxs and pbx_totals need
pbx_call_counts as (

    select
        location_id,
        pbx_id,
        sum(pbx_inbound_calls) as pbx_calls
    from calls_grouped
    group by location_id, pbx_id

),

location_pbxs as (

    -- the PBX that carries most of a location's inbound calls
    select distinct on (location_id)
        location_id,
        pbx_id
    from pbx_call_counts
    where location_id is not null
    order by location_id asc, pbx_calls desc, pbx_id asc

),

-- a location's calls then go under its PBX below
calls_counted as (

    select
        calls_grouped.location_id,
        calls_grouped.pbx_id,
        location_pbxs.pbx_id as location_pbx_id,
        sum(calls_grouped.inbound_calls) as inbound_calls,
        sum(calls_grouped.outbound_calls) as outbound_calls,
        coalesce(sum(calls_grouped.tracked_inbound_calls) filter (
            where calls_grouped.late_started_at is null
            or calls_grouped.late_started_at
            <= coalesce(pbx_group_figures.newest_started_at, 'infinity')
        ), 0) as tracked_inbound_calls,
        coalesce(sum(calls_grouped.stitched_inbound_calls) filter (
            where calls_grouped.late_started_at is null
            or calls_grouped.late_started_at
            <= coalesce(pbx_group_figures.newest_started_at, 'infinity')
        ), 0) as stitched_inbound_calls,
        sum(calls_grouped.pbx_inbound_calls) as pbx_inbound_calls,
        sum(calls_grouped.undialled_pbx_inbound_calls) as undialled_pbx_inbound_calls
    from calls_grouped
    left join location_pbxs
        on calls_grouped.location_id = location_pbxs.location_id
    left join pbx_group_figures
        on location_pbxs.pbx_id = pbx_group_figures.pbx_id
    group by calls_grouped.location_id, calls_grouped.pbx_id, location_pbxs.pbx_id

),

call_figures as (

    select
        case when location_id is not null then location_pbx_id else pbx_id end as pbx_id,
        location_id,
        sum(inbound_calls)::bigint as inbound_calls,
        sum(outbound_calls)::bigint as outbound_calls,
        sum(tracked_inbound_calls)::bigint as tracked_inbound_calls,
        sum(stitched_inbound_calls)::bigint as stitched_inbound_calls,
        sum(pbx_inbound_calls)::bigint as pbx_inbound_calls,
        sum(undialled_pbx_inbound_calls)::bigint as undialled_pbx_inbound_calls
    from calls_counted
    group by case when location_id is not null then location_pbx_id else pbx_id end, location_id

),

file_figures as (

    select
        pbx_id,
        null::text as location_id,
        sum(rows_loaded)::bigint as pbx_rows_loaded,
        sum(rows_quarantined)::bigint as quarantined_lines,
        sum(lines_decoded_latin1)::bigint as latin1_lines
    from loaded_files
    where pbx_id is not null
    group by pbx_id

),

pbx_rows as (

    -- every PBX gets a row without a location: configured ones and ones only files name
    select
        pbx_id,
        null::text as location_id
    from pbx_systems
    union
    select
        pbx_id,
        null::text as location_id
    from file_figures

),

keys as (

    select
        pbx_id,
        location_id
    from call_figures
    union
    select
        pbx_id,
        location_id
    from pbx_rows

),

pbx_totals as (

    -- each PBX's own inbound calls, wherever they are placed: the unplaced share's
    -- denominator. Not the sum of the PBX's rows, which hold a location's calls from every
    -- PBX (under the one that carries most) and none of another PBX's locations.
    select
        pbx_id,
        sum(pbx_calls)::bigint as pbx_inbound_calls
    from pbx_call_counts
    where pbx_id is not null
    group by pbx_id

),

joined as (

    select
        keys.pbx_id,
        keys.location_id,
        keys.pbx_id is null or pbx_systems.pbx_id is not null as is_configured,
        coalesce(pbx_systems.uses_defaults, false) as uses_default_interpretation,
        coalesce(call_figures.inbound_calls, 0) as inbound_calls,
        coalesce(call_figures.outbound_calls, 0) as outbound_calls,
        coalesce(call_figures.tracked_inbound_calls, 0) as tracked_inbound_calls,
        coalesce(call_figures.stitched_inbound_calls, 0) as stitched_inbound_calls,
        coalesce(call_figures.pbx_inbound_calls, 0) as pbx_inbound_calls,
        coalesce(call_figures.undialled_pbx_inbound_calls, 0) as undialled_pbx_inbound_calls,
        coalesce(pbx_group_figures.internal_calls, 0) as internal_calls,
        coalesce(pbx_group_figures.consult_calls, 0) as consult_calls,
        coalesce(pbx_group_figures.unknown_channel_calls, 0) as unknown_channel_calls,
        coalesce(pbx_group_figures.long_calls, 0) as long_calls,
        coalesce(file_figures.pbx_rows_loaded, 0) as pbx_rows_loaded,
        coalesce(file_figures.quarantined_lines, 0) as quarantined_lines,
        coalesce(file_figures.latin1_lines, 0) as latin1_lines,
        pbx_totals.pbx_inbound_calls as all_pbx_inbound_calls
    from keys
    left join call_figures
        on
            keys.pbx_id is not distinct from call_figures.pbx_id
            and keys.location_id is not distinct from call_figures.location_id
    left join pbx_group_figures
        on keys.pbx_id = pbx_group_figures.pbx_id and keys.location_id is null
    left join file_figures
        on keys.pbx_id = file_figures.pbx_id and keys.location_id is null
    left join pbx_systems
        on keys.pbx_id = pbx_systems.pbx_id
    left join pbx_totals
        on keys.pbx_id = pbx_totals.pbx_id

),

measured as (

    select
        coalesce(pbx_id, '(no pbx)') || ':' || coalesce(location_id, '(no location)')
            as data_health_id,
        *,
        case
            when pbx_id is not null and location_id is not null
                then round(stitched_inbound_calls::numeric / nullif(tracked_inbound_calls, 0), 4)
        end as stitch_share,
        case
            when pbx_id is not null and location_id is null
                then round(pbx_inbound_calls::numeric / nullif(all_pbx_inbound_calls, 0), 4)
        end as unplaced_share,
        round(undialled_pbx_inbound_calls::numeric / nullif(pbx_inbound_calls, 0), 4)
            as undialled_share
    from joined

),

final as (

    select
        data_health_id,
        pbx_id,
        location_id,
        is_configured,
        uses_default_interpretation,
        inbound_calls,
        outbound_calls,
        tracked_inbound_calls,
        stitched_inbound_calls,
        stitch_share,
        pbx_inbound_calls,
        unplaced_share,
        undialled_pbx_inbound_calls,
        undialled_share,
        internal_calls,
        consult_calls,
        unknown_channel_calls,
        long_calls,
        pbx_rows_loaded,
        quarantined_lines,
        latin1_lines,
        not is_configured as is_pbx_unconfigured,
        coalesce(stitch_share < {{ var('health_min_stitch_share') }}, false)
            as is_stitch_share_low,
        coalesce(unplaced_share > {{ var('health_max_unplaced_share') }}, false)
            as is_unplaced_share_high,
        coalesce(undialled_share > {{ var('health_max_undialled_share') }}, false)
            as is_undialled_share_high,
        unknown_channel_calls > 0 as has_unknown_channels,
        long_calls > 0 as has_long_calls
    from measured

)

select * from final
