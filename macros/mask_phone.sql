{#- An E.164 number shown to people who need the pattern, not the person: the country code
    and the last four digits, +1*******2345. -#}
{% macro mask_phone(column) -%}
    case
        when length({{ column }}) > 6
            then left({{ column }}, 2) || repeat('*', length({{ column }}) - 6) || right({{ column }}, 4)
    end
{%- endmacro %}
