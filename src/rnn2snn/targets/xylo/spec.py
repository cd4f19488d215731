"""The Xylo specification: exactly what ``XyloSim.from_specification`` takes, plus the rule around it.

Why this form: rockpool's ``XyloSim.from_specification`` (the simulator written by others)
and ``config_from_specification`` (the chip configuration, which needs samna) both take
the same arrays, so a program kept in this form is run, verified and deployed without a
translation step that could differ between them. The off-chip encoder and the readout
rule travel in the same ``.npz`` under keys starting with ``rnn2snn_``; drop those
(:func:`xylosim_kwargs`) and the rest loads with ``XyloSim.from_specification(**kwargs)``.

:func:`validate` refuses, before any long work and with the limit named, what the chosen
chip cannot hold (see :mod:`rnn2snn.targets.xylo.chips` for the limits and their sources).
"""

from __future__ import annotations

import io
import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from rnn2snn._atomic import write_bytes_atomic
from rnn2snn.errors import HardwareLimitError, ModelFileError
from rnn2snn.targets.xylo.chips import XyloChip, get_chip

#: Prefix of the keys that are rnn2snn's own (encoder, readout rule), not xylosim's.
EXTRA_PREFIX = "rnn2snn_"
#: How the output neurons become a class (see :func:`rnn2snn.targets.xylo.simulate.classify`).
READOUTS = ("spike_count", "vmem_last")

_WEIGHTS = ("weights_in", "weights_rec", "weights_out")
_HIDDEN = ("dash_mem", "dash_syn", "dash_syn_2", "threshold", "bias")
_OUTPUT = ("dash_mem_out", "dash_syn_out", "threshold_out", "bias_out")
_SHIFTS = ("weight_shift_in", "weight_shift_rec", "weight_shift_out")
#: The dtype each array is stored with (the chip's own widths; shifts are plain integers).
DTYPES = {"weights_in": np.int8, "weights_rec": np.int8, "weights_out": np.int8,
          "dash_mem": np.uint8, "dash_syn": np.uint8, "dash_syn_2": np.uint8, "dash_mem_out": np.uint8,
          "dash_syn_out": np.uint8, "threshold": np.int16, "threshold_out": np.int16, "bias": np.int16,
          "bias_out": np.int16, "weight_shift_in": np.int64, "weight_shift_rec": np.int64,
          "weight_shift_out": np.int64}
XYLOSIM_KEYS = _WEIGHTS + _HIDDEN + _OUTPUT + _SHIFTS


@dataclass(frozen=True, eq=False)
class XyloSpec:
    """One network on one Xylo SNN core, in ``XyloSim.from_specification``'s terms.

    Shapes: ``weights_in`` (Nin, Nh, S), ``weights_rec`` (Nh, Nh, S), ``weights_out``
    (Nh, Nout), hidden vectors (Nh,), output vectors (Nout,); S synapses (1 or 2). Arrays
    are int64 here (the arithmetic needs room); :func:`save_spec` stores the chip widths.

    ``chip``: the chip it is made for (:data:`~rnn2snn.targets.xylo.chips.CHIPS`).
    ``readout``: how the output neurons become a class — ``spike_count`` (most output
    spikes over the run, ties to the lowest index) or ``vmem_last`` (largest output
    ``Vmem`` after the last tick). ``ticks_per_step``: chip ticks per input step.
    ``encoder_table`` (optional, (V, ticks_per_step, Nin)): the off-chip encoder, token
    index → input event counts per tick. ``classes``: class names by output neuron.
    ``feature_weights`` (optional, (F, Nin) float) and ``feature_bias`` ((Nin,) float): the
    off-chip encoder of real feature frames, ``clip(round(x @ feature_weights + feature_bias),
    0, 15)`` events on every tick of the frame's step (:func:`encode_features`).
    """

    weights_in: np.ndarray
    weights_rec: np.ndarray
    weights_out: np.ndarray
    dash_mem: np.ndarray
    dash_syn: np.ndarray
    dash_syn_2: np.ndarray
    threshold: np.ndarray
    bias: np.ndarray
    dash_mem_out: np.ndarray
    dash_syn_out: np.ndarray
    threshold_out: np.ndarray
    bias_out: np.ndarray
    weight_shift_in: int = 0
    weight_shift_rec: int = 0
    weight_shift_out: int = 0
    chip: str = "xylo-audio2"
    readout: str = "spike_count"
    ticks_per_step: int = 1
    encoder_table: np.ndarray | None = None
    classes: tuple[str, ...] = ()
    feature_weights: np.ndarray | None = None
    feature_bias: np.ndarray | None = None

    def __post_init__(self) -> None:
        for name in XYLOSIM_KEYS:
            value = getattr(self, name)
            object.__setattr__(self, name, _as_int(value, name) if name not in _SHIFTS
                               else int(_as_int(value, name).reshape(())))
        if self.weights_in.ndim == 2:  # rockpool's (Nin, Nh) form: one synapse
            object.__setattr__(self, "weights_in", self.weights_in[:, :, None])
        if self.weights_rec.ndim == 2:
            object.__setattr__(self, "weights_rec", self.weights_rec[:, :, None])
        if self.encoder_table is not None:
            object.__setattr__(self, "encoder_table", _as_int(self.encoder_table, "encoder_table"))
        object.__setattr__(self, "classes", tuple(str(c) for c in self.classes))
        for name in ("feature_weights", "feature_bias"):
            if getattr(self, name) is not None:
                object.__setattr__(self, name, _as_real(getattr(self, name), name))
        object.__setattr__(self, "ticks_per_step", int(self.ticks_per_step))
        _check_shapes(self)

    @property
    def n_inputs(self) -> int:
        return self.weights_in.shape[0]

    @property
    def n_hidden(self) -> int:
        return self.weights_in.shape[1]

    @property
    def n_synapses(self) -> int:
        return self.weights_in.shape[2]

    @property
    def n_outputs(self) -> int:
        return self.weights_out.shape[1]


