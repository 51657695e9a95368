{#-
    Staffing formulas: Erlang C and Erlang A as SQL functions in the schema `functions`
    (generate_schema_name('functions'): plain `functions` for the default target schema), so the
    marts that estimate how many agents each location x weekday x hour needed compute it in the
    warehouse. dbt makes them in on-run-start (create_erlang_functions below), before any model;
    models call them through erlang_function('name'). docs/staffing.md explains the models.

    Units: calls per hour, seconds for handle time, patience and the service-level target,
    shares in [0, 1]. Every function is immutable, strict (null in, null out) and parallel safe,
    works in double precision and raises on inputs that mean nothing (negative calls, a handle
    time or patience that is not positive, a target share outside [0, 1)).

    Erlang B by its recursion B(0) = 1, B(k) = A B(k-1) / (k + A B(k-1)): every step is a ratio
    of numbers below k + A, so nothing overflows however many agents, where A^n / n! would.

    Erlang C (M/M/n: Poisson arrivals, exponential handle times, n agents, nobody hangs up):
    C = n B / (n - A (1 - B)) is the probability that a caller waits (1 when n <= A: the queue
    grows without end), and the share answered within T seconds is 1 - C exp(-(n - A) T / AHT).

    Erlang A (M/M/n+M: as Erlang C, but each waiting caller hangs up after an exponential
    patience of mean P seconds, unless answered first). Rates per second: lambda (calls),
    mu = 1 / AHT, theta = 1 / P. The number of callers in the system is a birth-death chain
    (births lambda, deaths min(k, n) mu + max(k - n, 0) theta) whose stationary law is
    pi(k) ~ A^k / k! for k <= n, and pi(n + j) = pi(n) w(j) with
    w(j) = prod_{i=1..j} lambda / (n mu + i theta) = y^j / ((x + 1) ... (x + j)),
    where x = n mu / theta and y = lambda / theta. An arriving caller sees that law (Poisson
    arrivals see time averages). If fewer than n are in the system it is answered at once.
    Otherwise, with j callers waiting ahead of it, the queue ahead moves at rate n mu + i theta
    while i are ahead, independently of the caller's own patience: its offered wait V is a sum
    of j + 1 exponential stages, and it is answered if V comes before its patience runs out.

    Instead of following that caller through time step by step (uniformization over the states
    j, steps x states per evaluation), the mixture over j is summed in closed form. Weighting
    the Laplace transform of V by w(j) makes the sum a series of the lower incomplete gamma
    function, and theta V of a caller who finds every agent busy has the density
    (y e^-s)^x exp(-y e^-s) / gamma(x, y), s >= 0. Integrating it against the caller's own
    patience gives, with W(u) = sum_{j >= 0} u^j / ((x + 1) ... (x + j)) (the normalising sum of
    w, a convergent series), z = y e^(-theta T) and E = exp(-n mu T + y - z):
        P(all busy on arrival)   = B W(y) / (1 - B + B W(y))        (B = Erlang B of n, A)
        P(abandon | busy)        = 1 - (x / y) (1 - 1 / W(y))
        P(answered by T | busy)  = (x / y) (1 - 1 / W(y) - E W(z) / W(y) + E / W(y))
        P(abandon by T | busy)   = 1 - P(answered by T | busy) - e^(-theta T) E W(z) / W(y)
    so one evaluation is two sums of W, each stopped once the rest of the series (a geometric
    tail past its largest term) is below 1e-15 of it: a few dozen terms for ordinary loads, some
    thousands when patience is very long and the agents are overloaded. W is summed in log scale
    so that it cannot overflow either. tests/models/test_erlang.py checks these against a
    uniformization of the chain above, a simulation of the queue, the closed form when patience
    and handle time have the same mean, and Erlang C as patience grows.

    The service level of Erlang A is the warehouse's default formula (var service_level_formula
    4): answered within T over answered plus abandoned after T, that is
    P(answered by T) / (1 - P(abandon by T)).

    Privileges: the owner that runs dbt creates the schema and the functions and calls them when
    it builds the models; nobody else needs them (the app reads the marts, tables of numbers),
    so nothing is granted. Postgres lets every role execute a function by default; without
    usage on the schema nobody else reaches these.
-#}

