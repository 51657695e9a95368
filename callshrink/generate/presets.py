"""Named sizes for the demo data."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Preset:
    name: str
    locations: int
    days: int
    calls_per_location_day: float
    description: str


PRESETS: dict[str, Preset] = {
    p.name: p
    for p in (
        Preset("small", 4, 7, 80.0, "4 locations x 7 days, ~2.6k calls: fast, for tests"),
        Preset(
            "demo",
            6,
            42,
            120.0,
            "6 locations x 42 days, ~36k calls: the default demo (28 days of control-chart "
            "baseline and two weeks judged)",
        ),
        Preset(
            "contact-center",
            40,
            28,
            1940.0,
            "40 locations (a 2,000-agent contact center) x 28 days, ~96k calls a day, ~2.7M "
            "calls: about 3 min and 4.7 GB on disk; volume and speed testing",
        ),
        Preset(
            "contact-center-year",
            40,
            365,
            1940.0,
            "the same contact center for 365 days, ~35M calls: about 36 min and "
            "61 GB on disk (extrapolated from 37 days); memory stays at about 0.6 GB",
        ),
    )
}
DEFAULT_PRESET = "demo"
