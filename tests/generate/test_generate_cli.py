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


def test_out_is_required() -> None:
    with pytest.raises(SystemExit):
        _parser().parse_args(["generate"])


def test_bad_start_date_is_rejected() -> None:
    with pytest.raises(SystemExit):
        _parser().parse_args(["generate", "--out", "x", "--start", "2026-13-01"])


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
