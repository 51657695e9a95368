{#
    Raw tables append every delivery, so one record can arrive more than once (re-delivered,
    or corrected). Keep the latest version of each natural key: the newest by the record's own
    version column when it has one (Square's updated_at), then the row loaded last, then the
    later line of its file. Files load in path order, one transaction each.

    The staging models that call this are incremental tables (unique key: the record's id),
    so a day's build reads a day's rows, not the whole history. A build reads the records
    touched since the last one and recomputes each from every delivery of it:
    - the records of the raw rows loaded after the newest `_loaded_at` staged (files of a
      table load one at a time, each with a later `_loaded_at`, so none is missed);
    - the records whose row was moved into the quarantine by hand since then (`callshrink
      quarantine move`, which keeps the record's natural key): an earlier delivery takes its
      place, and `forget_moved_rows` (the models' pre-hook) deletes the staged row first, so a
      record with no other delivery goes.
    The raw tables' lookup index (callshrink/ingest/loader.py) finds every delivery of a
    record by `lookup` (the key's leading never-null columns); the key's other columns may be
    null and are compared null-safely. A full build (first run, --full-refresh) reads all.
    Without a version column a record's latest delivery wins, and a new row is later than
    every row staged, so the new rows alone decide the records they hold: the build reads
    them and the earlier deliveries of the records moved into the quarantine, and no other
    row of the history (joining the new rows' keys to every delivery made the day's build of
    the CDR and queue_log hash the whole raw table). With a version column an older version
    may arrive last, so every delivery of a touched record is read.
    Every staged row carries `_staged_at`, the time of the build that wrote it: the tests on
    staging check the rows of the last build (`where` in dbt_project.yml, macros/
    get_where_subquery.sql), and a full build writes every row.
#}
{% macro dedupe_latest(relation, natural_key, version_column=none, lookup=none) -%}
    {%- set lookup = lookup or natural_key -%}
    {%- set watermark = staged_watermark() if is_incremental() else none -%}
    select distinct on ({% for column in natural_key %}delivered.{{ column }}{{ ', ' if not loop.last }}{% endfor %})
        delivered.*,
        now() as _staged_at
    {%- if is_incremental() and not version_column %}
    from (
        select * from {{ relation }}
        where _loaded_at > {{ watermark }}
        union all
        select earlier.*
        from {{ relation }} as earlier
        inner join ({{ moved_records(relation, natural_key, watermark) }}) as touched
            on {{ same_record('touched', 'earlier', natural_key, lookup) }}
        where earlier._loaded_at <= {{ watermark }}
    ) as delivered
    {%- else %}
    from {{ relation }} as delivered
    {%- if is_incremental() %}
    inner join (
        select {{ natural_key | join(', ') }}
        from {{ relation }}
        where _loaded_at > {{ watermark }}
        union
        {{ moved_records(relation, natural_key, watermark) }}
    ) as touched
        on {{ same_record('touched', 'delivered', natural_key, lookup) }}
    {%- endif %}
    {%- endif %}
    order by
        {% for column in natural_key %}delivered.{{ column }}, {% endfor %}
        {% if version_column %}{{ version_column }} desc nulls last,{% endif %}
        delivered._loaded_at desc,
        delivered._line_number desc
{%- endmacro %}

{#- The newest `_loaded_at` staged, as a literal, so the planner reads the raw table's index
    range (and its true row count) instead of guessing the rows of a subquery. -#}
{% macro staged_watermark() -%}
    {%- if execute and is_incremental() -%}
        {%- set newest = run_query(
            "select coalesce(max(_loaded_at), '-infinity')::text from " ~ this
        ).columns[0].values()[0] -%}
        '{{ newest }}'::timestamptz
    {%- else -%}
        '-infinity'::timestamptz
    {%- endif -%}
{%- endmacro %}

{#- The natural keys of the rows moved into the quarantine by hand since the watermark. -#}
{% macro moved_records(relation, natural_key, watermark) -%}
    select {% for column in natural_key %}(moved_key).{{ column }}{{ ', ' if not loop.last }}{% endfor %}
    from (
        select jsonb_populate_record(null::{{ relation.schema }}.{{ relation.identifier }}, record_key) as moved_key
        from {{ quarantine_of(relation) }}
        where
            raw_table = '{{ relation.identifier }}'
            and record_key is not null
            and quarantined_at > {{ watermark }}
    ) as moved
{%- endmacro %}

{#- Two rows hold the same record: the `lookup` columns (never null) equal, the others
    null-safely. -#}
{% macro same_record(left, right, natural_key, lookup) -%}
    {%- for column in natural_key %}
    {% if not loop.first %}and {% endif -%}
    {{ left }}.{{ column }} {{ '=' if column in lookup else 'is not distinct from' }} {{ right }}.{{ column }}
    {%- endfor %}
{%- endmacro %}

{#- The staging models' pre-hook: before an incremental build, delete the staged rows that
    were moved into the quarantine since the last build (matched by file, content and line);
    the build then stages the record's other deliveries, if it has any. A call input (config
    `call_input_time`) records the earliest call time it deleted, for the call models to
    recompute (macros/incremental_window.sql). -#}
{% macro forget_moved_rows(relation) -%}
    {%- if is_incremental() -%}
        {%- set delete_moved -%}
        delete from {{ this }} as staged
        using {{ quarantine_of(relation) }} as moved
        where
            moved.raw_table = '{{ relation.identifier }}'
            and moved.record_key is not null
            and moved.quarantined_at > {{ staged_watermark() }}
            and staged._source_file = moved.source_file
            and staged._file_sha256 = moved.file_sha256
            and staged._line_number = moved.line_number
        {%- endset -%}
        {{ removed_call_inputs(delete_moved) if config.get('call_input_time') else delete_moved }}
    {%- else -%}
        select 1
    {%- endif -%}
{%- endmacro %}

{#- The loader's quarantine, beside the raw tables (named, not a source: the staging models'
    unit tests then need no input for it). -#}
{% macro quarantine_of(relation) -%}
    {{ api.Relation.create(database=relation.database, schema=relation.schema, identifier='_quarantine') }}
{%- endmacro %}
