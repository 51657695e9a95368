{#
    Raw tables append every delivery, so one record can arrive more than once (re-delivered,
    or corrected). Keep the latest version of each natural key: the newest by the record's own
    version column when it has one (Square's updated_at), then the row loaded last, then the
    later line of its file. Files load in path order, one transaction each.
#}
{% macro dedupe_latest(relation, natural_key, version_column=none) -%}
    select distinct on ({{ natural_key | join(', ') }}) *
    from {{ relation }}
    order by
        {{ natural_key | join(', ') }},
        {% if version_column %}{{ version_column }} desc nulls last,{% endif %}
        _loaded_at desc,
        _line_number desc
{%- endmacro %}
