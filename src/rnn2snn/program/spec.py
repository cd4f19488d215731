"""The converted program: one typed, frozen description of what runs on and around the chip.

Once training is over, everything downstream — the network-level simulator, placement
and the TrueNorth export, the NIR export, the core-level simulator, verify, predict and
the report — reads a :class:`SpikingProgram` and nothing else (no torch module). Its parts:

* an input encoder (off-chip): a :class:`TokenEncoder` (a table token → input levels: the
  encoder depends on the current token only, so it is a lookup) or a
  :class:`FeatureEncoder` (a quantised affine map ``clip(round(relu(A·v + b)), 0, top)``);
* one or more :class:`RecurrentLayer` (on-chip): integer weights, threshold, levels,
  carried remainder, bias weight (from a bias input), core groups;
* the :class:`Timing` of the conversion (ticks per word, delays, input schedules, the
  negative floor) — a :class:`~rnn2snn.program.network.SpikingConfig`;
* a :class:`Readout` (off-chip): pooling of the last layer's spike counts over the words
  and an affine map to class scores;
* classes, vocabulary and provenance.

Stacked layers run pipelined: every connection between neurons, within a layer or from
the layer below, has a one-window delay (d = T ticks), so layer ℓ computes word ``t``
in window ``t + ℓ`` and the readout reads the last layer ``lag = n_layers − 1`` windows
late. Bias inputs are source units held at the top level during the windows in which
their layer computes a word. :meth:`SpikingProgram.network` flattens all this into one
:class:`~rnn2snn.program.integer.IntegerRNN` (sources, then every layer's neurons).

NumPy only.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from rnn2snn.errors import ModelFileError
from rnn2snn.program import limits as L
from rnn2snn.program.integer import IntegerRNN
from rnn2snn.program.network import TYPE_WEIGHTS, SpikingConfig, SpikingRNN, convert
from rnn2snn.readouts import READOUTS, pool_activity

Timing = SpikingConfig
#: On-chip weights: a sum of the axon types' weights S = (1, 2, 4, −8), so −8…7 (16 levels).
WEIGHT_RANGE = (min(TYPE_WEIGHTS), sum(w for w in TYPE_WEIGHTS if w > 0))


def _fail(where: str, msg: str):
    raise ModelFileError(f"{where}: {msg}")


def _int_array(value, where: str, ndim: int) -> np.ndarray:
    arr = np.asarray(value)
    if arr.ndim != ndim:
        _fail(where, f"expected a {ndim}-d array, got shape {arr.shape}")
    if arr.size and not np.issubdtype(arr.dtype, np.integer):
        _fail(where, f"expected integers, got {arr.dtype}")
    return arr.astype(np.int64)


def _in_range(arr: np.ndarray, where: str, lo: int, hi: int, what: str) -> None:
    """Refuse any element outside ``lo … hi``, naming the first one's index."""
    bad = (arr < lo) | (arr > hi)
    if bad.any():
        pos = tuple(int(i) for i in np.argwhere(bad)[0])
        _fail(where, f"{int(arr[pos])} at index {pos if len(pos) > 1 else pos[0]} is outside {lo}…{hi} "
                     f"({what})")


def _level_count(value, where: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int | np.integer) or value < 2:
        _fail(where, f"must be an integer ≥ 2, got {value!r}")
    return int(value)


def _float_array(value, where: str, ndim: int) -> np.ndarray:
    arr = np.asarray(value)
    if arr.ndim != ndim:
        _fail(where, f"expected a {ndim}-d array, got shape {arr.shape}")
    if not (np.issubdtype(arr.dtype, np.number) or arr.size == 0) or not np.isfinite(arr).all():
        _fail(where, "expected finite numbers")
    return arr.astype(np.float32)


@dataclass(frozen=True)
class TokenEncoder:
    """Token id → input levels. table : int64 (V, P) in ``0 … levels − 1``; row 0 is padding,
    row 1 the unknown word; ``vocab`` (V,) the tokens (lower-cased, see
    :func:`rnn2snn.data.text.tokenize`)."""

    table: np.ndarray
    vocab: tuple[str, ...]
    levels: int = 16

    def __post_init__(self) -> None:
        t = _int_array(self.table, "encoder.table", 2)
        object.__setattr__(self, "table", t)
        object.__setattr__(self, "levels", _level_count(self.levels, "encoder.levels"))
        object.__setattr__(self, "vocab", tuple(self.vocab))
        if t.shape[0] != len(self.vocab):
            _fail("encoder.table", f"{t.shape[0]} rows for {len(self.vocab)} vocabulary entries")
        if len(self.vocab) < 2 or self.vocab[:2] != ("<pad>", "<unk>"):
            _fail("encoder.vocab", "must start with '<pad>', '<unk>'")
        if len(set(self.vocab)) != len(self.vocab):
            _fail("encoder.vocab", "holds a token twice")
        _in_range(t, "encoder.table", 0, self.levels - 1, "input levels")

    @property
    def n_outputs(self) -> int:
        return self.table.shape[1]

    def __call__(self, token_ids: np.ndarray) -> np.ndarray:
        """Input levels (N, L, P) int64 for token ids (N, L) (padding → 0)."""
        ids = np.asarray(token_ids, dtype=np.int64)
        if ids.size and (ids.min() < 0 or ids.max() >= len(self.vocab)):
            raise ModelFileError(f"token ids must lie in 0…{len(self.vocab) - 1}")
        return self.table[ids]


