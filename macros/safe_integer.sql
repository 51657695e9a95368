{#- Free-form fields (queue_log data1..data5 mean different things per event): an integer
    when the text is one, else null, so an odd line never stops a build. -#}
{% macro safe_integer(column) -%}
    case when {{ column }} ~ '^-?[0-9]{1,9}$' then {{ column }}::integer end
{%- endmacro %}
