{{ config(
    unique_key='callrail_call_id',
    indexes=[
        {'columns': ['callrail_call_id'], 'unique': True},
        {'columns': ['_loaded_at']},
        {'columns': ['_staged_at']},
        {'columns': ['started_at']},
    ],
    pre_hook="{{ forget_moved_rows(source('callrail', 'calls')) }}",
    call_input_time='started_at',
    post_hook="{{ record_call_input_change() }}",
    write_order=['started_at'],
) }}
{#- The call models read a day's calls by started_at; deduplicated by id, a full build's
    rows would lie in the order of CallRail's random ids (macros/write_order.sql). The CDR and
    queue_log are written in the order of their keys, which begin with the time. -#}

with

source as (

    {{ dedupe_latest(source('callrail', 'calls'), ['id']) }}

),

renamed as (

    select
        id as callrail_call_id,
        company_id as callrail_company_id,
        tracker_id as callrail_tracker_id,
        start_time::timestamptz as started_at,
        direction,
        call_type,
        answered::boolean as is_answered,
        voicemail::boolean as is_voicemail,
        duration::integer as duration_seconds,
        {{ phone_to_e164('customer_phone_number') }} as caller_phone_e164,
        customer_phone_number as caller_phone_raw,
        customer_name,
        customer_city,
        customer_state,
        {{ phone_to_e164('tracking_phone_number') }} as tracking_phone_e164,
        {{ phone_to_e164('business_phone_number') }} as business_phone_e164,
        company_name,
        company_time_zone,
        nullif(source, '') as marketing_source,
        nullif(medium, '') as marketing_medium,
        nullif(campaign, '') as marketing_campaign,
        nullif(keywords, '') as marketing_keywords,
        nullif(landing_page_url, '') as landing_page_url,
        first_call::boolean as is_first_call,
        nullif(lead_status, '') as lead_status,
        nullif(agent_email, '') as agent_email,
        coalesce(tags::jsonb, '[]'::jsonb) as tags,
        coalesce(tags::jsonb ? 'spam', false) as is_tagged_spam,
        _source_file,
        _line_number,
        _file_sha256,
        _loaded_at,
        _staged_at

    from source

)

select * from renamed
