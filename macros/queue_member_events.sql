{#- The queue_log events that change which members a queue has available (logins, logoffs,
    pauses), as a SQL list: int_queue_member_events keeps them, int_queue_members_available
    reads them. -#}
{% macro queue_member_events() -%}
    ('ADDMEMBER', 'REMOVEMEMBER', 'AGENTLOGIN', 'AGENTLOGOFF',
    'PAUSE', 'UNPAUSE', 'PAUSEALL', 'UNPAUSEALL')
{%- endmacro %}
