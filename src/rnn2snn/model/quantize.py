"""Straight-through quantisers of the constrained model: integers forward, identity back.

The forward values are integers held in float tensors; sums of them stay exact in
float32 below 2**24, which is what lets the fake-quantised model equal the
integer network bit for bit.
"""

from __future__ import annotations

import torch


def round_ste(x: torch.Tensor) -> torch.Tensor:
    """``round(x)`` forward, identity gradient."""
    return x + (torch.round(x) - x).detach()


def floor_ste(x: torch.Tensor) -> torch.Tensor:
    """``floor(x)`` forward, identity gradient."""
    return x + (torch.floor(x) - x).detach()


def quantize_weights(w: torch.Tensor, threshold: int, w_min: int = -8, w_max: int = 7) -> torch.Tensor:
    """Integer weights ``clip(round(w * threshold), w_min, w_max)`` with a straight-through gradient.

    The real-valued weight ``w`` is read in units of ``1/threshold``: the neuron's
    integer threshold plays the role of the per-layer weight scale.
    """
    scaled = w * threshold
    return scaled + (torch.clamp(torch.round(scaled), w_min, w_max) - scaled).detach()


def quantize_input_levels(p: torch.Tensor, max_level: int) -> torch.Tensor:
    """Activity levels ``clip(round(p), 0, max_level)``; gradient passes inside the range."""
    return round_ste(torch.clamp(p, 0.0, float(max_level)))


def quantize_recurrent_levels(pre_int: torch.Tensor, threshold: int, max_level: int) -> torch.Tensor:
    """Levels ``clip(floor(pre_int / threshold), 0, max_level)``, as an IF neuron counts spikes.

    ``pre_int`` is an integer-valued membrane input; the division by an integer is
    exact for integers below 2**24, so ``floor`` agrees with integer floor division.
    """
    return torch.clamp(floor_ste(pre_int / threshold), 0.0, float(max_level))


def carried_residual(pre_int: torch.Tensor, levels: torch.Tensor, threshold: int) -> torch.Tensor:
    """Membrane potential an IF neuron keeps after emitting ``levels`` spikes: ``max(pre − α·levels, −α)``.

    The chip has no reset between words, so what a window leaves over (the
    remainder below α, the excess above the top level, inhibition down to the
    negative floor −β = −α) starts the next window. A forward-only state: no gradient.
    """
    return torch.clamp(pre_int - threshold * levels, min=-float(threshold)).detach()
