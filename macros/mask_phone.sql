{#- An E.164 number shown to people who need the pattern, not the person: the country code
    and the last four digits, +1*******2345. -#}
{% macro mask_phone(column) -%}
    case
        when length({{ column }}) > 6
            then left({{ column }}, 2) || repeat('*', length({{ column }}) - 6) || right({{ column }}, 4)
    end
{%- endmacro %}

{#- Runs of seven or more digits (a phone number, with or without +) in free text, such as
    a Local channel dialling a mobile or the number an outbound call dialled, kept to their
    last four digits: Local/*******2345@from-internal. Extensions (2-6 digits) stay. -#}
{% macro mask_phone_numbers_in(column) -%}
    regexp_replace({{ column }}, '\+?[0-9]{3,}([0-9]{4})', '*******\1', 'g')
{%- endmacro %}
