"""The word-level integer neuron — the one rule that training, the integer network and
spiking fine-tuning all use.

Per word ``t`` a neuron with threshold α and ``levels`` activity levels sees the membrane
input ``u_t`` (integer weights times integer levels, plus what the previous word left,
``r_{t−1}``) and emits

    a_t = clip(floor(u_t / α), 0, levels − 1)          (the spike count of the window)
    r_t = max(u_t − α·a_t, −α)                          (kept when the membrane is carried)

— an integrate-and-fire neuron with linear reset and a saturating negative threshold
β = α counts exactly this when its whole window input arrives before it fires. Works
on NumPy integer arrays (exact) and on torch tensors (integers held in float32, exact
below 2**24, with a straight-through gradient for the floor).
"""

from __future__ import annotations

import numpy as np


def word_step(pre, threshold, levels: int, carry: bool):
    """Activity levels and the carried remainder for membrane inputs ``pre`` (…, H).

    ``threshold`` is α, an int or an array (H,) broadcast over the last axis. Returns
    ``(a, r)``; ``r`` is zeros when ``carry`` is False (the membrane cleared each word).
    """
    if isinstance(pre, np.ndarray):
        alpha = np.asarray(threshold, dtype=np.int64)
        a = np.clip(pre // alpha, 0, levels - 1)
        r = np.maximum(pre - alpha * a, -alpha) if carry else np.zeros_like(pre)
        return a, r
    import torch  # only the training path reaches here

    from rnn2snn.model.quantize import floor_ste

    alpha = torch.as_tensor(threshold, dtype=pre.dtype)
    a = torch.clamp(floor_ste(pre / alpha), 0.0, float(levels - 1))
    if carry:
        r = torch.maximum(pre - alpha * a, -alpha.expand_as(pre)).detach()
    else:
        r = torch.zeros_like(pre)
    return a, r