def _as_int(value, name: str) -> np.ndarray:
    array = np.asarray(value)
    if array.dtype.kind == "b" or array.dtype.kind not in "iuf":
        raise HardwareLimitError(f"Xylo spec: {name} must hold integers, found dtype {array.dtype}")
    if array.dtype.kind == "f":
        if not np.all(np.isfinite(array)) or np.any(array != np.round(array)):
            raise HardwareLimitError(f"Xylo spec: {name} must hold integers (found fractional or "
                                     f"non-finite values); round them yourself first")
    return array.astype(np.int64)


def _as_real(value, name: str) -> np.ndarray:
    array = np.asarray(value)
    if array.dtype.kind not in "iuf" or not np.all(np.isfinite(array)):
        raise HardwareLimitError(f"Xylo spec: {name} must hold finite real numbers (dtype {array.dtype})")
    return array.astype(np.float64)


def encode_features(spec: XyloSpec, frames: np.ndarray) -> np.ndarray:
    """The host's encoder: real frames (..., F) → input event counts (..., Nin), int64 in 0..15."""
    if spec.feature_weights is None:
        raise HardwareLimitError("the Xylo spec has no feature encoder (feature_weights): it cannot "
                                 "encode feature frames")
    frames = np.asarray(frames, np.float64)
    if frames.shape[-1:] != spec.feature_weights.shape[:1]:
        raise HardwareLimitError(f"feature frames must end in F = {spec.feature_weights.shape[0]} features "
                                 f"(feature_weights' rows), found shape {frames.shape}")
    return np.clip(np.round(frames @ spec.feature_weights + spec.feature_bias), 0, 15).astype(np.int64)


