"""The constrained recurrent layers as one integer network.

``a_t = clip(floor(u_t / α), 0, levels − 1)`` with ``u_t = W_in · x_t + W_rec · a_{t−1}``
(:func:`word_step`), integer weights ``W`` (16 levels,
−8…7), integer input levels ``x`` and an integer threshold α per neuron (one per
layer). With ``carry_residual`` the membrane is not cleared between words, as on the
chip: ``u_t`` also holds ``r_{t−1} = max(u_{t−1} − α·a_{t−1}, −α)``. Stacked layers are
one block-structured layer here (see :mod:`rnn2snn.model.elman`); a bias is a weight
from a bias input.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


def word_step(pre, threshold, levels: int, carry: bool):
    """The word-level integer neuron — the one rule that training, the integer network and
    spiking fine-tuning all use (torch tensors through :func:`rnn2snn.model.quantize.word_step`).

    Per word a neuron with threshold α and ``levels`` activity levels sees the membrane
    input ``u`` (``pre``, int64 (…, H): integer weights times integer levels, plus what the
    previous word left) and emits ``a = clip(floor(u/α), 0, levels − 1)`` (the spike count
    of the window) and keeps ``r = max(u − α·a, −α)`` when the membrane is carried (zeros
    when ``carry`` is False) — an integrate-and-fire neuron with linear reset and a
    saturating negative threshold β = α counts exactly this when its whole window input
    arrives before it fires. ``threshold`` is α, an int or an array (H,).
    """
    alpha = np.asarray(threshold, dtype=np.int64)
    a = np.clip(pre // alpha, 0, levels - 1)
    r = np.maximum(pre - alpha * a, -alpha) if carry else np.zeros_like(pre)
    return a, r


def run_words(drive, w_rec, neuron, valid, where, zeros) -> list:
    """The word loop — the one time loop of the word-level network, for NumPy arrays (the
    integer network) and torch tensors (the model in training) alike.

    drive : (B, L, H) the input part of every word's membrane input; w_rec : (H, H) the
    recurrent weights; ``neuron(pre, residual) → (activity, remainder)`` with ``pre`` the
    word's input and the previous activity's recurrent input; valid : bool (B, L), the
    word lies inside its sequence (after the end the activity and remainder are held);
    ``where`` (``np.where`` or ``torch.where``) and ``zeros`` (B, H) the starting state.
    Returns the activities of every word, a list of L arrays (B, H).
    """
    a = residual = zeros
    out = []
    for t in range(drive.shape[1]):
        new, r = neuron(drive[:, t] + a @ w_rec.T, residual)
        live = valid[:, t, None]
        residual = where(live, r, residual)
        a = where(live, new, a)
        out.append(a)
    return out


@dataclass(frozen=True)
class IntegerRNN:
    """Integer recurrent network.

    w_in : int64 (H, S) — weights from the S source units (inputs, bias inputs).
    w_rec : int64 (H, H) — weights from the neurons' own previous activity.
    threshold : int64 (H,) — α of each neuron (an int is broadcast).
    levels : int — activity levels (16 → 0…15).
    groups : the neurons of each core, or None (one core, or a greedy split).
    carry_residual : bool — keep each word's leftover potential for the next word.
    """

    w_in: np.ndarray
    w_rec: np.ndarray
    threshold: np.ndarray
    levels: int = 16
    groups: tuple[tuple[int, ...], ...] | None = None
    carry_residual: bool = False

    def __post_init__(self) -> None:
        h = self.w_rec.shape[0]
        if self.w_rec.shape != (h, h) or self.w_in.shape[0] != h:
            raise ValueError(f"shapes w_in {self.w_in.shape}, w_rec {self.w_rec.shape} disagree")
        alpha = np.broadcast_to(np.asarray(self.threshold, dtype=np.int64), (h,)).copy()
        if h and alpha.min() < 1:
            raise ValueError(f"threshold must be ≥ 1, got {int(alpha.min())}")
        object.__setattr__(self, "threshold", alpha)

    @property
    def n_inputs(self) -> int:
        return self.w_in.shape[1]

    @property
    def n_hidden(self) -> int:
        return self.w_rec.shape[0]

    @property
    def weights(self) -> np.ndarray:
        """All weights (H, S + H): sources first, then recurrent."""
        return np.concatenate([self.w_in, self.w_rec], axis=1)

    def run(self, x: np.ndarray, lengths: np.ndarray) -> np.ndarray:
        """Activities (B, L, H) int64 for source levels ``x`` (B, L, S).

        After a sequence's end (``lengths``), its activity is held at the final value.
        """
        x = np.asarray(x, dtype=np.int64)
        lengths = np.asarray(lengths)
        batch, steps, _ = x.shape
        out = np.zeros((batch, steps, self.n_hidden), dtype=np.int64)
        valid = np.arange(steps)[None, :] < lengths[:, None]
        words = run_words(x @ self.w_in.T, self.w_rec, self._neuron, valid, np.where,
                          np.zeros((batch, self.n_hidden), dtype=np.int64))
        if words:
            out[:] = np.stack(words, axis=1)
        return out

    def _neuron(self, pre: np.ndarray, residual: np.ndarray):
        return word_step(pre + residual, self.threshold, self.levels, self.carry_residual)
