{#- Square amounts are integers in cents; this is the one place they become dollars. -#}
{% macro cents_to_dollars(column) -%}
    ({{ column }}::numeric(18, 0) / 100)::numeric(18, 2)
{%- endmacro %}
