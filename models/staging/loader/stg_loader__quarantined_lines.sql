{#- One row per landing line the loader kept in quarantine, with its reason and its text. -#}
with

source as (

    select * from {{ source('loader', 'quarantine') }}

),

renamed as (

    select
        raw_table,
        source_file,
        line_number,
        case
            when source_file like 'pbx/%/%' then split_part(source_file, '/', 2)
        end as pbx_id,
        reason,
        raw_text,
        quarantined_at
    from source

)

select * from renamed