@dataclass(frozen=True)
class FeatureEncoder:
    """Real features (N, L, F) → levels ``clip(round(relu(v·Aᵀ + b)), 0, levels − 1)``.

    weight : float32 (P, F) (scale included); bias : float32 (P,). Without a projection the
    map is the sign split ``A = s·[I; −I]``, ``b = 0`` with the calibrated scale ``s``.
    """

    weight: np.ndarray
    bias: np.ndarray
    levels: int = 16

    def __post_init__(self) -> None:
        w = _float_array(self.weight, "encoder.weight", 2)
        b = _float_array(self.bias, "encoder.bias", 1)
        if b.shape != (w.shape[0],):
            _fail("encoder.bias", f"shape {b.shape}, expected ({w.shape[0]},)")
        object.__setattr__(self, "weight", w)
        object.__setattr__(self, "bias", b)
        object.__setattr__(self, "levels", _level_count(self.levels, "encoder.levels"))

    @property
    def n_outputs(self) -> int:
        return self.weight.shape[0]

    @property
    def n_features(self) -> int:
        return self.weight.shape[1]

    def __call__(self, features: np.ndarray) -> np.ndarray:
        f = np.asarray(features, dtype=np.float32)
        if f.ndim != 3 or f.shape[2] != self.n_features:
            raise ModelFileError(f"features must be (N, L, {self.n_features}), got {f.shape}")
        p = np.maximum(f @ self.weight.T + self.bias, 0.0)
        return np.rint(np.minimum(p, self.levels - 1)).astype(np.int64)


@dataclass(frozen=True)
class RecurrentLayer:
    """One Elman layer on the chip (all weights integers −8…7 in units of 1/α).

    w_in : (H, P) from the layer below (the encoder for the first layer);
    w_rec : (H, H) from itself one word earlier; w_bias : (H,) from its bias input, or None;
    threshold : α, one int or an int64 array (H,) (stored as the array; an ensemble of
    independent networks in one layer has one α per member); levels : activity levels;
    carry_residual : the membrane is carried
    between words; groups : its neurons of each core (local indices), or None.
    """

    w_in: np.ndarray
    w_rec: np.ndarray
    threshold: int | np.ndarray
    levels: int = 16
    carry_residual: bool = True
    w_bias: np.ndarray | None = None
    groups: tuple[tuple[int, ...], ...] | None = None

    def __post_init__(self) -> None:
        w_in = _int_array(self.w_in, "layer.w_in", 2)
        w_rec = _int_array(self.w_rec, "layer.w_rec", 2)
        h = w_in.shape[0]
        if w_rec.shape != (h, h):
            _fail("layer.w_rec", f"shape {w_rec.shape}, expected ({h}, {h})")
        lo, hi = WEIGHT_RANGE
        for name, w in (("w_in", w_in), ("w_rec", w_rec)):
            _in_range(w, f"layer.{name}", lo, hi, "on-chip weights have 16 levels, the sums of the "
                      "axon types' weights 1, 2, 4, −8")
        object.__setattr__(self, "w_in", w_in)
        object.__setattr__(self, "w_rec", w_rec)
        if self.w_bias is not None:
            b = _int_array(self.w_bias, "layer.w_bias", 1)
            if b.shape != (h,):
                _fail("layer.w_bias", f"shape {b.shape}, expected ({h},)")
            _in_range(b, "layer.w_bias", lo, hi, "on-chip weights have 16 levels")
            object.__setattr__(self, "w_bias", b)
        alpha = self.threshold
        if isinstance(alpha, bool) or not isinstance(alpha, int | np.integer | np.ndarray | list | tuple):
            _fail("layer.threshold", f"must be an integer ≥ 1 (or one per neuron), got {alpha!r}")
        alpha = np.asarray(alpha)
        if alpha.ndim == 0:
            alpha = np.full(h, alpha)
        alpha = _int_array(alpha, "layer.threshold", 1)
        if alpha.shape != (h,):
            _fail("layer.threshold", f"one value or one per neuron ({h}), got shape {alpha.shape}")
        _in_range(alpha, "layer.threshold", L.THRESHOLD_MIN, L.THRESHOLD_MAX,
                  f"the hardware's threshold α, ≥ {L.THRESHOLD_MIN}")
        object.__setattr__(self, "threshold", alpha)
        object.__setattr__(self, "levels", _level_count(self.levels, "layer.levels"))
        if not isinstance(self.carry_residual, bool | np.bool_):
            _fail("layer.carry_residual", f"must be true or false, got {self.carry_residual!r}")
        if self.groups is not None:
            groups = tuple(tuple(int(j) for j in g) for g in self.groups)
            if sorted(j for g in groups for j in g) != list(range(h)):
                _fail("layer.groups", f"must place each of the {h} neurons once")
            object.__setattr__(self, "groups", groups)

    @property
    def n_hidden(self) -> int:
        return self.w_in.shape[0]

    @property
    def n_inputs(self) -> int:
        return self.w_in.shape[1]


