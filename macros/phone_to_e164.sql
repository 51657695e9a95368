{#
    A phone number as people type it, to E.164 (+15550102345), or null when it is not a
    number. Rules:
    - an extension (ext, x, #, ;, "extension") and everything after it is dropped;
    - a leading + or the 011 international prefix keeps the country code as typed;
    - North American numbers: 10 digits (area code 2-9) get +1; 11 digits starting with 1 get +;
    - anything else (too short, letters only, "anonymous") is null.
#}
{% macro phone_to_e164(column) -%}
    {%- set without_extension -%}
        regexp_replace(lower({{ column }}), '\s*(extension|ext\.?|x|#|;).*$', '')
    {%- endset -%}
    {%- set digits -%}
        regexp_replace({{ without_extension }}, '[^0-9]', '', 'g')
    {%- endset -%}
    case
        when {{ without_extension }} ~ '^\s*\+' and length({{ digits }}) between 8 and 15
            then '+' || {{ digits }}
        when {{ digits }} ~ '^011[0-9]{7,15}$'
            then '+' || substr({{ digits }}, 4)
        when {{ digits }} ~ '^[2-9][0-9]{9}$'
            then '+1' || {{ digits }}
        when {{ digits }} ~ '^1[2-9][0-9]{9}$'
            then '+' || {{ digits }}
    end
{%- endmacro %}
