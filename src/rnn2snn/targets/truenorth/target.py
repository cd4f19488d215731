"""TrueNorth as a :class:`~rnn2snn.targets.base.Target`: its constraints, the core
configuration file (export), the core-level simulator (run), spike-for-spike verification,
and the activity-based power estimate."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from rnn2snn.batching import BATCH_SIZE, map_batches
from rnn2snn.program.network import SpikingRNN
from rnn2snn.program.spec import SpikingProgram
from rnn2snn.targets.base import Exported, Target
from rnn2snn.targets.truenorth.config_io import load_config, save_config
from rnn2snn.targets.truenorth.limits import CONSTRAINTS
from rnn2snn.targets.truenorth.placement import decode_counts, encode_inputs, place
from rnn2snn.targets.truenorth.power import activity_power_uw
from rnn2snn.targets.truenorth.simulator import CoreRun, run_cores
from rnn2snn.targets.truenorth.verify import verify_program


def export(program: SpikingProgram, path: Path, exact: bool = True, origin: str = "") -> Exported:
    """Place the program on cores and write its configuration file (always exact)."""
    config = place(program.spiking_network())
    out = save_config(config, path)
    return Exported(out, f"{len(config.cores)} core(s), {config.n_axons} axons, "
                         f"{config.n_neurons} neurons, {len(config.inputs)} input ports, "
                         f"{len(config.outputs)} output ports")


def run(path: Path, sources: np.ndarray, run_lengths: np.ndarray) -> np.ndarray:
    """Spike counts per window (N, L, H) of a configuration file run by the core-level simulator."""
    config = load_config(path)
    outputs = run_cores(config, encode_inputs(config, sources, run_lengths)).outputs
    return decode_counts(config, outputs, run_lengths)


def activity_estimate(snn: SpikingRNN, x: np.ndarray, run_lengths: np.ndarray,
                      batch_size: int | None = None) -> dict:
    """Place the network on cores, run the core-level simulator, and estimate power from activity.

    ``x``: source levels (B, L, S) of :meth:`SpikingProgram.sources`; ``run_lengths``
    the windows each sequence runs. Counts synaptic events (copies included), spikes and
    active cores inside each sequence's own ticks; rates assume 1 ms ticks. The sequences
    run ``batch_size`` at a time (default :data:`rnn2snn.batching.BATCH_SIZE`).
    """
    config = place(snn)
    clock = snn.config.clock
    x, run_lengths = np.asarray(x), np.asarray(run_lengths, dtype=np.int64)
    until = clock.end(run_lengths)
    run = CoreRun.joined(map_batches(  # the ports' spikes of a batch at a time
        lambda rows: run_cores(config, encode_inputs(config, x[rows], run_lengths[rows]), until=until[rows],
                               keep_outputs=False), len(until), batch_size or BATCH_SIZE))
    ticks = float(until.sum())
    words = float(np.sum(run_lengths))
    power = activity_power_uw(len(config.cores), run.synaptic_events, run.spikes, ticks)
    return {
        "cores_placed": len(config.cores),
        "active_cores": run.active_cores,
        "power_uw_activity": power.total_uw,
        "power_activity_parts_uw": {"static": power.static_uw, "synaptic": power.synaptic_uw,
                                    "spikes": power.spike_uw},
        "synaptic_events_per_word": run.synaptic_events / words,
        "spikes_per_word": run.spikes / words,
        "synaptic_events_per_second": power.synaptic_events_per_second,
        "energy_per_word_nj": power.total_uw * 1e-6 * clock.ticks_per_word * 1e-3 * 1e9,
    }


def power(program: SpikingProgram, sources: np.ndarray, run_lengths: np.ndarray) -> dict:
    """:func:`activity_estimate` of the program's spiking network."""
    return activity_estimate(program.spiking_network(), sources, run_lengths)


TARGET = Target(name="truenorth", constraints=CONSTRAINTS, file_name="truenorth.json", export=export,
                run=run, verify=verify_program, power=power)
