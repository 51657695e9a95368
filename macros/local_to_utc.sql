{#
    A local wall-clock time (timestamp without time zone) in `timezone` to the instant it names
    (timestamptz), as a pure SQL expression. All three arguments are SQL expressions:
    local_to_utc('start', 'pbx_timezone', 'channel_created_at').

    The one hour repeated when the clocks go back (01:00-02:00 on the first Sunday of November
    in America/New_York) names two instants, and `ts at time zone tz` silently picks the later
    one (standard time): a call in the first, daylight-time 01:xx hour would land one hour late.
    So when the local time is ambiguous this returns the interpretation nearest to `hint`, an
    instant known independently (Asterisk's uniqueid epoch, a start plus a duration); when it
    is not, or there is no hint (omitted, or null on a row), it is the ordinary
    conversion. An exact tie goes to standard time.

    The two candidates are `ts at time zone tz` (Postgres' choice, standard time) and the same
    wall time read one hour earlier then shifted back, `((ts - 1 hour) at time zone tz) + 1 hour`
    (daylight time). A time is ambiguous only when they differ and both convert back to `ts`:
    just after a spring-forward gap (03:30 on the second Sunday of March) they differ too, but
    the daylight candidate reads 04:30 locally, so nonexistent and normal times keep the
    ordinary conversion. Assumes a one-hour shift (true of every zone the PBXs use).
#}
{% macro local_to_utc(local_ts, timezone, hint=none) -%}
    {%- set standard -%}
        ({{ local_ts }} at time zone {{ timezone }})
    {%- endset -%}
    {%- if hint is none -%}
        {{ standard }}
    {%- else -%}
        {%- set daylight -%}
            ((({{ local_ts }} - interval '1 hour') at time zone {{ timezone }}) + interval '1 hour')
        {%- endset -%}
        case
            when {{ daylight }} <> {{ standard }}
                and {{ daylight }} at time zone {{ timezone }} = {{ local_ts }}
                and {{ standard }} at time zone {{ timezone }} = {{ local_ts }}
                and abs(extract(epoch from {{ daylight }} - ({{ hint }})))
                < abs(extract(epoch from {{ standard }} - ({{ hint }})))
                then {{ daylight }}
            else {{ standard }}
        end
    {%- endif %}
{%- endmacro %}