def _check_shapes(spec: XyloSpec) -> None:
    w_in, w_rec, w_out = spec.weights_in, spec.weights_rec, spec.weights_out
    if w_in.ndim != 3 or w_in.shape[2] not in (1, 2):
        raise HardwareLimitError(f"Xylo spec: weights_in must be (Nin, Nhidden, S) with S = 1 or 2 "
                                 f"synapses, found shape {w_in.shape}")
    n_in, n_h, n_syn = w_in.shape
    if w_rec.shape != (n_h, n_h, n_syn):
        raise HardwareLimitError(f"Xylo spec: weights_rec must be (Nhidden, Nhidden, S) = "
                                 f"{(n_h, n_h, n_syn)} to match weights_in, found {w_rec.shape}")
    if w_out.ndim != 2 or w_out.shape[0] != n_h:
        raise HardwareLimitError(f"Xylo spec: weights_out must be (Nhidden, Nout) with Nhidden = {n_h}, "
                                 f"found {w_out.shape}")
    for names, size, what in ((_HIDDEN, n_h, "Nhidden"), (_OUTPUT, w_out.shape[1], "Nout")):
        for name in names:
            if getattr(spec, name).shape != (size,):
                raise HardwareLimitError(f"Xylo spec: {name} must have shape ({what},) = ({size},), "
                                         f"found {getattr(spec, name).shape}")
    if spec.readout not in READOUTS:
        raise HardwareLimitError(f"Xylo spec: readout {spec.readout!r} is not one of {', '.join(READOUTS)}")
    if spec.ticks_per_step < 1:
        raise HardwareLimitError(f"Xylo spec: ticks_per_step must be >= 1, found {spec.ticks_per_step}")
    table = spec.encoder_table
    if table is not None and (table.ndim != 3 or table.shape[1:] != (spec.ticks_per_step, n_in)):
        raise HardwareLimitError(f"Xylo spec: encoder_table must be (tokens, ticks_per_step, Nin) = "
                                 f"(V, {spec.ticks_per_step}, {n_in}), found {table.shape}")
    fw, fb = spec.feature_weights, spec.feature_bias
    if (fw is None) != (fb is None):
        raise HardwareLimitError("Xylo spec: feature_weights and feature_bias come together (both or none)")
    if fw is not None and (fw.ndim != 2 or fw.shape[1] != n_in or fb.shape != (n_in,)):
        raise HardwareLimitError(f"Xylo spec: feature_weights must be (F, Nin) = (F, {n_in}) and "
                                 f"feature_bias ({n_in},), found {fw.shape} and {fb.shape}")
    if spec.classes and len(spec.classes) != w_out.shape[1]:
        raise HardwareLimitError(f"Xylo spec: {len(spec.classes)} class names for {w_out.shape[1]} "
                                 f"output neurons")


def _first_outside(array: np.ndarray, low: int, high: int) -> tuple[tuple[int, ...], int] | None:
    bad = np.argwhere((array < low) | (array > high))
    if not len(bad):
        return None
    index = tuple(int(i) for i in bad[0])
    return index, int(array[index])


