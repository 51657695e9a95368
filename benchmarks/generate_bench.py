"""Benchmark the demo-data generator: calls per second and peak memory.

Usage: python benchmarks/generate_bench.py [--calls N] [--locations L] [--days D] [--out DIR]

The daily volume per location is chosen so that about N calls are generated in total.
"""

from __future__ import annotations

import argparse
import resource
import sys
import tempfile
import time
from pathlib import Path

from callshrink.generate import generate

# Calls generated per unit of ``calls_per_location_day`` per location per day, measured on
# the default behaviour (weekday mix, retries, callbacks, follow-ups).
CALLS_PER_UNIT = 1.3


def peak_mb() -> float:
    kb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return kb / 1024 if sys.platform != "darwin" else kb / 1024 / 1024


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--calls", type=int, default=200_000, help="target number of calls")
    parser.add_argument("--locations", type=int, default=40)
    parser.add_argument("--days", type=int, default=7)
    parser.add_argument("--out", type=Path, default=None, help="keep the output here")
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args(argv)
    volume = args.calls / (args.locations * args.days * CALLS_PER_UNIT)
    with tempfile.TemporaryDirectory() as tmp:
        out = args.out or Path(tmp)
        started = time.perf_counter()
        summary = generate(
            out,
            locations=args.locations,
            days=args.days,
            seed=args.seed,
            calls_per_location_day=volume,
            progress=sys.stderr.isatty(),
        )
        elapsed = time.perf_counter() - started
        size = sum(p.stat().st_size for p in out.rglob("*") if p.is_file())
    calls = summary["calls"]
    print(f"calls:        {calls:,} ({args.locations} locations x {args.days} days)")
    print(f"elapsed:      {elapsed:.1f} s")
    print(f"calls/s:      {calls / elapsed:,.0f}")
    print(f"peak memory:  {peak_mb():,.0f} MB (ru_maxrss)")
    print(f"output:       {size / 1e6:,.0f} MB")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
