{#
    The root cause of a valued missed call (docs/metrics.md, Shrink by root cause): the first
    cause of var shrink_causes whose rule holds. Columns: the call's outcome and wait_seconds,
    and its queue stay (int_pbx_queue_entries, as `stays`; null when the call never entered a
    PBX queue). A cause the list leaves out is never given; a call no listed rule takes is
    no_callback.
#}
{% macro shrink_cause_rule(cause) -%}
    {%- set service_level = var('service_level_seconds') | int -%}
    {%- set rules = {
        'after_hours': "outcome = 'after_hours'",
        'nobody_staffed':
            "stays.pbx_call_id is not null"
            ~ " and (stays.available_members_at_entry = 0 or stays.left_empty_queue)",
        'all_busy':
            "stays.pbx_call_id is not null and not stays.was_member_rung"
            ~ " and coalesce(stays.available_members_at_entry, 1) > 0",
        'rang_no_answer':
            "stays.was_member_rung"
            ~ " or (stays.pbx_call_id is null and outcome in ('voicemail', 'missed'))",
        'long_wait': "outcome = 'abandoned' and wait_seconds > " ~ service_level,
        'no_callback': "true",
    } -%}
    {%- if cause not in rules -%}
        {{ exceptions.raise_compiler_error(
            "var shrink_causes: unknown cause '" ~ cause ~ "'; the causes are "
            ~ (rules.keys() | join(', '))) }}
    {%- endif -%}
    {{ rules[cause] }}
{%- endmacro %}

{% macro shrink_cause() -%}
    case
        {%- for cause in var('shrink_causes') %}
        when {{ shrink_cause_rule(cause) }} then '{{ cause }}'
        {%- endfor %}
        else 'no_callback'
    end
{%- endmacro %}