def validate(spec: XyloSpec, chip: str | XyloChip | None = None) -> XyloSpec:
    """``spec`` if it fits ``chip`` (default ``spec.chip``), else an error naming the limit.

    Checked: sizes (inputs, hidden, outputs, synapses), 8-bit weights, 4-bit shifts and
    dashes, 16-bit thresholds (positive: at a threshold <= 0 a neuron at rest spikes its
    maximum every tick, which no converted network wants) and biases, shifted weights that
    would wrap in 16 bits, the fan-out and weight-memory limits of the recurrent layer, and
    which hidden neurons may take input or drive outputs.
    """
    chip = get_chip(spec.chip if chip is None else chip)
    where = f"{chip.name} ({chip.part})"
    sizes = ((spec.n_inputs, chip.n_inputs, "input channels"),
             (spec.n_hidden, chip.n_hidden, "hidden neurons"),
             (spec.n_outputs, chip.n_outputs, "output neurons"),
             (spec.n_synapses, chip.synapses, "synapses per hidden neuron"))
    for have, limit, what in sizes:
        if have > limit:
            raise HardwareLimitError(f"{where} has {limit} {what}; the spec needs {have}")
    if spec.classes and len(spec.classes) > chip.n_outputs:
        raise HardwareLimitError(f"{where} has {chip.n_outputs} output neurons; {len(spec.classes)} classes "
                                 f"need one each (the readout is on the chip)")
    w_low, w_high = chip.weight_range
    s_low, s_high = chip.state_range
    ranges = [(name, w_low, w_high, f"{chip.weight_bits}-bit weights") for name in _WEIGHTS]
    ranges += [(name, 0, (1 << chip.dash_bits) - 1, f"{chip.dash_bits}-bit decay shifts")
               for name in ("dash_mem", "dash_syn", "dash_syn_2", "dash_mem_out", "dash_syn_out")]
    ranges += [(name, 0, (1 << chip.shift_bits) - 1, f"{chip.shift_bits}-bit weight shifts")
               for name in _SHIFTS]
    ranges += [(name, 1, s_high, f"{chip.state_bits}-bit positive thresholds")
               for name in ("threshold", "threshold_out")]
    ranges += [(name, s_low, s_high, f"{chip.state_bits}-bit biases") for name in ("bias", "bias_out")]
    for name, low, high, what in ranges:
        bad = _first_outside(np.asarray(getattr(spec, name)), low, high)
        if bad is not None:
            index, value = bad
            at = f"[{', '.join(map(str, index))}]" if index else ""
            raise HardwareLimitError(f"{where} holds {what} ({low}..{high}); {name}{at} is {value}")
    for name, shift_name in zip(_WEIGHTS, _SHIFTS, strict=True):
        shift = getattr(spec, shift_name)
        bad = _first_outside(getattr(spec, name) << shift, s_low, s_high)
        if bad is not None:
            index, value = bad
            raise HardwareLimitError(
                f"{where}: {name}[{', '.join(map(str, index))}] = {value >> shift} shifted left by "
                f"{shift_name} = {shift} is {value}, outside {chip.state_bits} bits (the chip would wrap "
                f"it); use a smaller shift or smaller weights")
    fanout = np.count_nonzero(np.any(spec.weights_rec != 0, axis=2), axis=1)
    if fanout.max(initial=0) > chip.max_fanout:
        j = int(fanout.argmax())
        raise HardwareLimitError(f"{where}: hidden neuron {j} has recurrent weights to {int(fanout[j])} "
                                 f"neurons; the chip's fan-out limit is {chip.max_fanout} a neuron")
    if int(fanout.sum()) > chip.recurrent_memory:
        raise HardwareLimitError(f"{where}: the recurrent layer has {int(fanout.sum())} (source, target) "
                                 f"pairs with a weight; the chip's recurrent memory holds "
                                 f"{chip.recurrent_memory}")
    if spec.n_hidden > chip.input_neurons and np.any(spec.weights_in[:, chip.input_neurons:]):
        reached = chip.input_neurons + int(np.argwhere(spec.weights_in[:, chip.input_neurons:])[0][1])
        raise HardwareLimitError(f"{where}: only the first {chip.input_neurons} hidden neurons may receive "
                                 f"input weights; weights_in reaches neuron {reached}")
    first_out = spec.n_hidden - chip.output_neurons
    if first_out > 0 and np.any(spec.weights_out[:first_out]):
        start = int(np.argwhere(spec.weights_out)[0][0])
        raise HardwareLimitError(f"{where}: only the last {chip.output_neurons} hidden neurons may drive "
                                 f"output neurons; weights_out starts from neuron {start}")
    if spec.encoder_table is not None:
        bad = _first_outside(spec.encoder_table, 0, chip.max_input_count)
        if bad is not None:
            raise HardwareLimitError(f"{where} takes {chip.max_input_count} input events a tick and "
                                     f"channel at most; encoder_table{list(bad[0])} is {bad[1]}")
    return spec


def xylosim_kwargs(spec: XyloSpec) -> dict[str, np.ndarray | int]:
    """The keyword arguments of ``XyloSim.from_specification`` (the chip widths; no rnn2snn keys).

    A value that does not fit its stored width is refused (never wrapped): run :func:`validate`.
    """
    kwargs: dict[str, np.ndarray | int] = {}
    for name in XYLOSIM_KEYS:
        value = np.asarray(getattr(spec, name))
        info = np.iinfo(DTYPES[name])
        bad = _first_outside(value, info.min, info.max)
        if bad is not None:
            raise HardwareLimitError(f"Xylo spec: {name}{list(bad[0])} = {bad[1]} does not fit "
                                     f"{np.dtype(DTYPES[name])}")
        kwargs[name] = int(value) if name in _SHIFTS else value.astype(DTYPES[name])
    return kwargs


def config_kwargs(spec: XyloSpec) -> dict[str, np.ndarray | int]:
    """The keyword arguments of rockpool's ``config_from_specification`` (it calls ``bias`` ``bias_hidden``).

    Use, where the real samna is installed (it cannot be installed from the package index:
    there only a stand-in that downloads it is published)::

        from rockpool.devices.xylo.syns61201 import config_from_specification
        config, is_valid, message = config_from_specification(**config_kwargs(spec))
    """
    kwargs = xylosim_kwargs(spec)
    kwargs["bias_hidden"] = kwargs.pop("bias")
    return kwargs


