{#
    Stitching, one round: of the candidate pairs (callrail_call_id, pbx_call_id, gap_seconds),
    the pairs whose two records are each other's nearest partner, leaving out records already
    paired in `taken` (a relation of earlier rounds' pairs).
#}
{% macro mutual_nearest_pairs(candidates, taken=none) -%}
    select
        callrail_call_id,
        pbx_call_id,
        gap_seconds
    from (
        select
            callrail_call_id,
            pbx_call_id,
            gap_seconds,
            row_number() over (
                partition by callrail_call_id order by gap_seconds, pbx_call_id
            ) as rank_for_callrail,
            row_number() over (
                partition by pbx_call_id order by gap_seconds, callrail_call_id
            ) as rank_for_pbx
        from {{ candidates }}
        {%- if taken %}
            where
                callrail_call_id not in (select taken.callrail_call_id from {{ taken }} as taken)
                and pbx_call_id not in (select taken.pbx_call_id from {{ taken }} as taken)
        {%- endif %}
    ) as ranked
    where rank_for_callrail = 1 and rank_for_pbx = 1
{%- endmacro %}
