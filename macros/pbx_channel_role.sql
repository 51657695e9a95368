{#
    What an Asterisk channel name is, read with the PBX's patterns (columns
    phone_channel_pattern and trunk_channel_pattern of int_pbx_systems_configured, which the
    calling model joins): `local` for the PBX's own internal channels (Local/, ConfBridge/,
    ...), `trunk` when a trunk pattern is set and matches, `phone` when the phone pattern
    matches, else `trunk` when no trunk pattern is set, else `unknown`. Null for no channel.
#}
{% macro pbx_channel_role(channel) -%}
    case
        when coalesce({{ channel }}, '') = '' then null
        when
            {{ channel }}
            ~ '^(Local|ConfBridge|Parked|Announcer|Recorder|Snoop|CBAnn|CBRec|Message|Multicast|AsyncGoto|Bridge)/'
            then 'local'
        when trunk_channel_pattern is not null and {{ channel }} ~ trunk_channel_pattern
            then 'trunk'
        when {{ channel }} ~ phone_channel_pattern then 'phone'
        when trunk_channel_pattern is null then 'trunk'
        else 'unknown'
    end
{%- endmacro %}
