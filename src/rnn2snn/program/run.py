"""Run a :class:`~rnn2snn.program.spec.SpikingProgram` on data: encoder → network → readout.

NumPy only. ``simulate_program`` runs the spiking network (network-level simulator);
``run_integer`` the integer network the spiking one is converted from.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from rnn2snn.batching import BATCH_SIZE, concat, map_batches
from rnn2snn.program.inputs import check_run_inputs
from rnn2snn.program.network import SpikeRecord, simulate
from rnn2snn.program.spec import FeatureEncoder, SpikingProgram


@dataclass(frozen=True)
class ProgramRun:
    """sources : int64 (N, L + lag, S) levels fed to the chip; counts : int64 (N, L + lag, H)
    spike counts (or integer activities) of every neuron per window; logits : (N, C);
    record : the simulation record (rasters when asked), or None for the integer network."""

    sources: np.ndarray
    counts: np.ndarray
    logits: np.ndarray
    record: SpikeRecord | None = None

    @property
    def predictions(self) -> np.ndarray:
        return self.logits.argmax(1)


def simulate_program(program: SpikingProgram, inputs: np.ndarray, lengths: np.ndarray,
                     record: bool = False, snn=None, batch_size: int = BATCH_SIZE) -> ProgramRun:
    """Spiking run of token ids (N, L) or features (N, L, F) with ``lengths`` (N,).

    ``snn``: the program's :meth:`~SpikingProgram.spiking_network`, when the caller has it.
    ``record``: keep every tick's spikes (ask only for the questions you will plot). Runs
    ``batch_size`` examples at a time (:mod:`rnn2snn.batching`): the same result as one run.
    """
    inputs, lengths = check_run_inputs(program, inputs, lengths)
    inputs, lengths = np.asarray(inputs), np.asarray(lengths, dtype=np.int64)
    snn = program.spiking_network() if snn is None else snn
    return _in_batches(program, inputs, lengths, batch_size,
                       lambda src, windows: simulate(snn, src, windows, record=record, batch_size=batch_size))


def run_integer(program: SpikingProgram, inputs: np.ndarray, lengths: np.ndarray,
                carry_residual: bool | None = None, batch_size: int = BATCH_SIZE) -> ProgramRun:
    """The integer network's run (``carry_residual`` overrides the program's, for diagnostics),
    ``batch_size`` examples at a time."""
    from dataclasses import replace

    inputs, lengths = check_run_inputs(program, inputs, lengths)
    inputs, lengths = np.asarray(inputs), np.asarray(lengths, dtype=np.int64)
    net = program.network()
    if carry_residual is not None:
        net = replace(net, carry_residual=carry_residual)
    return _in_batches(program, inputs, lengths, batch_size, net.run)


def _in_batches(program: SpikingProgram, inputs: np.ndarray, lengths: np.ndarray, batch_size: int,
                network) -> ProgramRun:
    """Encoder and ``network(sources, windows)`` batch by batch, then the readout on all rows.

    The network runs in integers, one example independent of the others, so its batches
    join exactly. Float products (the readout, a feature encoder) may round differently
    with the shape of the product, so they run on all rows at once, as one run would.
    """
    levels = program.encode(inputs) if isinstance(program.encoder, FeatureEncoder) else None

    def run(rows: slice):
        src = program.sources(program.encode(inputs[rows]) if levels is None else levels[rows], lengths[rows])
        return src, network(src, program.run_lengths(lengths[rows]))

    parts = map_batches(run, len(lengths), batch_size)
    outs = [out for _, out in parts]
    record = SpikeRecord.joined(outs) if isinstance(outs[0], SpikeRecord) else None
    counts = concat(outs) if record is None else record.counts
    return ProgramRun(concat([src for src, _ in parts]), counts, program.logits(counts, lengths), record)
