"""Benchmark the staffing functions of macros/erlang.sql on a mart's worth of cells.

Usage:
    python benchmarks/erlang_bench.py [--cells 2520] [--repeats 5] [--seed 7]

The functions are made in the configured warehouse (CALLSHRINK_DATABASE_URL) or the private
server's, the way a build makes them: ``dbt run-operation create_erlang_functions``. Then
``erlang_a_agents`` (agents needed for 80 % answered within 20 s, callers hanging up) and
``erlang_c_agents`` run over ``--cells`` random cells in one query each, ``--repeats`` times:
calls per hour 2 to 450, handle time 150 to 300 s, patience 30 to 180 s. The default is
15 locations x 7 weekdays x 24 hours, what the staffing mart computes for a mid-sized
franchise. Figures are printed (best, median and worst of the repeats; the agents' range);
nothing is asserted.
"""

from __future__ import annotations

import argparse
import random
import statistics
import subprocess
import sys
import time

import psycopg

from callshrink import db
from callshrink.dbt import environment, stage_reference, tool
from callshrink.settings import PROJECT_DIR

FUNCTIONS = '"functions"'  # generate_schema_name('functions') for the default target schema


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cells", type=int, default=2_520, help="cells per query (2,520)")
    parser.add_argument("--repeats", type=int, default=5, help="timed queries per function (5)")
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args(argv)

    url = db.activate()
    stage_reference()
    made = subprocess.run(
        [tool("dbt"), "run-operation", "create_erlang_functions", "--quiet"],
        cwd=PROJECT_DIR,
        env=environment(),
        capture_output=True,
        text=True,
    )
    if made.returncode != 0:
        sys.stderr.write(made.stdout + made.stderr)
        return 1

    rng = random.Random(args.seed)
    cells = [
        (rng.uniform(2, 450), rng.uniform(150, 300), rng.uniform(30, 180))
        for _ in range(args.cells)
    ]
    columns = [[cell[i] for cell in cells] for i in range(3)]
    queries = {
        "erlang_a_agents": f"select {FUNCTIONS}.erlang_a_agents(c, h, p, 20, 0.8) ",
        "erlang_c_agents": f"select {FUNCTIONS}.erlang_c_agents(c, h, 20, 0.8) ",
    }
    print(f"{args.cells:,} cells, {args.repeats} timed queries each, seed {args.seed}")
    print(f"{'function':<18} {'best s':>8} {'median s':>9} {'worst s':>8}  agents")
    with psycopg.connect(url, autocommit=True) as conn:
        for name, select in queries.items():
            statement = (
                select + "from unnest(%s::float8[], %s::float8[], %s::float8[]) as t(c, h, p)"
            )
            seconds, agents = [], []
            for _ in range(args.repeats):
                started = time.perf_counter()
                agents = [row[0] for row in conn.execute(statement, columns)]
                seconds.append(time.perf_counter() - started)
            print(
                f"{name:<18} {min(seconds):>8.3f} {statistics.median(seconds):>9.3f} "
                f"{max(seconds):>8.3f}  {min(agents)}-{max(agents)}"
            )
    return 0


if __name__ == "__main__":
    sys.exit(main())
