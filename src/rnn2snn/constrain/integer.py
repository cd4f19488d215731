"""The constrained recurrent layer as an integer network.

``a_t = clip(floor(u_t / α), 0, levels − 1)`` with ``u_t = W_in · x_t + W_rec · a_{t−1}``,
integer weights ``W`` (16 levels, −8…7), integer input levels ``x`` and integer
threshold α. With ``carry_residual`` the membrane is not cleared between words, as
on the chip: ``u_t`` also holds ``r_{t−1} = max(u_{t−1} − α·a_{t−1}, −α)``.
No bias: the on-chip layer has none (a bias would have to be a leak, see the README).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class IntegerRNN:
    """Integer recurrent layer.

    w_in : int64 (H, P) — weights from the P inputs.
    w_rec : int64 (H, H) — weights from the layer's own previous activity.
    threshold : int — α, the number of weight units one activity level costs.
    levels : int — activity levels (16 → 0…15).
    groups : the recurrent neurons of each core (block-sparse layers), or None.
    carry_residual : bool — keep each word's leftover potential for the next word.
    """

    w_in: np.ndarray
    w_rec: np.ndarray
    threshold: int
    levels: int = 16
    groups: tuple[tuple[int, ...], ...] | None = None
    carry_residual: bool = False

    def __post_init__(self) -> None:
        h = self.w_rec.shape[0]
        if self.w_rec.shape != (h, h) or self.w_in.shape[0] != h:
            raise ValueError(f"shapes w_in {self.w_in.shape}, w_rec {self.w_rec.shape} disagree")
        if self.threshold < 1:
            raise ValueError(f"threshold must be ≥ 1, got {self.threshold}")

    @property
    def n_inputs(self) -> int:
        return self.w_in.shape[1]

    @property
    def n_hidden(self) -> int:
        return self.w_rec.shape[0]

    @property
    def weights(self) -> np.ndarray:
        """All weights (H, P + H): inputs first, then recurrent."""
        return np.concatenate([self.w_in, self.w_rec], axis=1)

    def run(self, x: np.ndarray, lengths: np.ndarray) -> np.ndarray:
        """Activities (B, L, H) int64 for input levels ``x`` (B, L, P).

        After a sequence's end (``lengths``), its activity is held at the final value.
        """
        x = np.asarray(x, dtype=np.int64)
        lengths = np.asarray(lengths)
        batch, steps, _ = x.shape
        a = np.zeros((batch, self.n_hidden), dtype=np.int64)
        residual = np.zeros_like(a)
        out = np.zeros((batch, steps, self.n_hidden), dtype=np.int64)
        drive = x @ self.w_in.T
        for t in range(steps):
            live = (t < lengths)[:, None]
            pre = drive[:, t] + a @ self.w_rec.T + residual  # residual stays 0 unless carried
            new = np.clip(pre // self.threshold, 0, self.levels - 1)
            if self.carry_residual:
                residual = np.where(live, np.maximum(pre - self.threshold * new, -self.threshold),
                                    residual)
            a = np.where(live, new, a)
            out[:, t] = a
        return out
