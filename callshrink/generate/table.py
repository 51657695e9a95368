"""A tiny column store: a dict of equally long numpy arrays."""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np


class Seen:
    """Which small non-negative ints were seen: a bitmap below ``size``, a set above."""

    def __init__(self, size: int) -> None:
        self.flags = bytearray(size)
        self.extra: set[int] = set()

    def first(self, value: int) -> bool:
        """Mark ``value`` seen; True if it was not seen before."""
        if 0 <= value < len(self.flags):
            if self.flags[value]:
                return False
            self.flags[value] = 1
            return True
        if value in self.extra:
            return False
        self.extra.add(value)
        return True


class Table:
    def __init__(self, columns: dict[str, np.ndarray]) -> None:
        lengths = {len(v) for v in columns.values()}
        if len(lengths) > 1:
            sizes = {k: len(v) for k, v in columns.items()}
            raise ValueError(f"columns of unequal length: {sizes}")
        self.cols = columns

    def __len__(self) -> int:
        return len(next(iter(self.cols.values()))) if self.cols else 0

    def __getitem__(self, name: str) -> np.ndarray:
        return self.cols[name]

    def __setitem__(self, name: str, values: np.ndarray) -> None:
        self.cols[name] = values

    def take(self, index: np.ndarray) -> Table:
        return Table({k: v[index] for k, v in self.cols.items()})

    @staticmethod
    def concat(tables: Iterable[Table]) -> Table:
        parts = [t for t in tables if t is not None]
        if not parts:
            raise ValueError("nothing to concatenate")
        names = list(parts[0].cols)
        return Table({n: np.concatenate([p.cols[n] for p in parts]) for n in names})
