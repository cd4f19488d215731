"""Run a :class:`~rnn2snn.program.spec.SpikingProgram` on data: encoder → network → readout.

NumPy only. ``simulate_program`` runs the spiking network (network-level simulator);
``run_integer`` the integer network the spiking one is converted from.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from rnn2snn.program.spec import SpikingProgram
from rnn2snn.spiking.network import SpikeRecord, simulate


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
                     record: bool = False, snn=None) -> ProgramRun:
    """Spiking run of token ids (N, L) or features (N, L, F) with ``lengths`` (N,).

    ``snn``: the program's :meth:`~SpikingProgram.spiking_network`, when the caller has it.
    """
    lengths = np.asarray(lengths, dtype=np.int64)
    src = program.sources(program.encode(inputs), lengths)
    snn = program.spiking_network() if snn is None else snn
    rec = simulate(snn, src, program.run_lengths(lengths), record=record)
    return ProgramRun(src, rec.counts, program.logits(rec.counts, lengths), rec)


def run_integer(program: SpikingProgram, inputs: np.ndarray, lengths: np.ndarray,
                carry_residual: bool | None = None) -> ProgramRun:
    """The integer network's run (``carry_residual`` overrides the program's, for diagnostics)."""
    from dataclasses import replace

    lengths = np.asarray(lengths, dtype=np.int64)
    src = program.sources(program.encode(inputs), lengths)
    net = program.network()
    if carry_residual is not None:
        net = replace(net, carry_residual=carry_residual)
    act = net.run(src, program.run_lengths(lengths))
    return ProgramRun(src, act, program.logits(act, lengths))
