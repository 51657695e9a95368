"""``callshrink generate``: command-line options and the run function."""

from __future__ import annotations

import argparse
import datetime as dt
import sys
import textwrap
from pathlib import Path

from callshrink.generate import DEFAULT_START, drift, generate
from callshrink.generate.presets import DEFAULT_PRESET, PRESETS, Preset


def _date(text: str) -> dt.date:
    try:
        return dt.date.fromisoformat(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(f"not a date (YYYY-MM-DD): {text!r}") from exc


def positive(text: str) -> int:
    """A count option's value: a whole number, 1 or more (argparse names the option)."""
    try:
        value = int(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(f"not a whole number: {text!r}") from exc
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1, got {value}")
    return value


def _drift(text: str) -> str | drift.DriftSpec:
    if text == "default":
        return text
    try:
        return drift.parse(text)
    except drift.DriftError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def configure_parser(parser: argparse.ArgumentParser) -> None:
    """Add the options of ``callshrink generate`` to ``parser``."""
    if parser.epilog is None:
        parser.epilog = "presets:\n" + "\n".join(
            textwrap.fill(
                p.description,
                width=88,
                initial_indent=f"  {p.name:<21}",
                subsequent_indent=" " * 23,
            )
            for p in PRESETS.values()
        )
        if parser.formatter_class is argparse.HelpFormatter:
            parser.formatter_class = argparse.RawDescriptionHelpFormatter
    parser.add_argument(
        "--out",
        type=Path,
        required=True,
        metavar="DIR",
        help="folder to write landing/, reference/ and answer_key/ into (those three are "
        "replaced if they exist)",
    )
    parser.add_argument(
        "--preset",
        choices=sorted(PRESETS),
        default=None,
        metavar="NAME",
        help=f"size of the data set: {', '.join(PRESETS)} (listed below). Default: "
        f"{DEFAULT_PRESET}. --locations and --days override the preset's (e.g. "
        "--preset contact-center-year --days 37 for a tenth of the year)",
    )
    parser.add_argument(
        "--locations",
        type=positive,
        default=None,
        metavar="N",
        help="number of locations loc_01..loc_NN (location i is the same whatever N is)",
    )
    parser.add_argument(
        "--days", type=positive, default=None, metavar="D", help="number of local days to simulate"
    )
    parser.add_argument(
        "--seed",
        type=int,
        default=7,
        metavar="S",
        help="random seed; the same arguments give byte-identical files (default: 7)",
    )
    parser.add_argument(
        "--start",
        type=_date,
        default=None,
        metavar="YYYY-MM-DD",
        help=f"first local day (default: {DEFAULT_START.isoformat()}, so the default 28 days "
        "include the US daylight-saving change)",
    )
    parser.add_argument(
        "--defects",
        action="store_true",
        help="also write malformed lines and re-delivered files, listed in answer_key/defects.json",
    )
    parser.add_argument(
        "--drift",
        action="append",
        nargs="?",
        const="default",
        type=_drift,
        metavar=drift.SYNTAX,
        help="inject a process change at one location from a local day to the end, listed in "
        "answer_key/drifts.json (repeatable). KIND: staffing_drop (the staffing plan keeps "
        "half its agents, agents // 2, every open hour: answer rate falls, speed of answer "
        "rises, fewer queue members), ring_time (free members let the phone ring out 60 %% "
        "of the time: speed of answer and abandonment rise) or callbacks_stop (no callbacks: "
        "recovery falls, repeat contacts rise); LOCATION: loc_NN (the first two need a PBX, "
        "so not loc_03); DAY: a day number 1..days-1 counted from --start (day 0), or "
        "YYYY-MM-DD. --drift alone: the default set, staffing_drop at loc_01, ring_time at "
        "loc_02 and callbacks_stop at loc_04, all from day days - 7 (the last "
        "week) or days // 2, whichever is later (needs --locations 4 or more)",
    )
    parser.add_argument(
        "--no-progress", action="store_true", help="do not draw the progress bar on stderr"
    )


def run(args: argparse.Namespace) -> int:
    """Generate the data set described by ``args``; print a short summary. Returns 0."""
    preset = PRESETS[args.preset or DEFAULT_PRESET]
    drifts = args.drift
    if drifts == ["default"]:
        drifts = "default"
    try:
        summary = _generate(args, preset, drifts)
    except drift.DriftError as exc:
        print(f"callshrink generate: error: {exc}", file=sys.stderr)
        return 2
    print(
        f"wrote {summary['calls']:,} calls ({summary['inbound_calls']:,} inbound) for "
        f"{summary['locations']} locations x {summary['days']} days from "
        f"{summary['start']} into {summary['out']}"
    )
    for source in sorted(summary["files"]):
        files, n_rows = summary["files"][source], summary["rows"][source]
        print(f"  {source:<18} {files:>5} files {n_rows:>10,} rows")
    if "defects" in summary:
        print(f"  defects: {len(summary['defects'])} (see answer_key/defects.json)")
    for d in summary.get("drifts", []):
        print(
            f"  drift: {d['kind']} at {d['location_id']} from day {d['day']} "
            "(see answer_key/drifts.json)"
        )
    return 0


def _generate(args: argparse.Namespace, preset: Preset, drifts: object) -> dict:
    return generate(
        args.out,
        locations=args.locations or preset.locations,
        days=args.days or preset.days,
        seed=args.seed,
        start=args.start,
        defects=args.defects,
        progress=not args.no_progress,
        calls_per_location_day=preset.calls_per_location_day,
        drifts=drifts,
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="callshrink-generate",
        description="Write demo vendor exports, reference seeds and an answer key.",
    )
    configure_parser(parser)
    return run(parser.parse_args(argv))


if __name__ == "__main__":
    raise SystemExit(main())