@dataclass(frozen=True)
class Readout:
    """Off-chip: pool the last layer's spike counts over the words, then ``W·f + b``.

    weight : float32 (C, H_last); bias : float32 (C,); pooling : last / mean / max.
    """

    pooling: str
    weight: np.ndarray
    bias: np.ndarray

    def __post_init__(self) -> None:
        if self.pooling not in READOUTS:
            _fail("readout.pooling", f"{self.pooling!r}, expected one of {READOUTS}")
        w = _float_array(self.weight, "readout.weight", 2)
        b = _float_array(self.bias, "readout.bias", 1)
        if b.shape != (w.shape[0],):
            _fail("readout.bias", f"shape {b.shape}, expected ({w.shape[0]},)")
        object.__setattr__(self, "weight", w)
        object.__setattr__(self, "bias", b)

    def __call__(self, counts: np.ndarray, lengths: np.ndarray) -> np.ndarray:
        """Class scores (N, C) from the last layer's counts per word (N, L, H_last)."""
        feature = pool_activity(np.asarray(counts, dtype=np.float32), lengths, self.pooling)
        return feature @ self.weight.T + self.bias


def _check_timing(timing: Timing) -> None:
    """What :meth:`SpikingConfig.validate` leaves to the caller: β, the floor flag, the window."""
    beta = timing.neg_threshold
    if beta is not None:
        if isinstance(beta, bool) or not isinstance(beta, int | np.integer):
            _fail("timing.neg_threshold", f"must be an integer or null (β = α), got {beta!r}")
        if not L.NEG_THRESHOLD_MIN <= beta <= L.NEG_THRESHOLD_MAX:
            _fail("timing.neg_threshold", f"{beta} is outside {L.NEG_THRESHOLD_MIN}…{L.NEG_THRESHOLD_MAX} "
                                          "(the hardware's negative threshold β)")
    if timing.neg_saturate not in (0, 1) or isinstance(timing.neg_saturate, float):
        _fail("timing.neg_saturate", f"must be 0 or 1, got {timing.neg_saturate!r}")
    if timing.ticks_per_word > L.DELAY_MAX:
        _fail("timing.ticks_per_word", f"{timing.ticks_per_word} is over {L.DELAY_MAX}, the longest axonal "
                                       "delay (a recurrent spike needs delay = ticks_per_word)")
    for name in ("delay", "neg_delay"):
        if getattr(timing, name) > timing.ticks_per_word:
            _fail(f"timing.{name}", f"{getattr(timing, name)} is longer than ticks_per_word="
                                    f"{timing.ticks_per_word}: a recurrent spike would land past the "
                                    "next word's window")


