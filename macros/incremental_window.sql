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

    Days back are counted as 24 hours each, never as `interval 'N days'`: timestamptz
    arithmetic in days follows the session's TimeZone, and across a clock change a day
    there is 23 or 25 hours, which would move the cutoff off UTC midnight and let an
    incremental run replace a whole UTC day with the hour of it that it recomputed.
#}
{% macro call_cutoff(extra_days=0) -%}
    (
        select
            coalesce(date_trunc('day', max(started_at), 'UTC'), '-infinity'::timestamptz)
            - interval '{{ (var("incremental_lookback_days") | int + extra_days | int) * 24 }} hours'
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
