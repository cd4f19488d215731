"""Core-level TrueNorth simulator: runs a :class:`NetworkConfig` tick by tick.

It knows nothing of recurrent networks: spikes enter through input ports, travel
from a neuron to its single target axon through the target core's 16-slot delay
buffer, and are integrated through the binary crossbar times the neuron's weight
for the axon's type. The neuron update is :func:`rnn2snn.program.neuron.step`, the
same function the network-level simulator uses.

Per tick ``t`` and core: the axons whose buffer slot ``t mod 16`` is set, or that
an input port drives at ``t``, deliver; the slot is cleared; every neuron
integrates, leaks, and tests its thresholds; a spike of neuron ``j`` with target
``(core, axon, d)`` sets slot ``(t + d) mod 16`` of that axon. Stochastic synapses
add ``sgn(S)`` per event with probability ``|S|/256`` (drawn from ``rng``).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from rnn2snn.batching import concat
from rnn2snn.program.neuron import step
from rnn2snn.targets.truenorth.config import NO_TARGET, NetworkConfig
from rnn2snn.targets.truenorth.limits import AXON_TYPES, DELAY_MAX

SLOTS = DELAY_MAX + 1  # 16 slots: a spike is at most 15 ticks ahead


@dataclass
class CoreRun:
    """Result of :func:`run_cores`.

    outputs : bool (B, ticks, n_output_ports), or None when not kept.
    rasters : per core bool (B, ticks, N_c), or None.
    potentials : per core int64 (B, ticks, N_c) after each tick, or None.
    synaptic_events : crossbar events (axon spike × connected synapse), all questions.
    spikes : neuron spikes, all questions. active : bool per core, any event.
    """

    outputs: np.ndarray | None
    rasters: list[np.ndarray] | None
    potentials: list[np.ndarray] | None
    synaptic_events: int
    spikes: int
    active: np.ndarray

    @property
    def active_cores(self) -> int:
        """Cores with any event."""
        return int(self.active.sum())

    @staticmethod
    def joined(parts: list[CoreRun]) -> CoreRun:
        """One run from the runs of consecutive batches of questions (:mod:`rnn2snn.batching`)."""

        def per_core(lists):
            return None if lists[0] is None else [concat(list(c)) for c in zip(*lists, strict=True)]

        return CoreRun(outputs=concat([p.outputs for p in parts]),
                       rasters=per_core([p.rasters for p in parts]),
                       potentials=per_core([p.potentials for p in parts]),
                       synaptic_events=sum(p.synaptic_events for p in parts),
                       spikes=sum(p.spikes for p in parts),
                       active=np.logical_or.reduce([p.active for p in parts]))


@dataclass
class _Routes:
    """Precomputed spike routes of one core: (target core, delay) → neurons, axons."""

    groups: list[tuple[int, int, np.ndarray, np.ndarray, bool]]


def _routes(config: NetworkConfig) -> list[_Routes]:
    out = []
    for core in config.cores:
        groups = []
        has = core.target_core != NO_TARGET
        pairs = np.stack([core.target_core[has], core.target_delay[has]], axis=1)
        keys = sorted({(int(c), int(d)) for c, d in pairs})
        for tc, d in keys:
            sel = np.flatnonzero(has & (core.target_core == tc) & (core.target_delay == d))
            axons = core.target_axon[sel]
            groups.append((tc, d, sel, axons, len(np.unique(axons)) == len(axons)))
        out.append(_Routes(groups))
    return out


def run_cores(config: NetworkConfig, inputs: np.ndarray, record: bool = False,
              record_potentials: bool = False, rng: np.random.Generator | None = None,
              until: np.ndarray | None = None, keep_outputs: bool = True) -> CoreRun:
    """Simulate ``config`` for ``inputs.shape[1]`` ticks, a batch of independent runs at once.

    inputs : bool (B, ticks, n_input_ports) — spikes arriving through each port.
    rng : needed when a stochastic mode is on; seed it for reproducible runs.
    until : int (B,), optional — count events and spikes of run ``b`` only before
        tick ``until[b]`` (runs padded to a common length).
    keep_outputs : False drops the output port spikes (``outputs`` is None), when only the
        counts of events are read. Runs of independent questions join with :meth:`CoreRun.joined`.
    """
    inputs = np.asarray(inputs, dtype=bool)
    batch, ticks, n_ports = inputs.shape
    if n_ports != len(config.inputs):
        raise ValueError(f"inputs have {n_ports} ports, the configuration {len(config.inputs)}")
    cores = config.cores
    buffers = [np.zeros((SLOTS, batch, c.n_axons), dtype=bool) for c in cores]
    v = [np.zeros((batch, c.n_neurons), dtype=np.int64) for c in cores]
    crossbars = [[c.crossbar[c.axon_types == g].astype(np.float32) for g in range(AXON_TYPES)]
                 for c in cores]
    type_masks = [[c.axon_types == g for g in range(AXON_TYPES)] for c in cores]
    stochastic = [c.stochastic_synapse.astype(bool) for c in cores]
    port_core = np.array([p.core for p in config.inputs], dtype=np.int64)
    port_axon = np.array([p.index for p in config.inputs], dtype=np.int64)
    ports_of = [np.flatnonzero(port_core == c) for c in range(len(cores))]
    routes = _routes(config)
    out_core = np.array([p.core for p in config.outputs], dtype=np.int64)
    out_neuron = np.array([p.index for p in config.outputs], dtype=np.int64)
    out_of = [(np.flatnonzero(out_core == c), out_neuron[out_core == c]) for c in range(len(cores))]
    outputs = np.zeros((batch, ticks, len(config.outputs)), dtype=bool) if keep_outputs else None
    rasters = [np.zeros((batch, ticks, c.n_neurons), dtype=bool) for c in cores] if record else None
    pots = ([np.zeros((batch, ticks, c.n_neurons), dtype=np.int64) for c in cores]
            if record_potentials else None)
    events = spikes_total = 0
    active = np.zeros(len(cores), dtype=bool)
    until = np.full(batch, ticks) if until is None else np.asarray(until)
    for t in range(ticks):
        slot = t % SLOTS
        counting = (t < until)[:, None]
        fired = []
        for c, core in enumerate(cores):
            arriving = buffers[c][slot].copy()
            buffers[c][slot] = False
            if len(ports_of[c]):
                ext = inputs[:, t, ports_of[c]]
                np.logical_or.at(arriving, (slice(None), port_axon[ports_of[c]]), ext)
            syn = np.zeros((batch, core.n_neurons), dtype=np.int64)
            for g in range(AXON_TYPES):
                sel = type_masks[c][g]
                if not sel.any():
                    continue
                counts = (arriving[:, sel].astype(np.float32) @ crossbars[c][g]).astype(np.int64)
                events += int((counts * counting).sum())
                weight = core.type_weights[:, g]
                st = stochastic[c][:, g]
                if st.any():
                    if rng is None:
                        raise ValueError("stochastic synapses need a seeded rng")
                    p = np.abs(weight) / 256.0
                    drawn = rng.binomial(counts, np.broadcast_to(p, counts.shape))
                    syn += np.where(st, drawn * np.sign(weight), counts * weight)
                else:
                    syn += counts * weight
            spikes, v[c] = step(v[c], syn, core.neurons, rng)
            fired.append(spikes)
            if (arriving & counting).any() or (spikes & counting).any():
                active[c] = True
            spikes_total += int((spikes & counting).sum())
            if record:
                rasters[c][:, t] = spikes
            if record_potentials:
                pots[c][:, t] = v[c]
        for c, route in enumerate(routes):
            for tc, d, neurons, axons, unique in route.groups:
                target = buffers[tc][(t + d) % SLOTS]
                if unique:
                    target[:, axons] |= fired[c][:, neurons]
                else:
                    np.logical_or.at(target, (slice(None), axons), fired[c][:, neurons])
        for c, (ports, neurons) in enumerate(out_of):
            if keep_outputs and len(ports):
                outputs[:, t, ports] = fired[c][:, neurons]
    return CoreRun(outputs=outputs, rasters=rasters, potentials=pots, synaptic_events=events,
                   spikes=spikes_total, active=active)
