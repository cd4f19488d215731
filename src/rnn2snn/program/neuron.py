"""The TrueNorth neuron, one tick at a time — the single implementation every simulator uses.

Per tick, for every neuron j (Cassidy et al. 2013; Merolla et al. 2014):

1. integrate: ``V ← V + I`` where ``I`` is this tick's synaptic input
   (see :func:`crossbar_input`);
2. leak: ``V ← V + Ω·λ`` with ``Ω = 1`` or, with leak reversal ``ε = 1``,
   ``Ω = sgn(V)`` (``sgn 0 = 0``). A stochastic leak adds ``sgn(λ)·Ω`` with
   probability ``|λ|/256`` instead;
3. threshold: with ``η = ρ & M`` (``ρ`` a random integer, ``M`` the threshold
   mask; ``η = 0`` when ``M = 0``): if ``V ≥ α + η`` the neuron spikes and resets
   by mode ``γ``: 0 → ``V ← R``, 1 (linear) → ``V ← V − (α + η)``, 2 → unchanged;
4. else if ``V < −β`` (``−(β + η)`` when ``κ = 0``): with ``κ = 1`` ``V ← −β``
   (saturate), with ``κ = 0`` the mirrored reset: ``−R``, ``V + (β + η)``, or
   unchanged.

The membrane is a 20-bit signed integer. The sources do not say what happens at
its limits; here it *saturates* at ``V_MIN``/``V_MAX`` after integration and
after the leak (documented choice, see :mod:`rnn2snn.program.limits`).

Stochastic modes draw from a seeded :class:`numpy.random.Generator`: one 8-bit
draw per neuron for the leak and, for the threshold, an integer in
``0 … 2**17 − 1`` masked by ``M``. Deterministic parameters draw nothing.
"""

from __future__ import annotations

from dataclasses import dataclass, fields
from functools import cached_property

import numpy as np

from rnn2snn.program import limits as L

RESET_TO_VALUE, RESET_LINEAR, RESET_NONE = 0, 1, 2


@dataclass(frozen=True)
class NeuronParams:
    """Per-neuron parameters, each an int64 array of shape (N,) (scalars broadcast).

    threshold α ≥ 1; neg_threshold β ≥ 0; leak λ (signed); leak_reversal ε ∈ {0,1};
    reset_mode γ ∈ {0,1,2}; reset_value R; neg_saturate κ ∈ {0,1};
    threshold_mask M (0: deterministic threshold); stochastic_leak ∈ {0,1}.
    """

    threshold: np.ndarray
    neg_threshold: np.ndarray
    leak: np.ndarray
    leak_reversal: np.ndarray
    reset_mode: np.ndarray
    reset_value: np.ndarray
    neg_saturate: np.ndarray
    threshold_mask: np.ndarray
    stochastic_leak: np.ndarray

    @classmethod
    def make(cls, n: int, threshold, neg_threshold=0, leak=0, leak_reversal=0,
             reset_mode=RESET_LINEAR, reset_value=0, neg_saturate=1, threshold_mask=0,
             stochastic_leak=0, where: str = "") -> NeuronParams:
        """Broadcast every field to shape (n,) and check it against the hardware ranges."""
        values = dict(threshold=threshold, neg_threshold=neg_threshold, leak=leak,
                      leak_reversal=leak_reversal, reset_mode=reset_mode,
                      reset_value=reset_value, neg_saturate=neg_saturate,
                      threshold_mask=threshold_mask, stochastic_leak=stochastic_leak)
        arrays = {}
        for k, v in values.items():
            arr = np.asarray(v)
            if arr.ndim and arr.shape != (n,):
                raise ValueError(f"{where}NeuronParams.{k} has shape {arr.shape}, expected ({n},)")
            arrays[k] = np.broadcast_to(arr, (n,)).astype(np.int64)
        params = cls(**arrays)
        params.validate(where)
        return params

    def validate(self, where: str = "") -> None:
        for name, (lo, hi) in L.NEURON_FIELD_RANGES.items():
            L.check_range(name, getattr(self, name), lo, hi, where)

    def take(self, index) -> NeuronParams:
        """The parameters of a subset of neurons."""
        return NeuronParams(**{f.name: getattr(self, f.name)[index] for f in fields(self)})

    @cached_property
    def uniform_linear_saturating(self) -> bool:
        """All neurons reset linearly and saturate at −β (a fast path of :func:`step`)."""
        return bool((self.reset_mode == RESET_LINEAR).all() and (self.neg_saturate == 1).all())

    @cached_property
    def neg_floor(self) -> np.ndarray:
        return -self.neg_threshold

    @cached_property
    def has_leak(self) -> bool:
        return bool(self.leak.any())

    @cached_property
    def stochastic_threshold(self) -> bool:
        return bool(self.threshold_mask.any())


def _saturate(v: np.ndarray) -> np.ndarray:
    return np.minimum(np.maximum(v, L.V_MIN), L.V_MAX)


def step(v: np.ndarray, synaptic_input: np.ndarray, p: NeuronParams,
         rng: np.random.Generator | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Advance membrane potentials ``v`` by one tick.

    Parameters
    ----------
    v : int64 array (..., N)
        Membrane potentials (not modified).
    synaptic_input : int64 array (..., N)
        Sum of this tick's synaptic events per neuron.
    p : NeuronParams
        Per-neuron parameters (N,).
    rng : numpy Generator, optional
        Needed only when a stochastic mode is on.

    Returns
    -------
    spikes : bool array (..., N)
    v : int64 array (..., N), the new potentials
    """
    v = _saturate(v + synaptic_input)
    # 2. leak (skipped when every λ is 0: adding 0 changes nothing)
    if p.has_leak:
        omega = np.where(p.leak_reversal == 1, np.sign(v), 1)
        if p.stochastic_leak.any():
            if rng is None:
                raise ValueError("a stochastic leak needs a seeded rng")
            draw = rng.integers(0, 256, size=v.shape)
            stoch = (np.abs(p.leak) > draw).astype(np.int64) * np.sign(p.leak)
            leak = np.where(p.stochastic_leak == 1, stoch, p.leak)
        else:
            leak = p.leak
        v = _saturate(v + omega * leak)
    # 3./4. thresholds
    if p.uniform_linear_saturating and not p.stochastic_threshold:
        # The converted networks' case. V ≥ α ≥ 1 and V < −β ≤ 0 exclude each other,
        # and saturating at −β is max(V, −β).
        spikes = v >= p.threshold
        return spikes, np.where(spikes, v - p.threshold, np.maximum(v, p.neg_floor))
    if p.stochastic_threshold:
        if rng is None:
            raise ValueError("a stochastic threshold needs a seeded rng")
        eta = rng.integers(0, L.THRESHOLD_MASK_MAX + 1, size=v.shape) & p.threshold_mask
    else:
        eta = 0
    alpha = p.threshold + eta
    spikes = v >= alpha
    beta = np.where(p.neg_saturate == 1, p.neg_threshold, p.neg_threshold + eta)
    below = ~spikes & (v < -beta)
    pos = np.select([p.reset_mode == RESET_TO_VALUE, p.reset_mode == RESET_LINEAR],
                    [np.broadcast_to(p.reset_value, v.shape), v - alpha], v)
    neg = np.where(p.neg_saturate == 1, -p.neg_threshold,
                   np.select([p.reset_mode == RESET_TO_VALUE, p.reset_mode == RESET_LINEAR],
                             [np.broadcast_to(-p.reset_value, v.shape), v + beta], v))
    v = np.where(spikes, pos, np.where(below, neg, v))
    return spikes, v
