"""Same arguments, same bytes; reference data that only grows with --locations."""

from __future__ import annotations

import hashlib
from pathlib import Path

from callshrink.generate import generate
from callshrink.generate.reference import location, locations, write_reference

SEEDS_DIR = Path(__file__).resolve().parents[2] / "seeds"
REFERENCE_FILES = (
    "locations.csv",
    "location_crosswalk.csv",
    "business_hours.csv",
    "pbx_systems.csv",
    "escalation_queues.csv",
)


def tree_hash(root: Path) -> dict[str, str]:
    return {
        p.relative_to(root).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(root.rglob("*"))
        if p.is_file()
    }


def test_same_seed_gives_identical_bytes(tmp_path: Path) -> None:
    args = {"locations": 3, "days": 3, "seed": 5, "calls_per_location_day": 40.0, "defects": True}
    generate(tmp_path / "a", **args)
    generate(tmp_path / "b", **args)
    a, b = tree_hash(tmp_path / "a"), tree_hash(tmp_path / "b")
    assert a == b
    assert len(a) > 30


def test_other_seed_gives_other_calls(tmp_path: Path) -> None:
    generate(tmp_path / "a", locations=2, days=2, seed=1, calls_per_location_day=30.0)
    generate(tmp_path / "b", locations=2, days=2, seed=2, calls_per_location_day=30.0)
    a, b = tree_hash(tmp_path / "a"), tree_hash(tmp_path / "b")
    assert a["answer_key/calls.csv"] != b["answer_key/calls.csv"]
    assert a["reference/locations.csv"] == b["reference/locations.csv"]


def test_reference_for_n_is_a_prefix_of_n_plus_1(tmp_path: Path) -> None:
    for n in range(1, 14):
        write_reference(tmp_path / str(n), locations(n))
        write_reference(tmp_path / str(n + 1), locations(n + 1))
        for name in REFERENCE_FILES:
            small = (tmp_path / str(n) / name).read_text()
            big = (tmp_path / str(n + 1) / name).read_text()
            assert big.startswith(small), (n, name)


def test_location_shape_rules() -> None:
    assert location(1).pbx is not None
    assert location(2).pbx is not None
    no_pbx = [i for i in range(1, 40) if location(i).pbx is None]
    assert no_pbx == [3]
    zones = {location(i).timezone for i in range(1, 7)}
    assert "America/Phoenix" in zones and len(zones) >= 4
    assert {location(i).pbx.pbx_id for i in (1, 2, 4, 5, 6)} == {"pbx_east", "pbx_west"}
    # a PBX location whose zone differs from its PBX's zone
    assert any(loc.pbx and loc.pbx.timezone != loc.timezone for loc in locations(6))


def test_seeds_equal_the_reference_for_six_locations(tmp_path: Path) -> None:
    write_reference(tmp_path, locations(6))
    for name in REFERENCE_FILES:
        assert (SEEDS_DIR / name).read_bytes() == (tmp_path / name).read_bytes(), name


def test_one_location_has_a_pbx(tmp_path: Path) -> None:
    summary = generate(tmp_path, locations=1, days=1, calls_per_location_day=30.0)
    assert sorted(p.name for p in (tmp_path / "landing" / "pbx").iterdir()) == ["pbx_east"]
    assert summary["files"]["pbx_cdr"] == 2 and summary["calls"] > 0
