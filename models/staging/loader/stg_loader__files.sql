{#- One row per landing file the loader loaded; PBX files name their PBX in their folder. -#}
with

source as (

    select * from {{ source('loader', 'load_files') }}

),

renamed as (

    select
        raw_table,
        source_folder,
        source_file,
        file_sha256,
        case
            when source_file like 'pbx/%/%' then split_part(source_file, '/', 2)
        end as pbx_id,
        lines_read,
        rows_loaded,
        rows_quarantined,
        lines_decoded_latin1,
        records_unreadable,
        loaded_at
    from source

)

select * from renamed