{#- The schema-qualified, quoted name of one of the functions, for models to call. -#}
{% macro erlang_function(name) -%}
    {{ adapter.quote(generate_schema_name('functions', none)) }}.{{ adapter.quote(name) }}
{%- endmacro %}

{#- on-run-start: the schema and the functions, replaced on every run (so a change here is live
    at the next build). `dbt run-operation create_erlang_functions` runs the same statements on
    their own. -#}
{% macro create_erlang_functions() -%}
    {%- set schema = adapter.quote(generate_schema_name('functions', none)) -%}
    {%- set ddl -%}
create schema if not exists {{ schema }};

create or replace function {{ erlang_function('erlang_b') }}(
    agents integer, offered_erlangs double precision
) returns double precision
language plpgsql immutable strict parallel safe as $fn$
declare
    b double precision := 1;
begin
    if agents < 0 or offered_erlangs < 0 then
        raise exception 'erlang_b: agents (%) and offered erlangs (%) must not be negative',
            agents, offered_erlangs;
    end if;
    for k in 1..agents loop
        b := offered_erlangs * b / (k + offered_erlangs * b);
    end loop;
    return b;
end
$fn$;

create or replace function {{ erlang_function('erlang_c_wait_probability') }}(
    agents integer, offered_erlangs double precision
) returns double precision
language plpgsql immutable strict parallel safe as $fn$
declare
    b double precision;
begin
    if offered_erlangs < 0 then
        raise exception 'erlang_c_wait_probability: offered erlangs (%) must not be negative',
            offered_erlangs;
    end if;
    if offered_erlangs = 0 then
        return 0;
    end if;
    if agents <= offered_erlangs then
        return 1;
    end if;
    b := {{ erlang_function('erlang_b') }}(agents, offered_erlangs);
    return agents * b / (agents - offered_erlangs * (1 - b));
end
$fn$;

create or replace function {{ erlang_function('erlang_c_service_level') }}(
    agents integer,
    calls_per_hour double precision,
    handle_seconds double precision,
    target_seconds double precision
) returns double precision
language plpgsql immutable strict parallel safe as $fn$
declare
    offered double precision;
begin
    if calls_per_hour < 0 or handle_seconds <= 0 or target_seconds < 0 then
        raise exception 'erlang_c_service_level: calls per hour (%) and target seconds (%) must not be negative, handle seconds (%) must be positive',
            calls_per_hour, target_seconds, handle_seconds;
    end if;
    if calls_per_hour = 0 then
        return 1;
    end if;
    offered := calls_per_hour * handle_seconds / 3600;
    if agents <= offered then
        return 0;
    end if;
    return 1 - {{ erlang_function('erlang_c_wait_probability') }}(agents, offered)
        * exp(greatest(-(agents - offered) * target_seconds / handle_seconds, -700));
end
$fn$;

create or replace function {{ erlang_function('erlang_c_agents') }}(
    calls_per_hour double precision,
    handle_seconds double precision,
    target_seconds double precision,
    target_share double precision
) returns integer
language plpgsql immutable strict parallel safe as $fn$
declare
    offered double precision;
    b double precision := 1;
    c double precision;
    n integer := 0;
begin
    if calls_per_hour < 0 or handle_seconds <= 0 or target_seconds < 0
        or target_share < 0 or target_share >= 1 then
        raise exception 'erlang_c_agents: calls per hour (%), handle seconds (%), target seconds (%) or target share (%) out of range',
            calls_per_hour, handle_seconds, target_seconds, target_share;
    end if;
    if calls_per_hour = 0 then
        return 0;
    end if;
    offered := calls_per_hour * handle_seconds / 3600;
    -- Erlang B carried from n - 1 to n, so the search costs one step per agent.
    loop
        n := n + 1;
        b := offered * b / (n + offered * b);
        if n > offered then
            c := n * b / (n - offered * (1 - b));
            if 1 - c * exp(greatest(-(n - offered) * target_seconds / handle_seconds, -700))
                >= target_share then
                return n;
            end if;
        elsif target_share = 0 then
            return n;  -- the service level is 0 here, and 0 is enough
        end if;
    end loop;
end
$fn$;

-- log W(u), W(u) = sum_{j >= 0} u^j / ((x + 1) ... (x + j)): the sums of Erlang A (header).
create or replace function {{ erlang_function('erlang_a_log_series') }}(
    x double precision, u double precision
) returns double precision
language plpgsql immutable strict parallel safe as $fn$
declare
    total double precision := 1;
    term double precision := 1;
    ratio double precision;
    log_scale double precision := 0;
    j integer := 0;
begin
    loop
        j := j + 1;
        term := term * u / (x + j);
        total := total + term;
        if total > 1e200 then
            total := total * 1e-200;
            term := term * 1e-200;
            log_scale := log_scale + 200 * ln(10::double precision);
        end if;
        -- Past the largest term the ratio of successive terms falls below 1 and keeps
        -- falling, so the rest is below term * ratio / (1 - ratio).
        ratio := u / (x + j + 1);
        exit when ratio < 1 and term * ratio <= 1e-15 * total * (1 - ratio);
        if j >= 10000000 then
            raise exception 'erlang_a_log_series(%, %): no convergence', x, u;
        end if;
    end loop;
    return ln(total) + log_scale;
end
$fn$;

-- What happens to the callers of an Erlang A queue: the shares answered within T, abandoned
-- within T, and abandoned at all.
create or replace function {{ erlang_function('erlang_a_outcomes') }}(
    agents integer,
    calls_per_hour double precision,
    handle_seconds double precision,
    patience_seconds double precision,
    target_seconds double precision,
    out answered_within double precision,
    out abandoned_within double precision,
    out abandoned double precision
)
language plpgsql immutable strict parallel safe as $fn$
declare
    offered double precision;
    x double precision;
    y double precision;
    z double precision;
    h double precision;
    y_minus_z double precision;
    b double precision;
    log_wy double precision;
    log_wz double precision;
    busy double precision;
    served_by_t double precision;
    e_ratio double precision;
    e_over_wy double precision;
begin
    if agents < 0 or calls_per_hour < 0 or handle_seconds <= 0 or patience_seconds <= 0
        or target_seconds < 0 then
        raise exception 'erlang_a: agents (%), calls per hour (%), handle seconds (%), patience seconds (%) or target seconds (%) out of range',
            agents, calls_per_hour, handle_seconds, patience_seconds, target_seconds;
    end if;
    if calls_per_hour = 0 then
        answered_within := 1;
        abandoned_within := 0;
        abandoned := 0;
        return;
    end if;
    offered := calls_per_hour * handle_seconds / 3600;
    x := agents * patience_seconds / handle_seconds;  -- n mu / theta
    y := calls_per_hour * patience_seconds / 3600;  -- lambda / theta
    h := target_seconds / patience_seconds;  -- theta T
    z := y * exp(-h);
    -- y - z = y (1 - e^-h) without the cancellation of 1 - e^-h for a small h
    y_minus_z := y * (case when h < 1e-4 then h * (1 - h / 2 + h * h / 6) else 1 - exp(-h) end);
    b := {{ erlang_function('erlang_b') }}(agents, offered);
    log_wy := {{ erlang_function('erlang_a_log_series') }}(x, y);
    log_wz := {{ erlang_function('erlang_a_log_series') }}(x, z);
    if b = 0 then
        busy := 0;
    elsif b = 1 then
        busy := 1;
    else
        busy := 1 / (1 + exp(least(greatest(ln(1 - b) - ln(b) - log_wy, -700), 700)));
    end if;
    e_ratio := exp(greatest(-agents * target_seconds / handle_seconds + y_minus_z + log_wz - log_wy, -700));
    e_over_wy := exp(greatest(-agents * target_seconds / handle_seconds + y_minus_z - log_wy, -700));
    served_by_t := (x / y) * (1 - exp(greatest(-log_wy, -700)) - e_ratio + e_over_wy);
    answered_within := (1 - busy) + busy * served_by_t;
    abandoned_within := busy * (1 - served_by_t - exp(-h) * e_ratio);
    abandoned := busy * (1 - (x / y) * (1 - exp(greatest(-log_wy, -700))));
end
$fn$;

create or replace function {{ erlang_function('erlang_a_answered_share') }}(
    agents integer,
    calls_per_hour double precision,
    handle_seconds double precision,
    patience_seconds double precision
) returns double precision
language sql immutable strict parallel safe as $fn$
    select 1 - o.abandoned
    from {{ erlang_function('erlang_a_outcomes') }}(
        agents, calls_per_hour, handle_seconds, patience_seconds, 0
    ) as o
$fn$;

create or replace function {{ erlang_function('erlang_a_service_level') }}(
    agents integer,
    calls_per_hour double precision,
    handle_seconds double precision,
    patience_seconds double precision,
    target_seconds double precision
) returns double precision
language plpgsql immutable strict parallel safe as $fn$
declare
    o record;
begin
    o := {{ erlang_function('erlang_a_outcomes') }}(
        agents, calls_per_hour, handle_seconds, patience_seconds, target_seconds
    );
    if calls_per_hour = 0 then
        return 1;
    end if;
    if agents = 0 then
        return 0;  -- nobody is answered (and everyone may have abandoned by T: 0 / 0)
    end if;
    return o.answered_within / (1 - o.abandoned_within);
end
$fn$;

create or replace function {{ erlang_function('erlang_a_agents') }}(
    calls_per_hour double precision,
    handle_seconds double precision,
    patience_seconds double precision,
    target_seconds double precision,
    target_share double precision
) returns integer
language plpgsql immutable strict parallel safe as $fn$
declare
    n integer;
begin
    if target_share < 0 or target_share >= 1 then
        raise exception 'erlang_a_agents: target share (%) must be in [0, 1)', target_share;
    end if;
    if calls_per_hour = 0 then
        return 0;
    end if;
    -- The service level grows with the agents; the answer lies near the offered load, so the
    -- search walks from there (a few evaluations) rather than from 1.
    n := greatest(1, round(calls_per_hour * handle_seconds / 3600)::integer);
    if {{ erlang_function('erlang_a_service_level') }}(
        n, calls_per_hour, handle_seconds, patience_seconds, target_seconds
    ) >= target_share then
        while n > 1 and {{ erlang_function('erlang_a_service_level') }}(
            n - 1, calls_per_hour, handle_seconds, patience_seconds, target_seconds
        ) >= target_share loop
            n := n - 1;
        end loop;
        return n;
    end if;
    loop
        n := n + 1;
        if {{ erlang_function('erlang_a_service_level') }}(
            n, calls_per_hour, handle_seconds, patience_seconds, target_seconds
        ) >= target_share then
            return n;
        end if;
    end loop;
end
$fn$
    {%- endset -%}
    {%- if execute and flags.WHICH == 'run-operation' -%}
        {%- do run_query(ddl) -%}
    {%- endif -%}
    {{ ddl }}
{%- endmacro %}
