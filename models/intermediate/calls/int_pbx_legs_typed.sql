{#
    Each PBX leg (one CDR record) with what its channels are and the part it played, read with
    the PBX's interpretation (int_pbx_systems_configured, docs/pbx.md):
    - a channel is a `phone` (matches the phone pattern), a `trunk` (the trunk pattern, or by
      default any other channel), `local` (Local/ and the PBX's other internal channels, such
      as the `;2` half of a FreePBX queue member) or `unknown` (a trunk pattern is set and the
      channel matches neither);
    - the leg type, from the record alone: the caller's own trunk leg (`trunk`), a queue member
      or dialled phone that rang (`ring`) or answered (`agent`), the escalation queue
      (reference escalation_queues), `voicemail`, a phone dialling out over a trunk
      (`outbound`), phone to phone (`internal`), Local-channel plumbing (`local`) that only
      repeats a `;1` leg, or a leg of a channel the patterns do not recognise (`unknown`).
      call_legs refines these with the call around them (a later answered leg is a transfer,
      an attended transfer's consult call is a consult).
    Contexts are never read: their names are the installer's choice.
    Incremental by the leg's UTC day like the call models, so the regular expressions run once
    per leg and the models that read legs (int_pbx_calls_grouped, call_legs,
    int_pbx_names_counted) read a table, not the staging view again. A changed interpretation
    in pbx_systems reaches the days the next run recomputes; `callshrink run --full-refresh`
    re-reads the whole history.
#}
with

legs as (

    select * from {{ ref('stg_asterisk__cdr') }}
    where {{ in_call_window('started_at') }}

),

pbx_systems as (

    select * from {{ ref('int_pbx_systems_configured') }}

),

escalation_queues as (

    select * from {{ ref('escalation_queues') }}

),

named as (

    select
        legs.*,
        (legs.started_at at time zone 'UTC')::date as started_date_utc,
        legs.pbx_id || ':' || legs.linkedid as pbx_call_id,
        -- the channel without its per-call suffix: PJSIP/101-0000002a -> PJSIP/101,
        -- Local/101@from-queue-0000abcd;2 -> Local/101@from-queue
        regexp_replace(legs.channel, '-[0-9a-fA-F]+(;[0-9]+)?$', '') as channel_endpoint,
        regexp_replace(legs.destination_channel, '-[0-9a-fA-F]+(;[0-9]+)?$', '')
            as destination_endpoint,
        {{ pbx_channel_role('legs.channel') }} as channel_role,
        {{ pbx_channel_role('legs.destination_channel') }} as destination_role,
        case
            when legs.last_application = 'Queue'
                then split_part(legs.last_application_data, ',', 1)
        end as queue_name,
        -- Dial(<targets>,<timeout>,...): how long a Dial leg rings before it gives up
        case
            when legs.last_application = 'Dial'
                then {{ safe_integer("split_part(legs.last_application_data, ',', 2)") }}
        end as dial_timeout_seconds,
        -- the extension at the far end: PJSIP/101-00001da6 or Local/101@from-queue-... -> 101
        substring(legs.destination_channel from '^[A-Za-z0-9]+/([^-@;/]+)')
            as destination_extension
    from legs
    inner join pbx_systems
        on legs.pbx_id = pbx_systems.pbx_id

),

flagged as (

    select
        named.*,
        escalation_queues.queuename is not null as is_escalation_leg,
        named.destination_channel is not null
        and named.disposition = 'ANSWERED'
        and not named.is_voicemail_leg as is_person_answered
    from named
    left join escalation_queues
        on
            named.pbx_id = escalation_queues.pbx_id
            and named.queue_name = escalation_queues.queuename

),

final as (

    -- `case channel_role when ...` reads the role once: Postgres writes a CTE's expression
    -- in place of each use of its column, and the role is a few regular expressions
    select
        *,
        case
            when is_voicemail_leg then 'voicemail'
            else
                case channel_role
                    when 'local' then 'local'
                    when 'unknown' then 'unknown'
                    when 'trunk'
                        then
                            case
                                when destination_channel is null then 'trunk'
                                when is_escalation_leg then 'escalation'
                                when is_person_answered then 'agent'
                                else 'ring'
                            end
                    else
                        case
                            when destination_role = 'trunk' then 'outbound'
                            else 'internal'
                        end
                end
        end as leg_type
    from flagged

)

select * from final
