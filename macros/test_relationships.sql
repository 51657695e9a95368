{#
    dbt's relationships test as an anti-join: the child's values that no parent row holds.
    dbt's own left-joins the child to the whole parent, which reads the parent whole even
    when the child is one day's rows (the call models' tests read the days their last build
    wrote); `not exists` lets Postgres look each value up in the parent's index instead.
#}
{% macro default__test_relationships(model, column_name, to, field) %}

with child as (
    select {{ column_name }} as from_field
    from {{ model }}
    where {{ column_name }} is not null
)

select from_field
from child
where not exists (
    select 1 from {{ to }} as parent
    where parent.{{ field }} = child.from_field
)

{% endmacro %}
