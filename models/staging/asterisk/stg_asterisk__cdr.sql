{#
    One row per CDR leg. The raw CDR table is typed by the loader's COPY (timestamps, bigints).
    The PBX writes local wall-clock times in its own time zone
    (reference: pbx_systems), so this model looks that zone up to give UTC timestamps: the one
    join in staging, because no model downstream should ever see PBX-local times.
    When the clocks go back, the repeated hour (01:00-02:00 local) names two instants, and
    a plain `at time zone` would put every call of the first (daylight-time) pass one hour
    late. local_to_utc picks the instant nearest an independent hint: the start from the
    uniqueid (the epoch second the channel was created, UTC by nature), the end from the start
    plus duration, the answer from the end minus billsec.
#}
{{ config(
    unique_key='leg_id',
    indexes=[
        {'columns': ['leg_id'], 'unique': True},
        {'columns': ['_loaded_at']},
        {'columns': ['_staged_at']},
        {'columns': ['started_at']},
    ],
    pre_hook="{{ forget_moved_rows(source('asterisk', 'cdr')) }}",
    call_input_time='started_at',
    post_hook="{{ record_call_input_change() }}",
) }}

with

source as (

    {{ dedupe_latest(source('asterisk', 'cdr'), ['pbx_id', 'uniqueid', 'sequence'],
        lookup=['pbx_id', 'uniqueid']) }}

),

pbx_systems as (

    select * from {{ ref('pbx_systems') }}

),

located as (

    select
        source.*,
        pbx_systems.timezone as pbx_timezone,
        -- uniqueid is <epoch seconds>.<counter>: when the channel was created, about the
        -- leg's start. Anything else (a hand-made or foreign id) gives no hint.
        case
            when split_part(source.uniqueid, '.', 1) ~ '^[0-9]{9,11}$'
                then to_timestamp(split_part(source.uniqueid, '.', 1)::bigint)
        end as channel_created_at

    from source
    inner join pbx_systems
        on source.pbx_id = pbx_systems.pbx_id

),

started as (

    select
        *,
        {{ local_to_utc('start', 'pbx_timezone', 'channel_created_at') }} as started_at

    from located

),

ended as (

    select
        *,
        {{ local_to_utc('cdr_end', 'pbx_timezone', "started_at + duration * interval '1 second'") }}
            as ended_at

    from started

),

renamed as (

    select
        pbx_id || ':' || uniqueid || ':' || sequence as leg_id,
        pbx_id,
        uniqueid,
        linkedid,
        sequence::integer as leg_sequence,
        nullif(accountcode, '') as accountcode,
        src as source_number,
        dst as destination,
        {{ phone_to_e164('src') }} as source_phone_e164,
        {{ phone_to_e164('dst') }} as destination_phone_e164,
        dcontext as dialplan_context,
        clid as caller_id,
        channel,
        nullif(dstchannel, '') as destination_channel,
        lastapp as last_application,
        lastdata as last_application_data,
        disposition,
        amaflags as ama_flags,
        nullif(userfield, '') as userfield,
        nullif(peeraccount, '') as peer_account,
        started_at,
        {{ local_to_utc('answer', 'pbx_timezone', "ended_at - billsec * interval '1 second'") }}
            as answered_at,
        ended_at,
        duration::integer as duration_seconds,
        billsec::integer as billable_seconds,
        lastapp = 'VoiceMail' as is_voicemail_leg,
        _source_file,
        _line_number,
        _file_sha256,
        _loaded_at,
        _staged_at

    from ended

)

select * from renamed
