"""Placement of a converted recurrent layer onto TrueNorth cores, and its data adapters.

Every recurrent neuron j sits on one core (greedy split, see
:func:`rnn2snn.targets.truenorth.resources.partition_neurons`). A core holds one axon per
(source, type) its neurons read — axon copies realise 16-level weights — and, for
each recurrent neuron, one copy per axon its spikes feed (on any core) plus one
copy for its output port — neuron copies realise fan-out. Copies share the
crossbar column and parameters, so they spike together. Inputs (the off-chip
projection) enter through one input port per input axon.

:func:`encode_inputs` and :func:`decode_counts` translate between word-level data
and port spike trains, using the port map (``NetworkConfig.ports``).
"""

from __future__ import annotations

import numpy as np

from rnn2snn.errors import HardwareLimitError, Rnn2SnnError
from rnn2snn.program.network import TYPE_WEIGHTS, SpikingRNN, spike_trains
from rnn2snn.targets.truenorth import limits as L
from rnn2snn.targets.truenorth.config import NO_TARGET, CoreConfig, NetworkConfig, Port, PortMap
from rnn2snn.targets.truenorth.resources import partition_neurons

NEG_TYPE = 3


def place(snn: SpikingRNN) -> NetworkConfig:
    """Build the core configuration of a converted layer (see module docstring)."""
    cfg = snn.config
    bits = np.asarray(snn.bits).astype(bool)  # (4, H, S)
    n_in, h = snn.n_inputs, snn.n_hidden
    groups = partition_neurons(bits, n_in, snn.groups)
    # axons of each core: (source, type) pairs its neurons use, sources in order, types 0..3
    axon_lists = []
    for g in groups:
        used = bits[:, g, :].any(axis=1)  # (4, S)
        axon_lists.append([(int(s), int(t)) for s in range(used.shape[1]) for t in range(4)
                           if used[t, s]])
    # neurons of each core: for recurrent neuron j, copies → each (core, axon) reading j, + output
    feeds = {j: [] for j in range(h)}
    for c, al in enumerate(axon_lists):
        for i, (s, t) in enumerate(al):
            if s >= n_in:
                feeds[s - n_in].append((c, i, t))
    cores, outputs = [], [None] * h
    neuron_of: list[list[int]] = []  # per core: hidden unit of each neuron
    for c, g in enumerate(groups):
        al = axon_lists[c]
        units, t_core, t_axon, t_delay = [], [], [], []
        for j in g:
            for tc, ta, t in feeds[int(j)]:
                units.append(int(j))
                t_core.append(tc)
                t_axon.append(ta)
                t_delay.append(cfg.neg_delay if t == NEG_TYPE else cfg.delay)
            outputs[int(j)] = Port(c, len(units))
            units.append(int(j))
            t_core.append(NO_TARGET)
            t_axon.append(0)
            t_delay.append(0)
        if len(units) > L.NEURONS_PER_CORE:
            raise HardwareLimitError(
                f"core {c}: {len(units)} neurons with copies, over the limit of "
                f"{L.NEURONS_PER_CORE}: the recurrent layer's fan-out is too large for this split")
        unit_arr = np.array(units, dtype=np.int64)
        crossbar = np.zeros((len(al), len(units)), dtype=bool)
        for i, (s, t) in enumerate(al):
            crossbar[i] = bits[t, unit_arr, s]
        n = len(units)
        cores.append(CoreConfig(
            axon_types=np.array([t for _, t in al], dtype=np.int64),
            crossbar=crossbar,
            type_weights=np.tile(np.array(TYPE_WEIGHTS, dtype=np.int64), (n, 1)),
            neurons=snn.neurons.take(unit_arr),
            stochastic_synapse=np.zeros((n, 4), dtype=np.int64),
            target_core=np.array(t_core, dtype=np.int64),
            target_axon=np.array(t_axon, dtype=np.int64),
            target_delay=np.array(t_delay, dtype=np.int64),
            index=c,
        ))
        neuron_of.append(units)
    inputs, input_source = [], []
    for c, al in enumerate(axon_lists):
        for i, (s, t) in enumerate(al):
            if s < n_in:
                inputs.append(Port(c, i))
                input_source.append([s, t])
    ports = PortMap(
        ticks_per_word=cfg.ticks_per_word, flush_ticks=cfg.flush_ticks,
        input_schedule=cfg.input_schedule, neg_input_schedule=cfg.neg_input_schedule,
        levels=snn.levels, n_inputs=n_in, n_hidden=h,
        input_port_source=tuple((int(s), int(t)) for s, t in input_source),
        output_port_unit=tuple(range(h)),
        neuron_unit=tuple(tuple(u) for u in neuron_of))
    return NetworkConfig(cores=cores, inputs=inputs, outputs=outputs, ports=ports)


def port_map(config: NetworkConfig) -> PortMap:
    """The configuration's port map, or a clear error for one rnn2snn did not export."""
    if config.ports is None:
        raise HardwareLimitError("this configuration has no port map (how word-level data maps onto "
                                 "its ports): it was not exported by rnn2snn")
    return config.ports


def encode_inputs(config: NetworkConfig, x: np.ndarray, lengths: np.ndarray | None = None) -> np.ndarray:
    """Input port spikes (B, ticks, ports) for input levels ``x`` (B, L, P).

    A port carrying projection unit ``i`` on type ``g`` spikes where the word's
    schedule for that type places level ``x[·, k, i]``. With ``lengths`` (B,), words
    at or past a sequence's length send nothing, as in the network-level
    :func:`~rnn2snn.program.network.simulate` (padding may hold any level).
    """
    m = port_map(config)
    x = np.asarray(x, dtype=np.int64)
    batch, steps, _ = x.shape
    if lengths is not None:
        lengths = np.asarray(lengths)
        if lengths.shape != (batch,) or (lengths < 0).any():
            raise Rnn2SnnError(f"lengths: expected {batch} word counts ≥ 0, one per sequence of x, "
                               f"got {lengths.tolist()}")
        x = np.where((np.arange(steps)[None, :] < lengths[:, None])[..., None], x, 0)
    src = np.array(m.input_port_source, dtype=np.int64).reshape(-1, 2)
    out = np.zeros((batch, m.clock.total_ticks(steps), len(src)), dtype=bool)
    for schedule, types in ((m.input_schedule, [0, 1, 2]), (m.neg_input_schedule, [NEG_TYPE])):
        ports = np.flatnonzero(np.isin(src[:, 1], types))
        if len(ports):
            out[:, :, ports] = spike_trains(x[:, :, src[ports, 0]], None, m.clock, schedule)
    return out


def decode_counts(config: NetworkConfig, outputs: np.ndarray, lengths: np.ndarray) -> np.ndarray:
    """Spike counts per word window (B, L, H) from output port spikes (B, ticks, ports),
    with the windows of :class:`~rnn2snn.clock.WordClock`."""
    m = port_map(config)
    per_port = m.clock.counts(np.asarray(outputs, dtype=bool), lengths)  # (B, L, ports)
    counts = np.zeros(per_port.shape[:2] + (m.n_hidden,), dtype=np.int64)
    np.add.at(counts, (slice(None), slice(None), np.array(m.output_port_unit, dtype=np.int64)),
              per_port)
    return counts
