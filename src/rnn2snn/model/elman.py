"""The constrained recurrent classifier that train-and-constrain trains.

inputs → encoder (off-chip) → one or more Elman layers (ReLU, on-chip) → pooling and a
linear readout (off-chip). The encoder is a lookup table of word vectors (tokens) or the
real-valued features themselves, followed either by a projection (``nn.Linear`` + ReLU)
or, without one, by a split into positive and negative parts (``[relu(s·v), relu(−s·v)]``:
spike counts are ≥ 0, so a signed input needs two channels with opposite weights).

Stacked layers run as one *pipelined* recurrent layer: layer ℓ computes word ``t`` at step
``t + ℓ`` from layer ℓ−1's activity of step ``t + ℓ − 1``, which is exactly what a
recurrent connection with a one-word delay carries. Its weight matrix is block-structured
(``structure``) and the readout reads the last layer ``n_layers − 1`` steps late. On the
chip this is the same thing: every connection between neurons has a one-window delay.

A layer bias is a *bias input*: a source unit held at a constant level (1 in float
training, the top activity level once activities are integer) during the words the layer
computes, read through an ordinary weight. On the chip it is an input axon.

One module serves every stage: :class:`Constraints` switches on the fan-in mask, integer
weights and integer activities, which act in the forward pass with straight-through
gradients (:func:`rnn2snn.model.quantize.word_step`).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, fields

import numpy as np
import torch
from torch import nn

from rnn2snn import readouts
from rnn2snn.model.quantize import quantize_input_levels, quantize_weights, word_step
from rnn2snn.program.integer import run_words
from rnn2snn.readouts import READOUTS

__all__ = ["READOUTS", "Constraints", "ElmanClassifier", "ElmanConfig", "pool_activity"]


def pool_activity(activity, lengths, readout: str):
    """:func:`rnn2snn.readouts.pool_activity` (the program's pooling) for torch tensors too."""
    if isinstance(activity, np.ndarray):
        return readouts.pool_activity(activity, lengths, readout)
    if readout not in READOUTS:
        raise ValueError(f"readout must be one of {READOUTS}, got {readout!r}")
    if readout == "last":
        return activity[torch.arange(len(lengths)), lengths - 1]
    valid = torch.arange(activity.shape[1], device=activity.device)[None, :] < lengths[:, None]
    masked = activity * valid[..., None].to(activity.dtype)
    if readout == "mean":
        return masked.sum(1) / lengths[:, None].to(activity.dtype)
    return masked.amax(1)


@dataclass(frozen=True)
class ElmanConfig:
    """Sizes and options (all integers are unit counts).

    vocab_size : tokens in the vocabulary; 0 for real-valued inputs of ``n_features``.
    proj_dim : width of the off-chip projection (Linear + ReLU); 0 for none (sign split).
    hidden_dim : the first recurrent layer; ``upper_dims`` further stacked layers.
    bias : the recurrent layers have a bias (a bias input each).
    readout : pooling over the words, see :func:`rnn2snn.readouts.pool_activity`.
    """

    vocab_size: int
    n_classes: int
    embed_dim: int = 64
    proj_dim: int = 48
    hidden_dim: int = 16
    readout: str = "last"
    dropout: float = 0.25
    n_features: int = 0
    upper_dims: tuple[int, ...] = ()
    bias: bool = False

    def __post_init__(self) -> None:
        object.__setattr__(self, "upper_dims", tuple(int(d) for d in self.upper_dims))
        for name in ("n_classes", "hidden_dim"):
            if int(getattr(self, name)) < 1:
                raise ValueError(f"ElmanConfig.{name} must be ≥ 1, got {getattr(self, name)}")
        if self.vocab_size < 0 or self.proj_dim < 0 or self.n_features < 0 or self.embed_dim < 1:
            raise ValueError(f"ElmanConfig sizes must be ≥ 0 (embed_dim ≥ 1), got {self}")
        if (self.vocab_size > 0) == (self.n_features > 0):
            raise ValueError("ElmanConfig needs either vocab_size (tokens) or n_features (real inputs)")
        if any(d < 1 for d in self.upper_dims):
            raise ValueError(f"ElmanConfig.upper_dims must be ≥ 1 each, got {self.upper_dims}")
        if self.readout not in READOUTS:
            raise ValueError(f"ElmanConfig.readout must be one of {READOUTS}, got {self.readout!r}")

    @classmethod
    def for_run(cls, run, **given) -> ElmanConfig:
        """The sizes and options of a run's config (a ``PipelineConfig``: every field both
        have, by name — one list of the network's sizes, not a copy), and ``given``."""
        shared = {f.name for f in fields(cls)} & {f.name for f in fields(run)}
        return cls(**{name: getattr(run, name) for name in shared - set(given)}, **given)

    @property
    def tokens(self) -> bool:
        return self.vocab_size > 0

    @property
    def hidden_dims(self) -> tuple[int, ...]:
        return (self.hidden_dim, *self.upper_dims)

    @property
    def n_layers(self) -> int:
        return len(self.hidden_dims)

    @property
    def lag(self) -> int:
        """Steps by which the last layer lags the words (one per layer below it)."""
        return self.n_layers - 1

    @property
    def encoder_dim(self) -> int:
        """Input units the encoder feeds the first layer."""
        if self.proj_dim:
            return self.proj_dim
        return 2 * (self.embed_dim if self.tokens else self.n_features)

    @property
    def n_sources(self) -> int:
        """Non-recurrent source units: encoder units, then one bias input per layer."""
        return self.encoder_dim + (self.n_layers if self.bias else 0)

    @property
    def n_hidden(self) -> int:
        return sum(self.hidden_dims)

    def layer_slices(self) -> list[slice]:
        edges = np.cumsum((0, *self.hidden_dims))
        return [slice(int(a), int(b)) for a, b in zip(edges[:-1], edges[1:], strict=True)]

    def structure(self) -> np.ndarray:
        """bool (H, S + H): which sources each neuron may read at all (before the fan-in limit)."""
        s = self.n_sources
        mask = np.zeros((self.n_hidden, s + self.n_hidden), dtype=bool)
        layers = self.layer_slices()
        for ell, rows in enumerate(layers):
            if ell == 0:
                mask[rows, : self.encoder_dim] = True
            else:
                below = layers[ell - 1]
                mask[rows, s + below.start: s + below.stop] = True
            mask[rows, s + rows.start: s + rows.stop] = True
            if self.bias:
                mask[rows, self.encoder_dim + ell] = True
        return mask

    def to_dict(self) -> dict:
        d = asdict(self)
        d["upper_dims"] = list(self.upper_dims)
        return d


@dataclass
class Constraints:
    """Which hardware constraints are active on the recurrent layers.

    mask : bool tensor (H, S + H) or None — allowed connections after the fan-in limit.
    threshold : int64 array (H,) or None — each neuron's integer threshold α (one per
        layer); weights are then integers in ``[w_min, w_max]`` in units of ``1/α``.
    activity_levels : int or None — inputs and activities become integer levels
        ``0 … activity_levels − 1`` (the word-level neuron).
    carry_residual : bool — each word's membrane also holds what the previous word left.
    groups : the neurons of each core (block-sparse fan-in or one group per layer), or None.
    """

    mask: torch.Tensor | None = None
    groups: list[list[int]] | None = None
    threshold: np.ndarray | None = None
    w_min: int = -8
    w_max: int = 7
    activity_levels: int | None = None
    carry_residual: bool = False


class ElmanClassifier(nn.Module):
    """Encoder → Elman layers → readout, see the module docstring."""

    def __init__(self, config: ElmanConfig):
        super().__init__()
        self.config = c = config
        # Creation and initialisation order kept from the single-layer model (same seeds, same start).
        self.embedding = nn.Embedding(c.vocab_size, c.embed_dim, padding_idx=0) if c.tokens else None
        in_dim = c.embed_dim if c.tokens else c.n_features
        self.proj = nn.Linear(in_dim, c.proj_dim) if c.proj_dim else None
        s, h = c.n_sources, c.n_hidden
        self.recurrent = nn.Parameter(torch.empty(h, s + h))
        self.readout = nn.Linear(c.hidden_dims[-1], c.n_classes)
        self.dropout = nn.Dropout(c.dropout)
        # Scale of the sign split (no projection); calibrated with the activities.
        self.register_buffer("input_scale", torch.tensor(1.0))
        # Level of the bias inputs: 1 in float training, the top level once integer.
        self.register_buffer("bias_level", torch.tensor(1.0))
        self.register_buffer("structure", torch.from_numpy(c.structure()))
        self.constraints = Constraints()
        if c.tokens:
            nn.init.normal_(self.embedding.weight, std=1.0)
            with torch.no_grad():
                self.embedding.weight[0].zero_()
        with torch.no_grad():
            fan_in = self.structure.sum(1, keepdim=True).clamp(min=1).float()
            self.recurrent.uniform_(-1.0, 1.0).mul_(1.0 / fan_in.sqrt())
            self.recurrent[:, s:] *= 0.5  # start with a mild recurrence
            self.recurrent.mul_(self.structure.float())

    # -- constrained pieces -------------------------------------------------
    def allowed(self) -> torch.Tensor:
        """bool (H, S + H): the structure, narrowed by the fan-in mask when set."""
        mask = self.constraints.mask
        return self.structure if mask is None else self.structure & mask

    def effective_recurrent(self) -> torch.Tensor:
        """Weights (H, S + H) as the forward pass uses them: integer-valued (units of
        ``1/α``) once ``threshold`` is set, else real."""
        w = self.recurrent * self.allowed().to(self.recurrent.dtype)
        k = self.constraints
        if k.threshold is not None:
            w = quantize_weights(w, self.thresholds()[:, None], k.w_min, k.w_max)
        return w

    def thresholds(self) -> torch.Tensor:
        """Per-neuron α (H,) as a float tensor (needs the weights quantised)."""
        return torch.from_numpy(np.asarray(self.constraints.threshold, dtype=np.float32))

    def input_activity(self, inputs: torch.Tensor) -> torch.Tensor:
        """Encoder activity (B, L, P): real, or integer levels when constrained.

        inputs : token ids (B, L) int64, or features (B, L, F) float32.
        """
        c = self.config
        v = self.dropout(self.embedding(inputs)) if c.tokens else inputs
        if self.proj is not None:
            p = torch.relu(self.proj(v))
        else:
            v = v * self.input_scale
            p = torch.relu(torch.cat([v, -v], dim=-1))
        levels = self.constraints.activity_levels
        return p if levels is None else quantize_input_levels(p, levels - 1)

    def sources(self, x: torch.Tensor, lengths: torch.Tensor) -> torch.Tensor:
        """Source units (B, L + lag, S) of every step: encoder activity ``x`` (B, L, P),
        padded by ``lag`` empty steps, and the bias inputs during the words their layer computes."""
        c = self.config
        batch, steps, _ = x.shape
        total = steps + c.lag
        out = x.new_zeros(batch, total, c.n_sources)
        words = (torch.arange(steps)[None, :] < lengths[:, None]).to(x.dtype)
        out[:, :steps, : c.encoder_dim] = x * words[..., None]  # no input after a sequence's end
        if c.bias:
            t = torch.arange(total)[None, :]
            for ell in range(c.n_layers):
                on = (t >= ell) & (t < lengths[:, None] + ell)
                out[:, :, c.encoder_dim + ell] = on.to(x.dtype) * self.bias_level
        return out

    def last_layer(self, activity: torch.Tensor, steps: int) -> torch.Tensor:
        """The last layer's activity (B, steps, H_last) aligned with the words."""
        c = self.config
        return activity[:, c.lag: c.lag + steps, c.layer_slices()[-1]]

    def forward(self, inputs: torch.Tensor, lengths: torch.Tensor, return_activity: bool = False):
        """Class scores (B, C) for padded ``inputs`` with ``lengths`` (B,).

        With ``return_activity`` also the activity of every neuron (B, L + lag, H); after
        a sequence's end its activity is held at the final value.
        """
        c, k = self.config, self.constraints
        words = inputs.shape[1]
        xs = self.sources(self.input_activity(inputs), lengths)
        w = self.effective_recurrent()
        s = c.n_sources
        w_in, w_rec = w[:, :s], w[:, s:]
        drive = xs @ w_in.T  # (B, L + lag, H): input part of every step at once
        batch, steps = xs.shape[:2]
        valid = torch.arange(steps)[None, :] < (lengths + c.lag)[:, None]
        integer = k.activity_levels is not None
        if integer and k.threshold is None:
            raise ValueError("activity quantisation needs integer weights (threshold)")
        alpha = self.thresholds() if k.threshold is not None else None

        def neuron(pre, residual):
            if integer:
                return word_step(pre + residual, alpha, k.activity_levels, k.carry_residual)
            return torch.relu(pre if alpha is None else pre / alpha), residual

        outs = run_words(drive, w_rec, neuron, valid, torch.where, xs.new_zeros(batch, c.n_hidden))
        activity = torch.stack(outs, dim=1)
        feature = pool_activity(self.last_layer(activity, words), lengths, c.readout)
        logits = self.readout(self.dropout(feature))
        return (logits, activity) if return_activity else logits
