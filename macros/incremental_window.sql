{#
    The call models build incrementally by day. Each run recomputes every call that started
    on or after a cutoff: the start of the UTC day of the newest call already built, less
    `incremental_lookback_days` (late legs and late tracking records land within it), less
    `extra_days` for models whose values look ahead in time (recovery, repeat contacts). The
    models replace whole UTC days (unique_key started_date_utc), so a recomputed day never
    keeps a stale row. On a first build or a full refresh there is no cutoff.

    `in_call_window(column, extra_days, margin)` is the filter: `column >= cutoff - margin`
    (margin: a SQL interval, for inputs that must reach a little further back than the rows
    a model writes), or `true` on a full build.
#}
{% macro call_cutoff(extra_days=0) -%}
    (
        select
            coalesce(date_trunc('day', max(started_at), 'UTC'), '-infinity'::timestamptz)
            - interval '{{ var("incremental_lookback_days") | int + extra_days | int }} days'
        from {{ this }}
    )
{%- endmacro %}

{% macro in_call_window(column, extra_days=0, margin=none) -%}
    {%- if is_incremental() -%}
        {{ column }} >= {{ call_cutoff(extra_days) }}{% if margin %} - {{ margin }}{% endif %}
    {%- else -%}
        true
    {%- endif -%}
{%- endmacro %}

{#- Days a call's follow-up values look ahead: 7 days of repeat contacts, or the recovery
    window when it is longer. -#}
{% macro followup_days() -%}
    {{- [7, ((var('recovery_window_hours') + 23) // 24)] | max -}}
{%- endmacro %}
