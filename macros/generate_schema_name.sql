{#
    Layers get plain schema names (staging, intermediate, marts, reference) rather than dbt's
    default "<target schema>_<custom>", so the app and finance read `marts.calls`. A target
    schema other than the default ("analytics") prefixes them, so two builds can share a
    database without touching each other's tables.
#}
{% macro generate_schema_name(custom_schema_name, node) -%}
    {%- if custom_schema_name is none -%}
        {{ target.schema }}
    {%- elif target.schema == 'analytics' -%}
        {{ custom_schema_name | trim }}
    {%- else -%}
        {{ target.schema }}_{{ custom_schema_name | trim }}
    {%- endif -%}
{%- endmacro %}
