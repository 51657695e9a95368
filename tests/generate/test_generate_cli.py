"""The generate subcommand's parser and run function."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import pytest

from callshrink.generate import cli


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser()
    sub = parser.add_subparsers(dest="command")
    cli.configure_parser(sub.add_parser("generate", help="demo data"))
    return parser


def _refusal(capsys: pytest.CaptureFixture[str], *argv: str) -> str:
    """The error argparse printed refusing ARGV, after it exited with status 2."""
    with pytest.raises(SystemExit) as refused:
        _parser().parse_args(list(argv))
    assert refused.value.code == 2
    return capsys.readouterr().err.strip().splitlines()[-1].split(" error: ", 1)[1]


def test_out_is_required(capsys: pytest.CaptureFixture[str]) -> None:
    assert _refusal(capsys, "generate") == "the following arguments are required: --out"


def test_bad_start_date_is_rejected(capsys: pytest.CaptureFixture[str]) -> None:
    assert _refusal(capsys, "generate", "--out", "x", "--start", "2026-13-01") == (
        "argument --start: not a date (YYYY-MM-DD): '2026-13-01'"
    )


@pytest.mark.parametrize(
    ("option", "value", "error"),
    [
        ("--locations", "0", "must be at least 1, got 0"),
        ("--locations", "-3", "must be at least 1, got -3"),
        ("--locations", "2.5", "not a whole number: '2.5'"),
        ("--days", "0", "must be at least 1, got 0"),
        ("--days", "-1", "must be at least 1, got -1"),
    ],
)
def test_a_count_below_one_is_refused_naming_the_option(
    capsys: pytest.CaptureFixture[str], option: str, value: str, error: str
) -> None:
    assert _refusal(capsys, "generate", "--out", "x", option, value) == (
        f"argument {option}: {error}"
    )


def test_run_small_preset(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    args = _parser().parse_args(
        [
            "generate",
            "--out",
            str(tmp_path),
            "--preset",
            "small",
            "--locations",
            "2",
            "--days",
            "2",
            "--seed",
            "3",
            "--start",
            "2026-03-07",
            "--no-progress",
        ]
    )
    assert cli.run(args) == 0
    printed = capsys.readouterr().out
    assert "calls" in printed and str(tmp_path) in printed
    summary = json.loads((tmp_path / "answer_key" / "summary.json").read_text())
    assert summary["period"] == {
        "start": "2026-03-07",
        "days": 2,
        "note": "calls are simulated for local days start..start+days-1",
    }
    assert sorted(summary["locations"]) == ["loc_01", "loc_02"]
