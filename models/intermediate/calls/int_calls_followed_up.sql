{#
    What came after each call, from the same caller (any location, either direction):
    - recovery: a missed opportunity (voicemail, abandoned, missed) is recovered by the first
      connected call within `recovery_window_hours`: an answered inbound call (the caller
      tried again) or an answered outbound call (a callback);
    - repeat contacts: inbound calls, not spam, within 24 h and 7 days of an answered call;
    - new or returning: a caller's first inbound call at a location is "new";
    - looking back (finance's conversion and shrink): a repeat call (an inbound, not-spam call
      from the caller in the 24 h before it) and the first unanswered attempt of a chain (no
      unanswered inbound call from the caller in the recovery window before it);
    - customer effort and process compliance, per docs/metrics.md, from the above.
    Incremental: the calls from the cutoff are recomputed whole, as in the other call models.
    A call's values look `followup_days()` ahead, so an older call of those days changes only
    when its caller has a call from the cutoff, as built now or as built before (a call
    re-stitched to another number changes the follow-ups of both callers): only those
    callers' older calls are recomputed (`touched_callers`), not every call of the follow-up
    days. The rows carry the time of the build that wrote them (`_built_at`), for the models
    downstream to follow (in_rewritten_calls). "New" looks back over the whole history; the
    look-back flags read the inputs `lookback_days` further back than the rows written
    (in_call_window's margin).
#}
{{ config(
    rewrites_older_calls=true,
    indexes=[
        {'columns': ['started_date_utc']},
        {'columns': ['started_at']},
        {'columns': ['_built_at']},
    ],
) }}
{%- set service_level = var('service_level_seconds') %}
{%- set rules = var('compliance_rules') %}
{#- Days the look-back flags reach before a call: 24 h for repeats, the recovery window for
    chains of unanswered attempts. -#}
{%- set lookback_days = [1, ((var('recovery_window_hours') + 23) // 24)] | max %}
{%- set lookback = "interval '" ~ lookback_days * 24 ~ " hours'" %}
{%- set unanswered_outcomes =
    "('voicemail', 'abandoned', 'missed', 'short_abandon', 'after_hours')" %}
{%- set any_touched_caller =
    "any(array(select touched.caller_phone_e164 from touched_callers as touched))" %}
{%- set compliance_checks = [] %}
{%- if rules.answered_within_service_level %}
    {%- do compliance_checks.append(
        "not coalesce(outcome = 'answered' and service_wait_seconds > " ~ service_level ~ ", false)"
    ) %}
{%- endif %}
{%- if rules.missed_recovered_within_window %}
    {%- do compliance_checks.append("not (is_missed_opportunity and not is_recovered)") %}
{%- endif %}
{%- if rules.after_hours_to_voicemail %}
    {%- do compliance_checks.append("not (outcome = 'after_hours' and not has_voicemail)") %}
{%- endif %}

with

-- not materialized: each use reads the rows it needs (the window by the start index, a
-- call's earlier calls by the caller index) instead of one copy of every column of every call
classified_calls as not materialized (

    select * from {{ ref('int_calls_classified') }}

),
{%- if is_incremental() %}

    touched_callers as (

        -- the callers of the calls from the cutoff, as built now and as built before
        select caller_phone_e164 from classified_calls
        where {{ in_call_window('started_at') }} and caller_phone_e164 is not null
        union
        select caller_phone_e164 from {{ this }}
        where {{ in_call_window('started_at') }} and caller_phone_e164 is not null

    ),
{%- endif %}

window_calls as (

    -- the calls from the cutoff, and the touched callers' calls of the follow-up days before
    -- it, each read by an index (the second by caller: `= any(array)` is one index scan,
    -- where `in (select)` would read every call of those days to hash them)
    select * from classified_calls
    where {{ in_call_window('started_at') }}
    {%- if is_incremental() %}
        union all
        select * from classified_calls
        where
            {{ in_call_window('started_at', extra_days=followup_days()) }}
            and not ({{ in_call_window('started_at') }})
            and caller_phone_e164 = {{ any_touched_caller }}
    {%- endif %}

),

calls as (

    select
        *,
        case
            when direction = 'inbound' then coalesce(outcome = 'answered', false)
            else coalesce(is_person_answered, callrail_is_answered, false)
        end as is_connected,
        coalesce(outcome in ('voicemail', 'abandoned', 'missed'), false)
            as is_missed_opportunity,
        coalesce(outcome in ('answered', 'voicemail', 'abandoned', 'missed'), false)
            as is_answer_rate_eligible,
        coalesce(direction = 'inbound' and outcome in {{ unanswered_outcomes }}, false)
            as is_unanswered
    from window_calls

),

earlier_inbound_calls as (

    -- inbound calls (not spam) a call written here may look back to: the inputs reach
    -- lookback_days before the first day written
    select
        call_id,
        caller_phone_e164,
        started_at,
        coalesce(outcome in {{ unanswered_outcomes }}, false) as is_unanswered
    from classified_calls
    where
        direction = 'inbound'
        and not coalesce(is_spam, false)
        and caller_phone_e164 is not null
        and {{ in_call_window('started_at', extra_days=followup_days(), margin=lookback) }}
        -- an incremental build: the callers the new calls touched
        and {{ 'caller_phone_e164 = ' ~ any_touched_caller if is_incremental() else 'true' }}

),

lookbacks as (

    select
        calls.call_id,
        bool_or(earlier.started_at >= calls.started_at - interval '24 hours')
            as has_inbound_call_24h_before,
        bool_or(
            earlier.is_unanswered
            and earlier.started_at
            >= calls.started_at - interval '{{ var("recovery_window_hours") }} hours'
        ) as has_unanswered_call_before
    from calls
    inner join earlier_inbound_calls as earlier
        on
            calls.caller_phone_e164 = earlier.caller_phone_e164
            and calls.started_at > earlier.started_at
            -- hours, not days: a day of a session time zone with daylight saving can be
            -- 23 hours long, and the look-back must reach a whole 24
            and calls.started_at - interval '{{ lookback_days * 24 }} hours'
            <= earlier.started_at
            and calls.call_id <> earlier.call_id
    where calls.direction = 'inbound'
    group by calls.call_id

),

returning_calls as (

    -- inbound calls with an earlier inbound call from the same number at the same location,
    -- over all calls ever built (the earlier of two at the same second is the lower call_id).
    -- One probe of the caller index per call, a nested loop on purpose (LIMIT keeps the
    -- planner from hashing the whole history instead): the day's work stays the day's size.
    select calls.call_id
    from calls
    cross join
        -- noqa: disable=RF03
        -- (sqlfluff reads the correlated `calls.` references as the subquery's own)
        lateral (
            select call_id
            from classified_calls
            where
                caller_phone_e164 = calls.caller_phone_e164
                and started_at <= calls.started_at
                and (started_at < calls.started_at or call_id < calls.call_id)
                and direction = 'inbound'
                and location_id is not distinct from calls.location_id
            order by started_at
            limit 1
        ) as earlier
    -- noqa: enable=RF03
    where calls.direction = 'inbound'

),

later_calls as (

    select
        calls.call_id,
        later.call_id as later_call_id,
        later.direction as later_direction,
        later.started_at as later_started_at,
        later.started_at - calls.started_at as gap,
        later.is_connected as is_later_connected
    from calls
    inner join calls as later
        on
            calls.caller_phone_e164 = later.caller_phone_e164
            and calls.started_at < later.started_at
            and calls.started_at + interval '{{ followup_days() | int * 24 }} hours'
            >= later.started_at
    where (calls.is_answer_rate_eligible or calls.is_unanswered) and not later.is_spam

),

followups as (

    select
        call_id,
        (array_agg(later_call_id order by later_started_at, later_call_id) filter (
            where is_later_connected and gap <= interval '{{ var("recovery_window_hours") }} hours'
        ))[1] as recovered_by_call_id,
        count(*) filter (
            where later_direction = 'inbound' and gap <= interval '24 hours'
        ) as repeat_contacts_24h,
        count(*) filter (
            where later_direction = 'inbound' and gap <= interval '7 days'
        ) as repeat_contacts_7d,
        bool_or(
            later_direction = 'inbound'
            and gap <= interval '{{ var("recovery_window_hours") }} hours'
        ) as is_retried
    from later_calls
    group by call_id

),

linked as (

    select
        calls.*,
        case
            when calls.direction <> 'inbound' then null
            when calls.caller_phone_e164 is null then 'unknown'
            when returning_calls.call_id is not null then 'returning'
            else 'new'
        end as caller_type,
        calls.is_missed_opportunity and followups.recovered_by_call_id is not null
            as is_recovered,
        case when calls.is_missed_opportunity then followups.recovered_by_call_id end
            as recovered_by_call_id,
        coalesce(followups.repeat_contacts_24h, 0) as repeat_contacts_24h,
        calls.outcome = 'answered' and coalesce(followups.repeat_contacts_24h, 0) > 0
            as is_repeat_24h,
        calls.outcome = 'answered' and coalesce(followups.repeat_contacts_7d, 0) > 0
            as is_repeat_7d,
        calls.outcome = 'abandoned' and coalesce(followups.is_retried, false)
            as is_abandoned_then_retried,
        calls.is_unanswered and followups.recovered_by_call_id is not null
            as is_unanswered_recovered,
        calls.direction = 'inbound'
        and coalesce(lookbacks.has_inbound_call_24h_before, false)
            as is_repeat_call,
        calls.is_unanswered
        and not coalesce(lookbacks.has_unanswered_call_before, false)
            as is_first_unanswered_attempt
    from calls
    left join returning_calls
        on calls.call_id = returning_calls.call_id
    left join followups
        on calls.call_id = followups.call_id
    left join lookbacks
        on calls.call_id = lookbacks.call_id

),

recovered as (

    select
        linked.*,
        recovering.started_at as recovered_at,
        recovering.direction as recovered_by_direction,
        round(extract(epoch from recovering.started_at - linked.started_at) / 60.0, 2)
            as minutes_to_recovery
    from linked
    left join calls as recovering
        on linked.recovered_by_call_id = recovering.call_id

),

final as (

    select
        *,
        -- friction the caller met: a long wait, each transfer, each repeat call within a
        -- day of an answered call, an abandon they had to retry (answer-rate eligible calls)
        case
            when is_answer_rate_eligible
                then
                    (coalesce(service_wait_seconds, 0) > {{ service_level }})::integer
                    + coalesce(transfer_count, 0)::integer
                    + case when outcome = 'answered' then repeat_contacts_24h::integer else 0 end
                    + is_abandoned_then_retried::integer
        end as customer_effort_events,
        -- every rule of the service standard in force (var compliance_rules) that applies
        -- to the call holds; answered calls whose speed of answer is unknown pass the first
        case
            when is_answer_rate_eligible or outcome = 'after_hours'
                then {{ compliance_checks | join(' and ') if compliance_checks else 'true' }}
        end as is_compliant,
        {{ build_time() }} as _built_at
    from recovered

)

select * from final
