{#- A centre or bound of process_control_points from the chart's scale back to the KPI's unit:
    exp(b) - 1 where the chart works on ln(1 + value) (column scale = 'log'), else b. -#}
{% macro process_control_bound(column) -%}
    case when scale = 'log' then exp({{ column }}) - 1 else {{ column }} end
{%- endmacro %}
