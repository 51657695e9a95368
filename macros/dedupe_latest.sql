{#
    Raw tables append every delivery, so one record can arrive more than once (re-delivered,
    or corrected). Keep the latest version of each natural key: the row loaded last, and within
    one file the later line. Files load in path order, one transaction each, so a correction
    delivered in the same run as the original wins when its path sorts later.
#}
{% macro dedupe_latest(relation, natural_key) -%}
    select distinct on ({{ natural_key | join(', ') }}) *
    from {{ relation }}
    order by {{ natural_key | join(', ') }}, _loaded_at desc, _line_number desc
{%- endmacro %}
