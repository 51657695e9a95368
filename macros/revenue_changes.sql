{#
    int_revenue_records builds incrementally by record: a run rewrites the payments, refunds
    and deals whose record changed since its last build, not the whole history. A record
    changed when:
    - its staged row was written since (`_staged_at` later than the start of the last
      build's transaction, `last_build_began()`: the staging builds of that invocation were
      committed before it): a new record, a new delivery of one, or an earlier delivery
      staged again after a row was moved into the quarantine;
    - its row was moved into the quarantine by hand since the last build's invocation began
      (`moved_record_ids`, `last_build_time()`): the record takes an earlier delivery, or is
      gone. A move made while that invocation ran, after staging read the quarantine, is
      staged by the next one, so it is read again then;
    - what gives it its phone changed: a payment's Square customer, a deal's first HubSpot
      contact (staged or moved, as above), and a refund's payment.
    A record can only leave staging by a move, so the pre-hook deletes the moved records
    (`forget_revenue_records`) and the build writes back those that still have a delivery.
#}

{#- The ids (the natural key `id`) of the rows of a vendor's raw table moved into the
    quarantine after `since`. The raw table is found in the graph rather than by `source()`,
    so the model that asks keeps its staging models as its only parents; a macro of its own,
    so that a unit test can give its rows. -#}
{% macro moved_record_ids(source_name, table_name, since) -%}
    {%- set raw = graph.sources.values()
        | selectattr('source_name', 'equalto', source_name)
        | selectattr('name', 'equalto', table_name) | first -%}
    select moved.record_key ->> 'id'
    from {{ adapter.quote(raw.schema) }}._quarantine as moved
    where
        moved.raw_table = '{{ raw.identifier }}'
        and moved.record_key is not null
        and moved.quarantined_at > {{ since }}
{%- endmacro %}

{#- The pre-hook of int_revenue_records and revenue_attributions: before an incremental build,
    delete the records whose row was moved into the quarantine since the last build (the
    build writes back those that still have a delivery); with `records` (int_revenue_records,
    for revenue_attributions), also the records it rewrote since that are not revenue now.
    revenue_attributions logs the calls of the rows it deletes, and before a full build the
    calls of every row (`logs_attribution_changes`, below). -#}
{% macro forget_revenue_records(records=none) -%}
    {%- if is_incremental() -%}
        {%- set since = last_build_time() -%}
        {%- set delete_gone %}
        with gone as materialized (
            select 'payment' as record_type, payment_id as record_id from (
                {{ moved_record_ids('square', 'payments', since) }}) as moved (payment_id)
            union all
            select 'refund', refund_id from (
                {{ moved_record_ids('square', 'refunds', since) }}) as moved (refund_id)
            union all
            select 'deal', deal_id from (
                {{ moved_record_ids('hubspot', 'deals', since) }}) as moved (deal_id)
            {%- if records %}
            union all
            select record_type, record_id from {{ records }}
            where _built_at > {{ since }} and not is_revenue
            {%- endif %}
        )
        {#- by the index on record_id, once per record gone (macros/delete_insert.sql) #}
        delete from {{ this }}
        where
            record_id = any(array(select gone.record_id from gone))
            and (record_type, record_id) in (select gone.record_type, gone.record_id from gone)
        {%- endset %}
        {{ log_attribution_changes(delete_gone) if config.get('logs_attribution_changes')
            else delete_gone }}
    {%- elif config.get('logs_attribution_changes') and load_relation(this) is not none -%}
        {#- a full build replaces every row: every call attributed before may have lost one #}
        insert into {{ attribution_changes_relation() }} (call_id, changed_at)
        select distinct call_id, {{ build_time() }} from {{ this }} where call_id is not null
    {%- else -%}
        select 1
    {%- endif -%}
{%- endmacro %}

{#
    revenue_attributions (config `logs_attribution_changes`) logs the calls whose
    attributions it removes: the calls of the rows its pre-hook deletes, of the rows its
    delete+insert replaces, and, before a full build replaces a table that exists, of every
    row. With the calls of the rows it writes (`_built_at`), those are the calls whose
    attributed revenue can have changed since a given build: call_conversions reads them
    instead of comparing every call it holds with the sums of every attribution. The log
    (`_attribution_changes` in the intermediate schema, made before every run by
    `create_call_model_builds`) drops what every call model has read.
#}
{% macro attribution_changes_relation() -%}
    {{ adapter.quote(generate_schema_name('intermediate', none)) }}._attribution_changes
{%- endmacro %}

{#- `delete_statement` (a delete from revenue_attributions) as one that logs the calls of the
    rows it deletes. -#}
{% macro log_attribution_changes(delete_statement) -%}
    with removed as (
        {{ delete_statement | trim }}
        returning call_id
    )
    insert into {{ attribution_changes_relation() }} (call_id, changed_at)
    select distinct call_id, {{ build_time() }} from removed where call_id is not null
{%- endmacro %}

{#- The calls logged since `since` (above). A macro of its own, so that a unit test can give
    its rows. -#}
{% macro attribution_changed_calls(since) -%}
    select changed.call_id from {{ attribution_changes_relation() }} as changed
    where changed.changed_at > {{ since }}
{%- endmacro %}
