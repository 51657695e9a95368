{#-
    A caller's number outside the restricted schema is a keyed hash: the first 16 hex digits
    of SHA-256 over a secret key and the number. The same number gives the same key in every
    mart (so callers can be counted and joined), and without the key nobody can tell which
    number it was (trying every number is no use when the key is unknown). The key is 244
    random bits (two version-4 UUIDs), made once per warehouse by the on-run-start hook below
    and kept in a table of the restricted schema, which the app's role cannot read
    (docs/privacy.md). Core Postgres only: sha256() and gen_random_uuid() need no extension
    (Postgres 13 or later).
-#}

{% macro caller_key_relation() -%}
    {{ adapter.quote(generate_schema_name('restricted', none)) }}.caller_hash_key
{%- endmacro %}

{% macro caller_key(column) -%}
    left(
        encode(
            sha256(convert_to((select hash_key from {{ caller_key_relation() }}) || {{ column }}, 'UTF8')),
            'hex'
        ),
        16
    )
{%- endmacro %}

{#- on-run-start: the restricted schema and its key, made once and never replaced (a new key
    would give every caller a new key in new rows only: to change it, drop the table and run
    with --full-refresh). -#}
{% macro create_caller_key() -%}
    {%- set schema = adapter.quote(generate_schema_name('restricted', none)) -%}
    create schema if not exists {{ schema }};
    create table if not exists {{ caller_key_relation() }} (
        hash_key text not null,
        created_at timestamptz not null default now(),
        singleton boolean primary key default true check (singleton)
    );
    insert into {{ caller_key_relation() }} (hash_key)
    select replace(gen_random_uuid()::text || gen_random_uuid()::text, '-', '')
    on conflict (singleton) do nothing
{%- endmacro %}

{#- on-run-start, after the key: the role that reads callers' numbers in clear
    (var restricted_role), created without login when the owner may create roles, and allowed
    into the restricted schema; people get it by membership (docs/privacy.md). Where the role is
    missing and cannot be made, only the owner reads the numbers. -#}
{% macro create_restricted_role() -%}
    {%- set schema = adapter.quote(generate_schema_name('restricted', none)) -%}
    {%- set name = dbt.string_literal(var('restricted_role')) -%}
    {%- set role = adapter.quote(var('restricted_role')) -%}
    do $do$
    begin
        if not exists (select from pg_roles where rolname = {{ name }})
            and (select rolcreaterole or rolsuper from pg_roles where rolname = current_user)
        then
            create role {{ role }} nologin;
        end if;
        if exists (select from pg_roles where rolname = {{ name }}) then
            grant usage on schema {{ schema }} to {{ role }};
        end if;
    end
    $do$
{%- endmacro %}

{#- post-hook of the restricted models: their rows to the restricted role, when it exists.
    with_schema: also usage on the model's schema, for a mart the restricted role must read
    (marts.callback_recovery_curve, which holds no caller's number: restricted.callback_list
    reads it). -#}
{% macro grant_to_restricted_role(with_schema=false) -%}
    do $do$
    begin
        if exists (select from pg_roles where rolname = {{ dbt.string_literal(var('restricted_role')) }})
        then
            {%- if with_schema %}
            grant usage on schema {{ adapter.quote(this.schema) }} to {{ adapter.quote(var('restricted_role')) }};
            {%- endif %}
            grant select on {{ this }} to {{ adapter.quote(var('restricted_role')) }};
        end if;
    end
    $do$
{%- endmacro %}

