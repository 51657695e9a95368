{#
    A phone number as people type it, to E.164 (+15550102345), or null when it is not a
    number. Rules:
    - an extension (ext, x, #, ;, "extension") and everything after it is dropped, so an
      extension marker first ("x 2125550123") leaves nothing;
    - a leading + or the 011 international prefix keeps the country code as typed; a trunk
      "(0)" written inside it (+44 (0)20 ...) is not dialled and is dropped;
    - North American numbers: 10 digits (area code 2-9) get +1; 11 digits starting with 1 get +;
      after +1 or 011 1 they must have that shape too;
    - other countries: a country code (no leading 0) and 8 to 15 digits in all, not each
      country's own lengths (those live in libphonenumber's metadata, not in SQL);
    - anything else is null: too short, 7 digits without an area code, an area code starting
      with 0 or 1, "anonymous"; letters are not read as digits, so 1-800-FLOWERS is null.
    tests/models/test_phone_to_e164.py checks this against the phonenumbers library.
#}
{% macro phone_to_e164(column) -%}
    {%- set without_extension -%}
        regexp_replace(lower({{ column }}), '\s*(extension|ext\.?|x|#|;).*$', '')
    {%- endset -%}
    {%- set digits -%}
        regexp_replace({{ without_extension }}, '\(0\)|[^0-9]', '', 'g')
    {%- endset -%}
    {#- country code and number: North American shape after a 1, else 8 to 15 digits -#}
    {%- set international = '(1[2-9][0-9]{9}|[2-9][0-9]{7,14})' -%}
    case
        {#- answered without the rewriting below, which gives the same, for a fraction of its
            cost (a staging build reads millions): the two shapes most numbers arrive in, and
            text too short to hold the 8 digits of the shortest number (an extension, "s") #}
        when {{ column }} ~ '^\+1[2-9][0-9]{9}$' then {{ column }}
        when {{ column }} ~ '^1?[2-9][0-9]{9}$' then '+1' || right({{ column }}, 10)
        when length({{ column }}) < 8 then null
        when {{ without_extension }} ~ '^\s*\+'
            then case when {{ digits }} ~ '^{{ international }}$' then '+' || {{ digits }} end
        when {{ digits }} ~ '^011{{ international }}$'
            then '+' || substr({{ digits }}, 4)
        when {{ digits }} ~ '^[2-9][0-9]{9}$'
            then '+1' || {{ digits }}
        when {{ digits }} ~ '^1[2-9][0-9]{9}$'
            then '+' || {{ digits }}
    end
{%- endmacro %}
