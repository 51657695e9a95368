{#
    One row per CDR leg. The raw CDR table is typed by the loader's COPY (timestamps, bigints).
    The PBX writes local wall-clock times in its own time zone
    (reference: pbx_systems), so this model looks that zone up to give UTC timestamps: the one
    join in staging, because no model downstream should ever see PBX-local times.
#}
with

source as (

    {{ dedupe_latest(source('asterisk', 'cdr'), ['pbx_id', 'uniqueid', 'sequence']) }}

),

pbx_systems as (

    select * from {{ ref('pbx_systems') }}

),

renamed as (

    select
        source.pbx_id || ':' || source.uniqueid || ':' || source.sequence as leg_id,
        source.pbx_id,
        source.uniqueid,
        source.linkedid,
        source.sequence::integer as leg_sequence,
        nullif(source.accountcode, '') as accountcode,
        source.src as source_number,
        source.dst as destination,
        {{ phone_to_e164('source.src') }} as source_phone_e164,
        {{ phone_to_e164('source.dst') }} as destination_phone_e164,
        source.dcontext as dialplan_context,
        source.clid as caller_id,
        source.channel,
        nullif(source.dstchannel, '') as destination_channel,
        source.lastapp as last_application,
        source.lastdata as last_application_data,
        source.disposition,
        source.amaflags as ama_flags,
        nullif(source.userfield, '') as userfield,
        nullif(source.peeraccount, '') as peer_account,
        source.start at time zone pbx_systems.timezone as started_at,
        source.answer at time zone pbx_systems.timezone as answered_at,
        source.cdr_end at time zone pbx_systems.timezone as ended_at,
        source.duration::integer as duration_seconds,
        source.billsec::integer as billable_seconds,
        source.lastapp = 'VoiceMail' as is_voicemail_leg,
        source._source_file,
        source._line_number,
        source._loaded_at

    from source
    inner join pbx_systems
        on source.pbx_id = pbx_systems.pbx_id

)

select * from renamed
