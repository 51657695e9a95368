{#- Every row satisfies a SQL boolean expression (rows where it is false or null fail). On a
    column, the expression still names the column itself. -#}
{% test expression_holds(model, expression, column_name=none) %}

select *
from {{ model }}
where not coalesce(({{ expression }}), false)

{% endtest %}
