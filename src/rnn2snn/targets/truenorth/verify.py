"""Spike-for-spike equality of the core-level and the network-level simulation."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from rnn2snn.program.network import SpikingRNN, simulate
from rnn2snn.targets.truenorth.config import NetworkConfig
from rnn2snn.targets.truenorth.placement import decode_counts, encode_inputs, port_map
from rnn2snn.targets.truenorth.simulator import CoreRun, run_cores


@dataclass
class Verification:
    """Questions run, (neuron, tick) pairs compared, mismatching pairs, differing predictions."""

    questions: int
    spikes_compared: int
    spikes: int
    mismatches: int
    counts_equal: bool
    core_run: CoreRun

    @property
    def ok(self) -> bool:
        return self.mismatches == 0 and self.counts_equal


def verify(snn: SpikingRNN, config: NetworkConfig, x: np.ndarray, lengths: np.ndarray,
           batch_size: int = 500) -> Verification:
    """Run both simulators on input levels ``x`` (B, L, P) and compare every neuron, every tick.

    Every neuron of every core (copies included) is compared with the recurrent
    unit it copies, on each tick inside the question (its words and flush ticks).
    """
    lengths = np.asarray(lengths, dtype=np.int64)
    ports = port_map(config)
    clock = ports.clock
    units = [np.array(u, dtype=np.int64) for u in ports.neuron_unit]
    compared = mismatches = spikes = 0
    counts_equal = True
    last = None
    for s in range(0, len(lengths), batch_size):
        xb, lb = x[s : s + batch_size], lengths[s : s + batch_size]
        steps = int(lb.max())
        xb = xb[:, :steps]
        net = simulate(snn, xb, lb, record=True)
        run = run_cores(config, encode_inputs(config, xb, lb), record=True)
        ticks = net.raster.shape[1]
        inside = clock.inside(lb, ticks)  # (B, ticks)
        for c, u in enumerate(units):
            diff = (run.rasters[c] != net.raster[:, :, u]) & inside[..., None]
            mismatches += int(diff.sum())
            compared += int(inside.sum()) * len(u)
            spikes += int((run.rasters[c] & inside[..., None]).sum())
        counts_equal &= bool(np.array_equal(decode_counts(config, run.outputs, lb), net.counts))
        last = run
    return Verification(len(lengths), compared, spikes, mismatches, counts_equal, last)


def verify_program(program, inputs: np.ndarray, lengths: np.ndarray,
                   config: NetworkConfig | None = None) -> Verification:
    """Export ``program`` as a TrueNorth configuration file, read it back, and :func:`verify` it
    on ``inputs`` (token ids (N, L) or features (N, L, F)) against the network-level simulation.

    config : a configuration to check instead of the program's own export.
    """
    import tempfile
    from pathlib import Path

    from rnn2snn.targets.truenorth.config_io import load_config, save_config
    from rnn2snn.targets.truenorth.placement import place

    snn = program.spiking_network()
    if config is None:
        with tempfile.TemporaryDirectory() as tmp:
            config = load_config(save_config(place(snn), Path(tmp) / "truenorth.json"))
    lengths = np.asarray(lengths, dtype=np.int64)
    sources = program.sources(program.encode(inputs), lengths)
    return verify(snn, config, sources, program.run_lengths(lengths))
