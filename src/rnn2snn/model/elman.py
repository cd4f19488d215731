"""The Elman RNN classifier of Diehl et al. (2016), with optional hardware constraints.

word vectors (E) → projection (P, ReLU, off-chip) → Elman layer (H, ReLU, on-chip,
no bias) → linear readout (C classes, off-chip).

One module serves every stage of train-and-constrain: the constraints (fan-in
mask, 16-level weights, 16-level activities) are switched on by
:class:`Constraints` and act in the forward pass with straight-through gradients.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import torch
from torch import nn

from rnn2snn.model.quantize import (
    carried_residual,
    quantize_input_levels,
    quantize_recurrent_levels,
    quantize_weights,
)

READOUTS = ("last", "mean", "max")


def pool_activity(activity: torch.Tensor, lengths: torch.Tensor, readout: str) -> torch.Tensor:
    """One feature (B, H) per sequence from its word activities (B, L, H).

    ``"last"``: the final word's activity; ``"mean"``: the mean over the words;
    ``"max"``: the largest over the words. For a spiking layer the activities are
    spike counts per word window, so each is computed off-chip from the counts.
    """
    valid = torch.arange(activity.shape[1], device=activity.device)[None, :] < lengths[:, None]
    if readout == "last":
        return activity[torch.arange(len(lengths)), lengths - 1]
    masked = activity * valid[..., None].to(activity.dtype)  # activities are ≥ 0
    if readout == "mean":
        return masked.sum(1) / lengths[:, None].to(activity.dtype)
    if readout == "max":
        return masked.amax(1)
    raise ValueError(f"readout must be one of {READOUTS}, got {readout!r}")


@dataclass(frozen=True)
class ElmanConfig:
    """Sizes and options of the network (all integers are unit counts)."""

    vocab_size: int
    n_classes: int
    embed_dim: int = 64
    proj_dim: int = 48
    hidden_dim: int = 16
    readout: str = "last"  # how the word activities become one feature: see pool_activity
    dropout: float = 0.25

    def __post_init__(self) -> None:
        for name in ("vocab_size", "n_classes", "embed_dim", "proj_dim", "hidden_dim"):
            if int(getattr(self, name)) < 1:
                raise ValueError(f"ElmanConfig.{name} must be ≥ 1, got {getattr(self, name)}")
        if self.readout not in READOUTS:
            raise ValueError(f"ElmanConfig.readout must be one of {READOUTS}, got {self.readout!r}")

    def to_dict(self) -> dict:
        return asdict(self)


@dataclass
class Constraints:
    """Which hardware constraints are active on the recurrent layer.

    mask : bool tensor (H, P + H) or None
        Allowed connections (fan-in limit); inputs first, then recurrent units.
    threshold : int or None
        Integer threshold α. When set, weights are integers in
        ``[w_min, w_max]`` in units of ``1/α`` (16 levels: −8…7).
    activity_levels : int or None
        When set (16), projection and recurrent activities are integer levels
        ``0 … activity_levels − 1``; recurrent ones are ``floor(Σ w·x / α)``.
    carry_residual : bool
        With activity levels: each word's membrane input also holds what the
        previous word left over (:func:`~rnn2snn.model.quantize.carried_residual`),
        as on the chip, so the trained network is the one the spiking layer runs.
    groups : list of lists of int, or None
        Recurrent neurons of each core, when the fan-in mask is block-sparse
        (one source set per core); None: one core, or a greedy split.
    """

    mask: torch.Tensor | None = None
    groups: list[list[int]] | None = None
    threshold: int | None = None
    w_min: int = -8
    w_max: int = 7
    activity_levels: int | None = None
    carry_residual: bool = False


class ElmanClassifier(nn.Module):
    """Embedding → projection → Elman layer → readout, see the module docstring."""

    def __init__(self, config: ElmanConfig):
        super().__init__()
        self.config = config
        c = config
        self.embedding = nn.Embedding(c.vocab_size, c.embed_dim, padding_idx=0)
        self.proj = nn.Linear(c.embed_dim, c.proj_dim)
        # Recurrent weights: columns 0..P-1 read the projection, P..P+H-1 the layer itself.
        self.recurrent = nn.Parameter(torch.empty(c.hidden_dim, c.proj_dim + c.hidden_dim))
        self.readout = nn.Linear(c.hidden_dim, c.n_classes)
        self.dropout = nn.Dropout(c.dropout)
        self.constraints = Constraints()
        nn.init.normal_(self.embedding.weight, std=1.0)
        with torch.no_grad():
            self.embedding.weight[0].zero_()
        nn.init.uniform_(self.recurrent, -1.0 / (c.proj_dim + c.hidden_dim) ** 0.5,
                         1.0 / (c.proj_dim + c.hidden_dim) ** 0.5)
        with torch.no_grad():  # start near an identity-free, stable recurrence
            self.recurrent[:, c.proj_dim:] *= 0.5

    # -- constrained pieces -------------------------------------------------
    def effective_recurrent(self) -> torch.Tensor:
        """Recurrent weights as the forward pass uses them.

        Integer-valued (units of ``1/α``) once ``threshold`` is set, else real.
        """
        w = self.recurrent
        if self.constraints.mask is not None:
            w = w * self.constraints.mask.to(w.dtype)
        if self.constraints.threshold is not None:
            w = quantize_weights(w, self.constraints.threshold, self.constraints.w_min,
                                 self.constraints.w_max)
        return w

    def input_activity(self, tokens: torch.Tensor) -> torch.Tensor:
        """Projection activity (B, L, P): real ReLU, or integer levels when constrained."""
        p = torch.relu(self.proj(self.dropout(self.embedding(tokens))))
        levels = self.constraints.activity_levels
        return p if levels is None else quantize_input_levels(p, levels - 1)

    def forward(self, tokens: torch.Tensor, lengths: torch.Tensor, return_activity: bool = False):
        """Class scores (B, C) for padded ``tokens`` (B, L) with ``lengths`` (B,).

        With ``return_activity`` also the recurrent activity (B, L, H); after a
        sequence's end its activity is held at the final value.
        """
        c, k = self.config, self.constraints
        x = self.input_activity(tokens)
        w = self.effective_recurrent()
        w_in, w_rec = w[:, : c.proj_dim], w[:, c.proj_dim:]
        drive = x @ w_in.T  # (B, L, H): input part of every step at once
        batch, steps = tokens.shape
        h = x.new_zeros(batch, c.hidden_dim)
        residual = x.new_zeros(batch, c.hidden_dim)
        valid = (torch.arange(steps, device=tokens.device)[None, :] < lengths[:, None])
        outs = []
        for t in range(steps):
            pre = drive[:, t] + h @ w_rec.T
            if k.activity_levels is not None:
                if k.threshold is None:
                    raise ValueError("activity quantisation needs integer weights (threshold)")
                pre = pre + residual  # stays 0 unless the membrane is carried
                new = quantize_recurrent_levels(pre, k.threshold, k.activity_levels - 1)
                if k.carry_residual:
                    residual = torch.where(valid[:, t, None], carried_residual(pre, new, k.threshold),
                                           residual)
            elif k.threshold is not None:
                new = torch.relu(pre / k.threshold)
            else:
                new = torch.relu(pre)
            h = torch.where(valid[:, t, None], new, h)
            outs.append(h)
        activity = torch.stack(outs, dim=1)
        feature = pool_activity(activity, lengths, c.readout)
        logits = self.readout(self.dropout(feature))
        return (logits, activity) if return_activity else logits
