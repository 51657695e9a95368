{#-
    One row per queue_log event. The data fields mean different things per event (docs/sources.md);
    the ones the call model needs get names here, the rest stay as data1..data5.
-#}
{{ config(
    unique_key='queue_event_id',
    indexes=[
        {'columns': ['occurred_at', 'queue_event_id']},
        {'columns': ['_loaded_at']},
        {'columns': ['_staged_at']},
    ],
    pre_hook="{{ forget_moved_rows(source('asterisk', 'queue_log')) }}",
    call_input_time='occurred_at',
    time_in_unique_key=true,
    post_hook="{{ record_call_input_change() }}",
) }}

with

source as (

    {{ dedupe_latest(source('asterisk', 'queue_log'),
        ['pbx_id', 'epoch', 'callid', 'queuename', 'agent', 'event',
         'data1', 'data2', 'data3', 'data4', 'data5'],
        lookup=['pbx_id', 'epoch', 'callid', 'queuename']) }}

),

renamed as (

    select
        md5(concat_ws(
            '|', pbx_id, epoch, callid, queuename, agent, event,
            data1, data2, data3, data4, data5
        )) as queue_event_id,
        pbx_id,
        callid,
        to_timestamp(epoch::bigint) as occurred_at,
        queuename as queue_name,
        pbx_id || ':' || queuename as pbx_queue,
        nullif(agent, 'NONE') as agent,
        event,
        data1,
        data2,
        data3,
        data4,
        data5,
        case
            when event in ('CONNECT', 'COMPLETEAGENT', 'COMPLETECALLER')
                then {{ safe_integer('data1') }}
            -- TRANSFER / BLINDTRANSFER (extension, context, holdtime, ...) and
            -- ATTENDEDTRANSFER (method, method-data, holdtime, ...)
            when event in ('TRANSFER', 'BLINDTRANSFER', 'ATTENDEDTRANSFER')
                then {{ safe_integer('data3') }}
        end as hold_seconds,
        case
            when
                event in ('ABANDON', 'EXITEMPTY', 'EXITWITHTIMEOUT')
                then {{ safe_integer('data3') }}
            when event = 'EXITWITHKEY' then {{ safe_integer('data4') }}
        end as wait_seconds,
        case
            when event in ('COMPLETEAGENT', 'COMPLETECALLER') then {{ safe_integer('data2') }}
        end as talk_seconds,
        case when event = 'RINGNOANSWER' then {{ safe_integer('data1') }} end as ring_milliseconds,
        case when event = 'CONNECT' then {{ safe_integer('data3') }} end as ring_seconds,
        case when event in ('TRANSFER', 'BLINDTRANSFER') then data1 end as transfer_target,
        event in (
            'ENTERQUEUE', 'CONNECT', 'COMPLETEAGENT', 'COMPLETECALLER', 'ABANDON', 'EXITEMPTY',
            'EXITWITHTIMEOUT', 'EXITWITHKEY', 'RINGNOANSWER', 'RINGCANCELED', 'TRANSFER',
            'BLINDTRANSFER', 'ATTENDEDTRANSFER', 'DID', 'AGENTLOGIN', 'AGENTLOGOFF', 'ADDMEMBER',
            'REMOVEMEMBER', 'PAUSE', 'UNPAUSE', 'PAUSEALL', 'UNPAUSEALL', 'CONFIGRELOAD',
            'QUEUESTART', 'JOINEMPTY'
        ) as is_known_event,
        _source_file,
        _line_number,
        _file_sha256,
        _loaded_at,
        _staged_at

    from source

)

select * from renamed
