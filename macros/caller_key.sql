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