@dataclass(frozen=True)
class SpikingProgram:
    """The converted network and everything a backend needs around it (module docstring)."""

    encoder: TokenEncoder | FeatureEncoder
    layers: tuple[RecurrentLayer, ...]
    timing: Timing
    readout: Readout
    classes: tuple[str, ...]
    provenance: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        object.__setattr__(self, "layers", tuple(self.layers))
        object.__setattr__(self, "classes", tuple(str(c) for c in self.classes))
        if not self.layers:
            _fail("layers", "a program needs at least one recurrent layer")
        below = self.encoder.n_outputs
        for i, layer in enumerate(self.layers):
            if layer.n_inputs != below:
                _fail(f"layers[{i}].w_in", f"reads {layer.n_inputs} units, the layer below has {below}")
            if layer.levels != self.layers[0].levels or layer.carry_residual != self.layers[0].carry_residual:
                _fail(f"layers[{i}]", "all layers must share levels and carry_residual")
            below = layer.n_hidden
        if self.encoder.levels != self.levels:
            _fail("encoder.levels", f"{self.encoder.levels}, the layers have {self.levels}")
        if self.readout.weight.shape[1] != below:
            _fail("readout.weight", f"reads {self.readout.weight.shape[1]} units, the last layer has {below}")
        if self.readout.weight.shape[0] != len(self.classes) or len(self.classes) < 2:
            _fail("classes", f"{len(self.classes)} classes for {self.readout.weight.shape[0]} readout rows "
                  "(at least 2 needed)")
        try:
            self.timing.validate(self.levels)
        except Exception as exc:  # noqa: BLE001 - rewrap with the place
            _fail("timing", str(exc))
        _check_timing(self.timing)

    # -- shape of the flattened network ------------------------------------
    @property
    def levels(self) -> int:
        return self.layers[0].levels

    @property
    def lag(self) -> int:
        return len(self.layers) - 1

    @property
    def bias_layers(self) -> tuple[int, ...]:
        """Layers with a bias input, in the order of their bias units."""
        return tuple(i for i, layer in enumerate(self.layers) if layer.w_bias is not None)

    @property
    def n_sources(self) -> int:
        return self.encoder.n_outputs + len(self.bias_layers)

    @property
    def layer_offsets(self) -> tuple[int, ...]:
        return tuple(int(x) for x in np.cumsum([0] + [layer.n_hidden for layer in self.layers]))

    @property
    def n_hidden(self) -> int:
        return self.layer_offsets[-1]

    @property
    def vocab(self) -> tuple[str, ...] | None:
        return self.encoder.vocab if isinstance(self.encoder, TokenEncoder) else None

    def network(self) -> IntegerRNN:
        """All layers as one integer network over the sources (encoder units, bias inputs)."""
        p, s, h = self.encoder.n_outputs, self.n_sources, self.n_hidden
        w_in = np.zeros((h, s), dtype=np.int64)
        w_rec = np.zeros((h, h), dtype=np.int64)
        alpha = np.zeros(h, dtype=np.int64)
        off = self.layer_offsets
        groups = []
        bias_unit = {layer: p + k for k, layer in enumerate(self.bias_layers)}
        for i, layer in enumerate(self.layers):
            rows = slice(off[i], off[i + 1])
            if i == 0:
                w_in[rows, :p] = layer.w_in
            else:
                w_rec[rows, off[i - 1]: off[i]] = layer.w_in
            w_rec[rows, rows] = layer.w_rec
            if layer.w_bias is not None:
                w_in[rows, bias_unit[i]] = layer.w_bias
            alpha[rows] = layer.threshold
            local = layer.groups or (tuple(range(layer.n_hidden)),)
            groups.extend(tuple(off[i] + j for j in g) for g in local)
        one_group = len(self.layers) == 1 and self.layers[0].groups is None
        return IntegerRNN(w_in=w_in, w_rec=w_rec, threshold=alpha, levels=self.levels,
                          groups=None if one_group else tuple(groups),
                          carry_residual=self.layers[0].carry_residual)

    def spiking_network(self) -> SpikingRNN:
        """The flattened network with TrueNorth neurons (see :func:`rnn2snn.program.network.convert`)."""
        return convert(self.network(), self.timing)

    # -- data in and out ----------------------------------------------------
    def encode(self, inputs: np.ndarray) -> np.ndarray:
        """Input levels (N, L, P) of the encoder: token ids (N, L) or features (N, L, F)."""
        return self.encoder(inputs)

    def sources(self, levels: np.ndarray, lengths: np.ndarray) -> np.ndarray:
        """Source levels (N, L + lag, S) of every window: encoder levels (zero after each end)
        and the bias inputs. Run them for :meth:`run_lengths` windows."""
        levels = np.asarray(levels, dtype=np.int64)
        lengths = np.asarray(lengths, dtype=np.int64)
        n, steps, p = levels.shape
        out = np.zeros((n, steps + self.lag, self.n_sources), dtype=np.int64)
        valid = np.arange(steps)[None, :] < lengths[:, None]
        out[:, :steps, :p] = levels * valid[..., None]
        t = np.arange(steps + self.lag)[None, :]
        for k, layer in enumerate(self.bias_layers):
            on = (t >= layer) & (t < lengths[:, None] + layer)
            out[:, :, p + k] = on * (self.levels - 1)
        return out

    def run_lengths(self, lengths: np.ndarray) -> np.ndarray:
        """Windows each sequence runs for: its words plus one per layer above the first."""
        return np.asarray(lengths, dtype=np.int64) + self.lag

    def logits(self, counts: np.ndarray, lengths: np.ndarray) -> np.ndarray:
        """Class scores (N, C) from the counts of every neuron (N, L + lag, H) — spike counts
        or integer activities — through the readout (last layer, aligned with the words)."""
        lengths = np.asarray(lengths, dtype=np.int64)
        off = self.layer_offsets
        words = int(lengths.max()) if len(lengths) else 0
        last = np.asarray(counts)[:, self.lag: self.lag + words, off[-2]: off[-1]]
        return self.readout(last, lengths)
