{#
    One row per conversion-eligible call: an answered inbound call that is not a repeat call
    (no inbound, not-spam call from the caller in the 24 h before it; docs/metrics.md, Money). Its
    attributed net revenue (payments - refunds + won deals attributed to it) says whether it
    converted (net revenue > 0) and for how much. The base of conversion_rate,
    value_per_answered_call_usd and of the conversion cells that value missed calls. A call is
    mature when it started var conversion_maturity_days or more before the newest revenue
    record: its sale, if any, has had time to arrive.

    Incremental like the call marts (in_rewritten_calls): a build writes the calls calls
    rewrote since its last one, and rewrites the other calls it holds whose figures can have
    changed: the calls of the attributions written since (their `_built_at`) and of those
    removed since (logged by revenue_attributions, macros/revenue_changes.sql), and the
    calls the newest revenue record moved across the maturity line. Each is read by an
    index (the call; maturity and start), and the revenue is summed for the calls written
    only: a day's build reads the day's calls and attributions, not every call it holds.
#}
{{ config(
    materialized='incremental',
    incremental_strategy='delete+insert',
    unique_key='call_id',
    on_schema_change='fail',
    rewrites_older_calls=true,
    pre_hook=["{{ create_missing_indexes() }}"],
    post_hook=["{{ record_call_model_build() }}"],
) }}
{%- set since = last_build_time() if is_incremental() else none %}
{#- a call is mature when it started at this line or before; no revenue record: none is -#}
{%- set maturity_line = "coalesce((select newest.newest_revenue_at from newest_revenue as newest)"
    ~ " - interval '" ~ var('conversion_maturity_days') ~ " days', '-infinity')" %}
{%- set written_calls_only =
    'call_id = any(array(select written.call_id from written_calls as written))' %}
{%- set eligible_columns = [
    'call_id', 'location_id', 'region', 'marketing_source', 'marketing_campaign',
    'caller_type', 'started_at', 'started_at_local', 'started_date', 'started_hour'] %}

with

-- read twice (the eligible calls, the calls not to take from this table): each read takes
-- calls' index ranges instead of one copy of every column
calls as not materialized (

    select * from {{ ref('calls') }}
    where {{ in_rewritten_calls(stamped=true) }}

),

-- read two or three times (the newest record, each call's revenue, the changed calls): not
-- materialized, so that no read copies every attribution first and each takes its index
attributions as not materialized (

    select * from {{ ref('revenue_attributions') }}

),

eligible_calls as (

    select {{ eligible_columns | join(', ') }}
    from calls
    where is_answered and not is_repeat_call

),

newest_revenue as (

    select max(occurred_at) as newest_revenue_at
    from attributions

),

{%- if is_incremental() %}

    -- the calls whose attributed revenue can have changed since the last build: those of the
    -- attributions written since and of those removed since
    changed_calls as (

        select call_id from attributions
        where _built_at > {{ since }} and call_id is not null
        union
        {{ attribution_changed_calls(since) }}

    ),

    -- the calls built before whose figures can have changed: their revenue, or their maturity
    -- (a call on the wrong side of the maturity line). Three reads, each by an index: as
    -- one `or`, Postgres tests every row it reads against every changed call, one by one.
    changed_kept_calls as (

        select {{ eligible_columns | join(', ') }} from {{ this }}
        where call_id = any(array(select changed.call_id from changed_calls as changed))
        union
        select {{ eligible_columns | join(', ') }} from {{ this }}
        where is_mature and started_at > {{ maturity_line }}
        union
        select {{ eligible_columns | join(', ') }} from {{ this }}
        where not is_mature and started_at <= {{ maturity_line }}

    ),

    -- of those, the ones not rewritten above
    kept_calls as (

        select * from changed_kept_calls
        where
            call_id not in (select rewritten.call_id from calls as rewritten)
            and not ({{ in_call_window('started_at') }})

    ),
{%- endif %}

written_calls as (

    select * from eligible_calls
    {%- if is_incremental() %}
        union all
        select * from kept_calls
    {%- endif %}

),

call_revenue as (

    select
        call_id,
        sum(signed_amount_usd) as net_revenue_usd,
        count(*) as revenue_records
    from attributions
    where
        is_attributed
        -- an incremental build: the calls written only, by the index on call_id
        and {{ written_calls_only if is_incremental() else 'true' }}
    group by call_id

),

final as (

    select
        written_calls.*,
        coalesce(call_revenue.net_revenue_usd, 0)::numeric(18, 2) as net_revenue_usd,
        coalesce(call_revenue.net_revenue_usd, 0) > 0 as is_converted,
        case
            when call_revenue.net_revenue_usd > 0 then call_revenue.net_revenue_usd
            else 0
        end::numeric(18, 2) as converted_value_usd,
        coalesce(call_revenue.revenue_records, 0)::integer as revenue_records,
        written_calls.started_at <= {{ maturity_line }} as is_mature,
        {{ build_time() }} as _built_at
    from written_calls
    left join call_revenue
        on written_calls.call_id = call_revenue.call_id

)

select * from final