def _arrays(spec: XyloSpec) -> dict[str, np.ndarray]:
    arrays = {name: np.asarray(value) for name, value in xylosim_kwargs(spec).items()}
    arrays[EXTRA_PREFIX + "chip"] = np.asarray(spec.chip)
    arrays[EXTRA_PREFIX + "readout"] = np.asarray(spec.readout)
    arrays[EXTRA_PREFIX + "ticks_per_step"] = np.asarray(spec.ticks_per_step, np.int64)
    arrays[EXTRA_PREFIX + "classes"] = np.asarray(spec.classes, dtype=str)
    if spec.encoder_table is not None:
        arrays[EXTRA_PREFIX + "encoder_table"] = spec.encoder_table.astype(np.uint8)
    if spec.feature_weights is not None:
        arrays[EXTRA_PREFIX + "feature_weights"] = spec.feature_weights
        arrays[EXTRA_PREFIX + "feature_bias"] = spec.feature_bias
    return arrays


def save_spec(spec: XyloSpec, path: str | os.PathLike) -> Path:
    """Write ``spec`` (validated for its chip first) as an ``.npz`` atomically.

    ``XyloSim.from_specification`` loads it after dropping the ``rnn2snn_`` keys (see
    :func:`load_xylosim_kwargs`).
    """
    validate(spec)
    buffer = io.BytesIO()
    np.savez(buffer, **_arrays(spec))
    return write_bytes_atomic(path, buffer.getvalue())


def load_xylosim_kwargs(path: str | os.PathLike) -> dict[str, np.ndarray]:
    """The file's ``XyloSim.from_specification`` arguments, as ``dict(np.load(path))`` less rnn2snn's keys."""
    with np.load(path) as data:
        return {k: data[k] for k in data.files if not k.startswith(EXTRA_PREFIX)}


def load_spec(path: str | os.PathLike) -> XyloSpec:
    """Read a spec written by :func:`save_spec`; a :class:`ModelFileError` names the file and the fault."""
    path = Path(path)
    try:
        with np.load(path, allow_pickle=False) as data:
            arrays = {k: data[k] for k in data.files}
    except FileNotFoundError:
        raise ModelFileError(f"{path}: no such Xylo spec file") from None
    except (OSError, ValueError, EOFError) as exc:
        raise ModelFileError(f"{path}: not a readable .npz Xylo spec ({exc})") from None
    extras = ("chip", "readout", "ticks_per_step", "classes")
    required = set(XYLOSIM_KEYS) | {EXTRA_PREFIX + k for k in extras}
    missing = sorted(required - set(arrays))
    if missing:
        raise ModelFileError(f"{path}: Xylo spec lacks {', '.join(missing)}")
    known = required | {EXTRA_PREFIX + k for k in ("encoder_table", "feature_weights", "feature_bias")}
    unknown = sorted(set(arrays) - known)
    if unknown:
        raise ModelFileError(f"{path}: Xylo spec has unknown keys {', '.join(unknown)}")
    for name in XYLOSIM_KEYS:
        if arrays[name].dtype != DTYPES[name]:
            raise ModelFileError(f"{path}: {name} is stored as {arrays[name].dtype}, expected "
                                 f"{np.dtype(DTYPES[name])}")
    table = arrays.get(EXTRA_PREFIX + "encoder_table")
    if table is not None and table.dtype != np.uint8:
        raise ModelFileError(f"{path}: {EXTRA_PREFIX}encoder_table is stored as {table.dtype}, "
                             f"expected uint8")
    for name in ("chip", "readout", "ticks_per_step"):
        if arrays[EXTRA_PREFIX + name].shape != ():
            raise ModelFileError(f"{path}: {EXTRA_PREFIX}{name} must be a scalar")
    for name in _SHIFTS:
        if arrays[name].shape != ():
            raise ModelFileError(f"{path}: {name} must be a scalar, found shape {arrays[name].shape}")
    kwargs = {name: arrays[name] for name in XYLOSIM_KEYS}
    try:
        spec = XyloSpec(**kwargs, chip=str(arrays[EXTRA_PREFIX + "chip"]),
                        readout=str(arrays[EXTRA_PREFIX + "readout"]),
                        ticks_per_step=int(arrays[EXTRA_PREFIX + "ticks_per_step"]),
                        encoder_table=table, classes=tuple(arrays[EXTRA_PREFIX + "classes"].tolist()),
                        feature_weights=arrays.get(EXTRA_PREFIX + "feature_weights"),
                        feature_bias=arrays.get(EXTRA_PREFIX + "feature_bias"))
        return validate(spec)
    except HardwareLimitError as exc:
        raise ModelFileError(f"{path}: {exc}") from None


