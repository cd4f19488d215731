"""Straight-through quantisers of the constrained model: integers forward, identity back.

The forward values are integers held in float tensors; sums of them stay exact in
float32 below 2**24, which is what lets the fake-quantised model equal the
integer network bit for bit. The word-level neuron (floor, clip, carried remainder)
is :func:`word_step` (on tensors; NumPy: :func:`rnn2snn.program.integer.word_step`).
"""

from __future__ import annotations

import numpy as np
import torch

from rnn2snn.program.integer import word_step as integer_word_step


def round_ste(x: torch.Tensor) -> torch.Tensor:
    """``round(x)`` forward, identity gradient."""
    return x + (torch.round(x) - x).detach()


def floor_ste(x: torch.Tensor) -> torch.Tensor:
    """``floor(x)`` forward, identity gradient."""
    return x + (torch.floor(x) - x).detach()


def quantize_weights(w: torch.Tensor, threshold, w_min: int = -8, w_max: int = 7) -> torch.Tensor:
    """Integer weights ``clip(round(w * threshold), w_min, w_max)`` with a straight-through gradient.

    The real-valued weight ``w`` is read in units of ``1/threshold``: the neuron's
    integer threshold plays the role of the per-layer weight scale. ``threshold`` is a
    number or a tensor broadcast against ``w`` (e.g. (H, 1): one α per neuron).
    """
    scaled = w * threshold
    return scaled + (torch.clamp(torch.round(scaled), w_min, w_max) - scaled).detach()


def quantize_input_levels(p: torch.Tensor, max_level: int) -> torch.Tensor:
    """Activity levels ``clip(round(p), 0, max_level)``; gradient passes inside the range."""
    return round_ste(torch.clamp(p, 0.0, float(max_level)))


def word_step(pre, threshold, levels: int, carry: bool):
    """Activity levels and the carried remainder for membrane inputs ``pre`` (…, H).

    NumPy arrays go to :func:`rnn2snn.program.integer.word_step`; tensors follow the same
    rule. Returns ``(a, r)``; ``r`` is zeros when ``carry`` is False.
    """
    if isinstance(pre, np.ndarray):
        return integer_word_step(pre, threshold, levels, carry)
    alpha = torch.as_tensor(threshold, dtype=pre.dtype)
    a = torch.clamp(floor_ste(pre / alpha), 0.0, float(levels - 1))
    if carry:
        r = torch.maximum(pre - alpha * a, -alpha.expand_as(pre)).detach()
    else:
        r = torch.zeros_like(pre)
    return a, r
