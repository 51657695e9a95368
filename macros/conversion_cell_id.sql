{#- The id of the conversion cell a call falls in (marts.conversion_cells): location, marketing
    source and caller type, a '?' for an unknown location or caller type. -#}
{% macro conversion_cell_id(location_id, marketing_source, caller_type) -%}
    concat_ws('|', coalesce({{ location_id }}, '?'), {{ marketing_source }}, coalesce({{ caller_type }}, '?'))
{%- endmacro %}
