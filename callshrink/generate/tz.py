"""Vectorised UTC <-> local time conversion for a bounded period (handles DST changes)."""

from __future__ import annotations

import bisect
import datetime as dt
import time
from zoneinfo import ZoneInfo

import numpy as np

UTC = dt.UTC


class TzTable:
    """UTC offsets of one IANA zone over [start, end), looked up with ``searchsorted``."""

    def __init__(self, name: str, start_epoch: int, end_epoch: int) -> None:
        zone = ZoneInfo(name)
        self.name = name
        hours = np.arange(start_epoch - 3 * 86400, end_epoch + 3 * 86400, 3600, dtype=np.int64)
        offs = np.array([_offset(zone, int(h)) for h in hours], dtype=np.int64)
        change = np.flatnonzero(np.diff(offs)) + 1
        # Exact transition second inside each hour (US changes happen on the hour anyway).
        self.starts = np.concatenate(([np.iinfo(np.int64).min], hours[change]))
        self.offsets = np.concatenate((offs[:1], offs[change]))

    def offset(self, epochs: np.ndarray) -> np.ndarray:
        idx = np.searchsorted(self.starts, epochs, side="right") - 1
        return self.offsets[idx]

    def to_local(self, epochs: np.ndarray) -> np.ndarray:
        """Local wall-clock seconds (as if the wall clock were UTC)."""
        return epochs + self.offset(epochs)

    def from_local(self, wall: np.ndarray) -> np.ndarray:
        """UTC epochs for local wall-clock seconds (a skipped hour maps one hour later)."""
        guess = wall - self.offset(wall - self.offsets.max())
        return wall - self.offset(guess)


def _offset(zone: ZoneInfo, epoch: int) -> int:
    delta = dt.datetime.fromtimestamp(epoch, UTC).astimezone(zone).utcoffset()
    return int(delta.total_seconds()) if delta is not None else 0


def date_epoch(day: dt.date) -> int:
    return int(dt.datetime(day.year, day.month, day.day, tzinfo=UTC).timestamp())


def iso_weekday(wall: np.ndarray) -> np.ndarray:
    """ISO weekday (1 = Monday) of wall-clock seconds; 1970-01-01 was a Thursday."""
    return ((wall // 86400) + 3) % 7 + 1


def fmt_offset(seconds: int) -> str:
    sign = "+" if seconds >= 0 else "-"
    s = abs(int(seconds))
    return f"{sign}{s // 3600:02d}:{(s % 3600) // 60:02d}"


class Clock:
    """Scalar offset lookups for one zone (fast for per-record formatting)."""

    def __init__(self, table: TzTable) -> None:
        self.starts = [int(x) for x in table.starts]
        self.offsets = [int(x) for x in table.offsets]
        self._dates: dict[int, str] = {}

    def offset(self, epoch: int) -> int:
        return self.offsets[bisect.bisect_right(self.starts, epoch) - 1]

    def stamp(self, epoch: int) -> str:
        """``YYYY-MM-DD HH:MM:SS`` local time."""
        wall = epoch + self.offsets[bisect.bisect_right(self.starts, epoch) - 1]
        day, sec = divmod(wall, 86_400)
        date = self._dates.get(day)
        if date is None:
            date = self._dates[day] = time.strftime("%Y-%m-%d", time.gmtime(day * 86_400))
        hours, rest = divmod(sec, 3600)
        return f"{date} {hours:02d}:{rest // 60:02d}:{rest % 60:02d}"

    def iso(self, epoch: int, millis: bool = True) -> str:
        off = self.offset(epoch)
        base = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(epoch + off))
        return f"{base}{'.000' if millis else ''}{fmt_offset(off)}"
