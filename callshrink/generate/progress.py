"""A minimal progress bar on stderr (no dependency, silent when disabled)."""

from __future__ import annotations

import sys
import time


class Progress:
    def __init__(self, total: int, *, enabled: bool, label: str = "") -> None:
        self.total = max(total, 1)
        self.enabled = enabled
        self.label = label
        self.done = 0
        self.started = time.monotonic()

    def advance(self, calls: int, steps: int = 1) -> None:
        self.done += steps
        if not self.enabled:
            return
        width = 30
        filled = width * self.done // self.total
        elapsed = max(time.monotonic() - self.started, 1e-9)
        bar = "#" * filled + "-" * (width - filled)
        sys.stderr.write(
            f"\r{self.label} [{bar}] {self.done}/{self.total} days, {calls:,} calls, "
            f"{calls / elapsed:,.0f} calls/s"
        )
        sys.stderr.flush()

    def close(self) -> None:
        if self.enabled:
            sys.stderr.write("\n")
            sys.stderr.flush()
