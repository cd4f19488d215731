"""A Xylo spec run over input event rasters: what the chip (and xylosim) would record, per tick.

Why batched over examples: the tick is vectorised over a batch (B, N), so examples run
side by side; ``batch_size`` bounds the memory of one batch's state. Recording hidden
states is optional (``record=False`` keeps only the output neurons), since (B, T, 1000)
int16 arrays of four kinds are large for a whole test set.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from rnn2snn.errors import HardwareLimitError
from rnn2snn.targets.xylo.neuron import Core, State, tick
from rnn2snn.targets.xylo.spec import XyloSpec


@dataclass(frozen=True, eq=False)
class XyloRecord:
    """Per-tick recordings of a run, (B, T, ·), named after rockpool's ``XyloSim`` record keys.

    ``out_spikes`` (output spikes, ``XyloSim``'s output) and ``vmem_out``/``isyn_out``
    always; ``spikes`` (hidden spike counts, ``Spikes``), ``vmem``, ``isyn`` and ``isyn2``
    (zeros with one synapse, as xylosim records them) only with ``record=True``, else None.
    States are recorded after the tick (after the spikes' reset).
    """

    out_spikes: np.ndarray
    vmem_out: np.ndarray
    isyn_out: np.ndarray
    spikes: np.ndarray | None = None
    vmem: np.ndarray | None = None
    isyn: np.ndarray | None = None
    isyn2: np.ndarray | None = None


def check_counts(spec: XyloSpec, counts: np.ndarray) -> np.ndarray:
    """``counts`` as (B, T, Nin) int64 if it is a raster of event counts for ``spec``'s inputs."""
    counts = np.asarray(counts)
    if counts.ndim == 2:
        counts = counts[None]
    if counts.ndim != 3 or counts.shape[2] != spec.n_inputs:
        raise HardwareLimitError(f"Xylo input raster must be (B, T, {spec.n_inputs}) event counts, "
                                 f"found shape {counts.shape}")
    if counts.dtype.kind not in "iu":
        raise HardwareLimitError(f"Xylo input raster must hold integer counts, found dtype {counts.dtype}")
    if counts.size and (counts.min() < 0 or counts.max() > 255):
        raise HardwareLimitError(f"Xylo input counts must be 0..255 (8 bits; the chip keeps at most 15 a "
                                 f"tick), found {counts.min()}..{counts.max()}")
    return counts.astype(np.int64)


def simulate(spec: XyloSpec, counts: np.ndarray, *, record: bool = True, batch_size: int = 256) -> XyloRecord:
    """Run ``spec`` from rest on each example of ``counts`` (B, T, Nin) and record every tick."""
    counts = check_counts(spec, counts)
    n_batch, n_ticks, _ = counts.shape
    core = Core.from_spec(spec)
    i16, u8 = np.int16, np.uint8
    shape_h, shape_o = (n_batch, n_ticks, spec.n_hidden), (n_batch, n_ticks, spec.n_outputs)
    out = {"out_spikes": np.zeros(shape_o, u8), "vmem_out": np.zeros(shape_o, i16),
           "isyn_out": np.zeros(shape_o, i16)}
    if record:
        out.update(spikes=np.zeros(shape_h, u8), vmem=np.zeros(shape_h, i16), isyn=np.zeros(shape_h, i16),
                   isyn2=np.zeros(shape_h, i16))
    for start in range(0, n_batch, max(1, batch_size)):
        rows = slice(start, min(n_batch, start + max(1, batch_size)))
        state = State.zeros(core, rows.stop - rows.start)
        for t in range(n_ticks):
            state = tick(core, state, counts[rows, t])
            out["out_spikes"][rows, t] = state.out_spikes
            out["vmem_out"][rows, t] = state.vmem_out
            out["isyn_out"][rows, t] = state.isyn_out[0]
            if record:
                out["spikes"][rows, t] = state.spikes
                out["vmem"][rows, t] = state.vmem
                out["isyn"][rows, t] = state.isyn[0]
                if len(state.isyn) > 1:
                    out["isyn2"][rows, t] = state.isyn[1]
    return XyloRecord(**out)


def classify(record: XyloRecord, readout: str, lengths: np.ndarray | None = None) -> np.ndarray:
    """The class of each example (B,) read from the output neurons by ``readout``.

    ``spike_count``: the output neuron with most spikes over the first ``lengths[b]``
    ticks (all ticks without ``lengths``), ties to the lowest index; ``vmem_last``: the
    largest output ``Vmem`` at tick ``lengths[b] - 1``.
    """
    n_batch, n_ticks, _ = record.out_spikes.shape
    lengths = np.full(n_batch, n_ticks) if lengths is None else np.asarray(lengths, np.int64)
    if lengths.shape != (n_batch,) or lengths.min(initial=1) < 1 or lengths.max(initial=1) > n_ticks:
        raise HardwareLimitError(f"lengths must be (B,) = ({n_batch},) tick counts in 1..{n_ticks}")
    if readout == "spike_count":
        mask = np.arange(n_ticks)[None, :] < lengths[:, None]
        return (record.out_spikes.astype(np.int64) * mask[:, :, None]).sum(axis=1).argmax(axis=1)
    if readout == "vmem_last":
        return record.vmem_out[np.arange(n_batch), lengths - 1].argmax(axis=1)
    raise HardwareLimitError(f"unknown Xylo readout {readout!r}: spike_count or vmem_last")
