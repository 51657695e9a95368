"""Benchmark the demo-data generator: calls per second, peak memory and output size.

Usage:
    python benchmarks/generate_bench.py [--calls N] [--locations L] [--days D] [--out DIR]
    python benchmarks/generate_bench.py --preset contact-center-year --days 37 \\
        --extrapolate-days 365

With ``--calls`` the daily volume per location is chosen so that about N calls are generated
in total (40 locations x 7 days by default). With ``--preset`` the preset's locations and
daily volume are used (``--days`` and ``--locations`` override). ``--extrapolate-days``
scales the measured time, calls and bytes linearly to that many days (the generator's memory
does not grow with the number of days once the answer key's 36-day look-back is full).
Run one benchmark at a time in a fresh process: peak memory is the process's ru_maxrss.
"""

from __future__ import annotations

import argparse
import resource
import shutil
import sys
import tempfile
import time
from pathlib import Path

from callshrink.generate import generate
from callshrink.generate.presets import PRESETS

# Calls generated per unit of ``calls_per_location_day`` per location per day, measured on
# the default behaviour (weekday mix, retries, callbacks, follow-ups) over 7 days.
CALLS_PER_UNIT = 1.22


def peak_mb() -> float:
    kb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return kb / 1024 if sys.platform != "darwin" else kb / 1024 / 1024


def tree_bytes(root: Path) -> int:
    return sum(p.stat().st_size for p in root.rglob("*") if p.is_file())


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--calls", type=int, default=200_000, help="target number of calls")
    parser.add_argument("--preset", choices=sorted(PRESETS), default=None)
    parser.add_argument("--locations", type=int, default=None, help="default 40")
    parser.add_argument("--days", type=int, default=None, help="default 7")
    parser.add_argument("--out", type=Path, default=None, help="keep the output here")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--extrapolate-days", type=int, default=None, metavar="D")
    args = parser.parse_args(argv)
    if args.preset:
        preset = PRESETS[args.preset]
        locations = args.locations or preset.locations
        days = args.days or preset.days
        volume = preset.calls_per_location_day
        label = f"preset {preset.name}"
    else:
        locations, days = args.locations or 40, args.days or 7
        volume = args.calls / (locations * days * CALLS_PER_UNIT)
        label = f"target {args.calls:,} calls"
    tmp = Path(tempfile.mkdtemp(prefix="callshrink-bench-"))
    out = args.out or tmp
    try:
        started = time.perf_counter()
        summary = generate(
            out,
            locations=locations,
            days=days,
            seed=args.seed,
            calls_per_location_day=volume,
            progress=sys.stderr.isatty(),
        )
        elapsed = time.perf_counter() - started
        size = tree_bytes(out)
        landing = tree_bytes(out / "landing")
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    calls = summary["calls"]
    print(f"run:          {label}, {locations} locations x {days} days, seed {args.seed}")
    print(f"calls:        {calls:,} ({calls / days:,.0f} a day)")
    print(f"elapsed:      {elapsed:,.1f} s")
    print(f"calls/s:      {calls / elapsed:,.0f}")
    print(f"peak memory:  {peak_mb():,.0f} MB (ru_maxrss)")
    print(f"output:       {size / 1e6:,.0f} MB ({landing / 1e6:,.0f} MB landing)")
    print(
        f"carried:      {summary['max_carried_calls']:,} call rows at most in the answer "
        "key's state between days (look-ahead window + attribution candidates)"
    )
    if args.extrapolate_days:
        k = args.extrapolate_days / days
        print(
            f"extrapolated to {args.extrapolate_days} days: {calls * k / 1e6:,.1f} M calls, "
            f"{elapsed * k / 60:,.0f} min, {size * k / 1e9:,.1f} GB"
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
