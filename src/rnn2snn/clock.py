"""The word-window clock: which ticks belong to which word — the one place this rule lives.

Word ``k`` of a sequence owns ticks ``[k·T, (k+1)·T)``; after the last word come
``flush`` ticks that still count for the last word. Every simulator, the placement's
port adapters, verify and the power estimate read the windows from here.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class WordClock:
    """ticks_per_word : T ≥ 1; flush_ticks : extra ticks after the last word (≥ 0)."""

    ticks_per_word: int
    flush_ticks: int = 0

    def __post_init__(self) -> None:
        if self.ticks_per_word < 1 or self.flush_ticks < 0:
            raise ValueError(f"WordClock needs T ≥ 1 and flush ≥ 0, got {self}")

    def total_ticks(self, steps: int) -> int:
        """Ticks needed to run ``steps`` words (flush included)."""
        return steps * self.ticks_per_word + self.flush_ticks

    def end(self, lengths: np.ndarray) -> np.ndarray:
        """First tick after each sequence (B,): its words and its flush ticks."""
        return np.asarray(lengths, dtype=np.int64) * self.ticks_per_word + self.flush_ticks

    def inside(self, lengths: np.ndarray, ticks: int) -> np.ndarray:
        """bool (B, ticks): the tick belongs to the sequence."""
        return np.arange(ticks)[None, :] < self.end(lengths)[:, None]

    def word_of_tick(self, ticks: int, length: int) -> np.ndarray:
        """Word index (ticks,) of each tick for one sequence of ``length`` words (flush → last word)."""
        return np.minimum(np.arange(ticks) // self.ticks_per_word, length - 1)

    def counts(self, raster: np.ndarray, lengths: np.ndarray, tick_major: bool = False) -> np.ndarray:
        """Spikes per word window (B, L, N) int64 from a raster (B, ticks, N) bool.

        Ticks after a sequence's end are ignored; ``tick_major``: the raster is (ticks, B, N).
        """
        r = raster if tick_major else np.swapaxes(raster, 0, 1)  # (ticks, B, N)
        ticks, batch, n = r.shape
        T, flush = self.ticks_per_word, self.flush_ticks
        steps = (ticks - flush) // T
        lengths = np.asarray(lengths, dtype=np.int64)
        counts = r[: steps * T].reshape(steps, T, batch, n).sum(axis=1, dtype=np.int64)
        counts = counts.transpose(1, 0, 2) * (np.arange(steps)[None, :] < lengths[:, None])[..., None]
        if flush:
            rows = np.arange(batch)
            idx = lengths[:, None] * T + np.arange(flush)[None, :]  # (B, F)
            counts[rows, lengths - 1] += r[idx, rows[:, None]].sum(axis=1, dtype=np.int64)
        return np.ascontiguousarray(counts)
