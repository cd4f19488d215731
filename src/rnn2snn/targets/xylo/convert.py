"""A trained rate model of Xylo's neuron, mapped to a :class:`~rnn2snn.targets.xylo.spec.XyloSpec`.

Why the mapping is a choice of scales only: the float model (:mod:`rnn2snn.targets.xylo.train`)
already has the chip's structure (16 input channels of 0..15 events, a synaptic low-pass,
an integrating membrane with subtractive reset, ≤ 31 hidden spikes a tick, output neurons
whose ``Vmem`` integrates the previous tick's hidden spikes). Its units are thresholds
(hidden) and logits (output); the chip's are integers. So the conversion picks

* an activity scale ``c`` (hidden counts ×c: the rate model is positively homogeneous
  below its 31-count cap, so input weights and biases ×c, output weights ÷c),
* one hidden threshold ``θ`` (the largest that keeps every state seen on the training
  set inside 16 bits with a margin) and one output scale ``k`` (integer ``Vmem_out``
  per logit, likewise),
* per layer the smallest shift that puts the largest weight inside int8,

and rounds. Everything the chip does not hold (the token table) is the off-chip encoder.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from rnn2snn.errors import HardwareLimitError
from rnn2snn.targets.xylo.chips import get_chip
from rnn2snn.targets.xylo.neuron import STATE_MAX
from rnn2snn.targets.xylo.spec import XyloSpec, validate

#: The largest hidden threshold used: 32 thresholds (31 spikes and a residue) fit in 16 bits.
MAX_THRESHOLD = STATE_MAX // 32
#: Fraction of the 16-bit range the largest training-set state may reach.
STATE_MARGIN = 0.75


@dataclass(frozen=True)
class XyloDynamics:
    """The chip settings the float model and the fine-tune share (all hidden neurons alike).

    ``tail_ticks``: blank ticks after a question's last word before the class is read
    (the hidden → output delay is one tick). ``readout``: ``vmem_last`` (the largest output
    ``Vmem`` at the read tick; output neurons never spike: ``threshold_out`` = 2¹⁵ − 1).
    """

    dash_syn: int = 1
    dash_mem: int = 15
    dash_syn_out: int = 1
    dash_mem_out: int = 15
    ticks_per_step: int = 1
    tail_ticks: int = 1
    readout: str = "vmem_last"

    def __post_init__(self) -> None:
        for name in ("dash_syn", "dash_mem", "dash_syn_out", "dash_mem_out"):
            value = getattr(self, name)
            if not 1 <= value <= 15:
                raise HardwareLimitError(f"Xylo dynamics: {name} = {value} must be 1..15 (4 bits; 0 clears "
                                         f"the synaptic current or the membrane every tick)")
        if self.ticks_per_step < 1 or self.tail_ticks < 1:
            raise HardwareLimitError(f"Xylo dynamics: ticks_per_step ({self.ticks_per_step}) and tail_ticks "
                                     f"({self.tail_ticks}) must be >= 1 (the readout is one tick late)")
        if self.readout != "vmem_last":
            raise HardwareLimitError(f"Xylo dynamics: readout {self.readout!r}: only vmem_last is trained")


@dataclass(frozen=True, eq=False)
class FloatXylo:
    """A trained float rate model, in threshold units (hidden) and logit units (output).

    ``encoder`` (V, k, 16) or (V, 16): input events per token and tick of a word (0..15,
    real; the 2-d form holds for all k ticks); ``w_in`` (16, N),
    ``w_rec`` (N, N), ``bias`` (N,) in thresholds per event / per tick; ``w_out`` (N, C)
    in logits per hidden spike. Row 0 of ``encoder`` is padding (no events).
    """

    encoder: np.ndarray
    w_in: np.ndarray
    w_rec: np.ndarray
    bias: np.ndarray
    w_out: np.ndarray
    dynamics: XyloDynamics


@dataclass(frozen=True)
class StateRange:
    """The largest magnitudes the float model reaches on a data set (threshold / logit units)."""

    hidden_p999: float  # 99.9th percentile of non-zero hidden counts a tick
    hidden_max: float
    isyn: float  # max |Isyn| before the decay (the largest it is on the chip)
    vmem: float  # max |Vmem| before the reset
    isyn_out: float
    vmem_out: float


@dataclass(frozen=True)
class Scales:
    """What :func:`to_spec` chose, reported with the result."""

    activity: float  # c: hidden counts ×c
    threshold: int
    out_scale: float  # integer Vmem_out per logit
    weight_shift_in: int
    weight_shift_rec: int
    weight_shift_out: int


def _shift_for(max_abs: float) -> int:
    """The smallest left shift after which ``max_abs`` (integer units) fits in int8."""
    if max_abs <= 127:
        return 0
    return int(math.ceil(math.log2(max_abs / 127.0)))


def choose_scales(model: FloatXylo, ranges: StateRange, target_counts: float) -> Scales:
    """Scales putting the 99.9th-percentile hidden count at ``target_counts`` and states in 16 bits."""
    if not 0 < target_counts <= 31:
        raise HardwareLimitError(f"target hidden counts {target_counts} must lie in (0, 31]")
    c = target_counts / max(ranges.hidden_p999, 1e-9)
    # Hidden states scale with c (input side); the threshold keeps them below the margin.
    largest = c * max(ranges.isyn, ranges.vmem, 1e-9)
    threshold = int(min(MAX_THRESHOLD, STATE_MARGIN * STATE_MAX / largest))
    if threshold < 1:
        raise HardwareLimitError("the float model's states are too large for any threshold >= 1 in 16 bits")
    out_scale = STATE_MARGIN * STATE_MAX / max(ranges.isyn_out, ranges.vmem_out, 1e-9)
    shifts = (_shift_for(np.abs(model.w_in).max() * c * threshold),
              _shift_for(np.abs(model.w_rec).max() * threshold),
              _shift_for(np.abs(model.w_out).max() / c * out_scale))
    return Scales(activity=c, threshold=threshold, out_scale=out_scale, weight_shift_in=shifts[0],
                  weight_shift_rec=shifts[1], weight_shift_out=shifts[2])


def _int8(values: np.ndarray, shift: int, name: str) -> np.ndarray:
    """``values`` (integer units) over ``2**shift``, rounded; refused if that needs more than 8 bits."""
    rounded = np.round(values / (1 << shift))
    if rounded.size and (rounded.min() < -128 or rounded.max() > 127):
        worst = float(np.abs(values).max())
        raise HardwareLimitError(f"Xylo: {name} needs {worst:.0f} units at shift {shift}, "
                                 f"{int(np.abs(rounded).max())} > 127 in int8; use shift {_shift_for(worst)}")
    return rounded.astype(np.int64)


def to_spec(model: FloatXylo, scales: Scales, chip: str = "xylo-audio2",
            classes: tuple[str, ...] = ()) -> XyloSpec:
    """The rounded spec of ``model`` at ``scales``, validated against ``chip``'s limits."""
    dyn = model.dynamics
    c, th, k = scales.activity, scales.threshold, scales.out_scale
    n_hidden, n_out = model.w_rec.shape[0], model.w_out.shape[1]
    get_chip(chip)
    bias = np.clip(np.round(model.bias * c * th), -STATE_MAX - 1, STATE_MAX).astype(np.int64)
    table = np.clip(np.round(model.encoder), 0, 15).astype(np.int64)
    if table.ndim == 2:  # one event vector for all of a word's ticks
        table = np.repeat(table[:, None, :], dyn.ticks_per_step, 1)
    table[0] = 0
    spec = XyloSpec(
        weights_in=_int8(model.w_in * c * th, scales.weight_shift_in, "weights_in")[:, :, None],
        weights_rec=_int8(model.w_rec * th, scales.weight_shift_rec, "weights_rec")[:, :, None],
        weights_out=_int8(model.w_out / c * k, scales.weight_shift_out, "weights_out"),
        dash_mem=np.full(n_hidden, dyn.dash_mem), dash_syn=np.full(n_hidden, dyn.dash_syn),
        dash_syn_2=np.full(n_hidden, dyn.dash_syn), threshold=np.full(n_hidden, th), bias=bias,
        dash_mem_out=np.full(n_out, dyn.dash_mem_out), dash_syn_out=np.full(n_out, dyn.dash_syn_out),
        threshold_out=np.full(n_out, STATE_MAX), bias_out=np.zeros(n_out, np.int64),
        weight_shift_in=scales.weight_shift_in, weight_shift_rec=scales.weight_shift_rec,
        weight_shift_out=scales.weight_shift_out, chip=chip, readout=dyn.readout,
        ticks_per_step=dyn.ticks_per_step, encoder_table=table,
        classes=classes)
    return validate(spec)


