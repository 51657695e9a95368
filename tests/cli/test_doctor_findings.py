"""`callshrink doctor` explains each data health flag: here the calls longer than an
incremental build reaches back (marts.data_health.has_long_calls), which the generated data
never has. The row is a data_health row written by hand: every other flag clear."""

from __future__ import annotations

from callshrink.health import WARNING, _row_findings

HEALTHY_ROW = {
    "pbx_id": "pbx_east",
    "location_id": None,
    "is_pbx_unconfigured": False,
    "is_stitch_share_low": False,
    "is_unplaced_share_high": False,
    "is_undialled_share_high": False,
    "has_unknown_channels": False,
    "has_long_calls": False,
    "long_calls": 0,
    "latin1_lines": 0,
    "quarantined_lines": 0,
    "pbx_rows_loaded": 1200,
}


def test_long_calls_are_a_warning_that_names_the_lookback_and_its_remedies():
    row = {**HEALTHY_ROW, "has_long_calls": True, "long_calls": 1234}
    (finding,) = _row_findings(row, [])
    assert (finding.level, finding.pbx_id) == (WARNING, "pbx_east")
    assert "1,234 calls" in finding.message
    assert "incremental_lookback_hours" in finding.message
    assert "--full-refresh" in finding.message


def test_a_healthy_row_has_nothing_to_say():
    assert _row_findings(HEALTHY_ROW, []) == []