def recurrent_mask(n_hidden: int, fanout: int, chip: str = "xylo-audio2", seed: int = 0,
                   members: int = 1) -> np.ndarray:
    """Which recurrent (source, target) pairs may hold a weight: (N, N) bool, ≤ ``fanout`` targets a source.

    Why random and fixed: the chip bounds each neuron's fan-out (64 on Audio 2) and the
    pairs in all (32,000), so a layer wider than the fan-out must be sparse; a fixed random
    pattern (seeded) mixes every neuron with the others within a few ticks. With
    ``members``, only pairs inside a member's block (``n_hidden / members`` neurons) exist.
    Dense (within each block) when the block is ≤ ``fanout``; ``fanout`` is lowered to what
    the memory holds.
    """
    spec_chip = get_chip(chip)
    block = n_hidden // max(members, 1)
    fanout = min(fanout, spec_chip.max_fanout, spec_chip.recurrent_memory // max(n_hidden, 1))
    mask = np.zeros((n_hidden, n_hidden), bool)
    rng = np.random.default_rng(seed)
    for m in range(members):
        own = slice(m * block, (m + 1) * block)
        if block <= fanout:
            mask[own, own] = True
            continue
        for source in range(m * block, (m + 1) * block):
            mask[source, m * block + rng.choice(block, fanout, replace=False)] = True
    return mask


def rasters(spec: XyloSpec, tokens: np.ndarray, lengths: np.ndarray, tail_ticks: int
            ) -> tuple[np.ndarray, np.ndarray]:
    """The input event counts (B, T, 16) of token ids (B, L) through the spec's encoder, and the read tick.

    Each word takes ``ticks_per_step`` ticks; after a question's last word come blank
    ticks (``tail_ticks``). Returns the raster and, per question, the number of ticks up
    to and including the one whose output ``Vmem`` is read (``classify``'s ``lengths``).
    """
    if spec.encoder_table is None:
        raise HardwareLimitError("the Xylo spec has no encoder_table: it cannot encode token ids")
    tokens, lengths = np.asarray(tokens, np.int64), np.asarray(lengths, np.int64)
    vocab = len(spec.encoder_table)
    if tokens.size and (tokens.min() < 0 or tokens.max() >= vocab):
        raise HardwareLimitError(f"token ids must be 0..{vocab - 1} (the encoder table's rows), "
                                 f"found {tokens.min()}..{tokens.max()}")
    k = spec.ticks_per_step
    mask = np.arange(tokens.shape[1])[None, :] < lengths[:, None]
    steps = spec.encoder_table[np.where(mask, tokens, 0)]  # (B, L, k, 16)
    raster = steps.reshape(len(tokens), -1, spec.n_inputs)
    raster = np.concatenate([raster, np.zeros((len(tokens), tail_ticks, spec.n_inputs), np.int64)], axis=1)
    return raster, lengths * k + tail_ticks
