"""A TrueNorth network configuration: cores, their axons, crossbars and neurons, and ports.

Plain dataclasses, validated when constructed: an out-of-range value fails there,
with its place (core, neuron, axon) and the hardware limit. Reading and writing
JSON lives apart, in :mod:`rnn2snn.targets.truenorth.config_io`.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from rnn2snn.errors import HardwareLimitError
from rnn2snn.program.neuron import NeuronParams
from rnn2snn.targets.truenorth import limits as L

NO_TARGET = -1


@dataclass(frozen=True)
class CoreConfig:
    """One neurosynaptic core.

    axon_types : int64 (A,), A ≤ 256, each in 0…3.
    crossbar : bool (A, N), N ≤ 256 — synapse from axon i to neuron j.
    type_weights : int64 (N, 4) — S_j^G, each in −255…255.
    neurons : NeuronParams (N,).
    stochastic_synapse : int64 (N, 4) in {0, 1} — per neuron and axon type.
    target_core, target_axon, target_delay : int64 (N,) — each neuron's single
        target; ``target_core = −1`` means none (its spikes leave through an
        output port, or nowhere).
    """

    axon_types: np.ndarray
    crossbar: np.ndarray
    type_weights: np.ndarray
    neurons: NeuronParams
    stochastic_synapse: np.ndarray
    target_core: np.ndarray
    target_axon: np.ndarray
    target_delay: np.ndarray
    index: int = 0

    def __post_init__(self) -> None:
        where = f"core {self.index}: "
        n_axons, n_neurons = self.crossbar.shape
        if n_axons > L.AXONS_PER_CORE:
            raise HardwareLimitError(
                f"{where}{n_axons} axons, over the limit of {L.AXONS_PER_CORE} axons a core")
        if n_neurons > L.NEURONS_PER_CORE:
            raise HardwareLimitError(
                f"{where}{n_neurons} neurons, over the limit of {L.NEURONS_PER_CORE} neurons a core")
        shapes = {"axon_types": (n_axons,), "type_weights": (n_neurons, L.AXON_TYPES),
                  "stochastic_synapse": (n_neurons, L.AXON_TYPES), "target_core": (n_neurons,),
                  "target_axon": (n_neurons,), "target_delay": (n_neurons,),
                  "neurons.threshold": (n_neurons,)}
        for name, shape in shapes.items():
            value = self.neurons.threshold if name == "neurons.threshold" else getattr(self, name)
            if np.shape(value) != shape:
                raise HardwareLimitError(f"{where}{name} has shape {np.shape(value)}, expected {shape}")
        L.check_range("axon type", self.axon_types, 0, L.AXON_TYPES - 1, where)
        L.check_range("synaptic weight S", self.type_weights, L.WEIGHT_MIN, L.WEIGHT_MAX, where)
        L.check_range("stochastic_synapse", self.stochastic_synapse, 0, 1, where)
        self.neurons.validate(where)
        has_target = self.target_core != NO_TARGET
        L.check_range("target delay", self.target_delay[has_target], L.DELAY_MIN, L.DELAY_MAX, where)
        L.check_range("target axon", self.target_axon[has_target], 0, L.AXONS_PER_CORE - 1, where)

    @property
    def n_axons(self) -> int:
        return self.crossbar.shape[0]

    @property
    def n_neurons(self) -> int:
        return self.crossbar.shape[1]


@dataclass(frozen=True)
class Port:
    """An input port (drives one axon) or an output port (reads one neuron)."""

    core: int
    index: int  # axon for an input port, neuron for an output port


@dataclass(frozen=True)
class PortMap:
    """How word-level data maps onto the ports of a placed network (the core simulator
    does not read it; the port adapters and verify do).

    input_port_source : per input port, (source unit, axon type) it carries.
    output_port_unit : per output port, the network neuron it reads.
    neuron_unit : per core, per hardware neuron, the network neuron it copies.
    """

    ticks_per_word: int
    flush_ticks: int
    input_schedule: str
    neg_input_schedule: str
    levels: int
    n_inputs: int
    n_hidden: int
    input_port_source: tuple[tuple[int, int], ...]
    output_port_unit: tuple[int, ...]
    neuron_unit: tuple[tuple[int, ...], ...]

    def __post_init__(self) -> None:
        from rnn2snn.clock import WordClock
        from rnn2snn.program.network import SCHEDULES

        WordClock(self.ticks_per_word, self.flush_ticks)  # checks T ≥ 1, flush ≥ 0
        for name in ("input_schedule", "neg_input_schedule"):
            if getattr(self, name) not in SCHEDULES:
                raise HardwareLimitError(f"port map: {name}={getattr(self, name)!r}, expected one of "
                                         f"{SCHEDULES}")
        for k, (unit, kind) in enumerate(self.input_port_source):
            if not (0 <= unit < self.n_inputs and 0 <= kind < L.AXON_TYPES):
                raise HardwareLimitError(f"port map: input port {k} carries unit {unit} type {kind}, "
                                         f"outside 0…{self.n_inputs - 1} / 0…{L.AXON_TYPES - 1}")
        for name, units in (("output_port_unit", self.output_port_unit),
                            ("neuron_unit", [u for core in self.neuron_unit for u in core])):
            bad = [u for u in units if not 0 <= u < self.n_hidden]
            if bad:
                raise HardwareLimitError(f"port map: {name} names neuron {bad[0]}, outside "
                                         f"0…{self.n_hidden - 1}")

    @property
    def clock(self):
        from rnn2snn.clock import WordClock

        return WordClock(self.ticks_per_word, self.flush_ticks)

    def to_dict(self) -> dict:
        return {"ticks_per_word": self.ticks_per_word, "flush_ticks": self.flush_ticks,
                "input_schedule": self.input_schedule, "neg_input_schedule": self.neg_input_schedule,
                "levels": self.levels, "n_inputs": self.n_inputs, "n_hidden": self.n_hidden,
                "input_port_source": [list(p) for p in self.input_port_source],
                "output_port_unit": list(self.output_port_unit),
                "neuron_unit": [list(c) for c in self.neuron_unit]}


@dataclass(frozen=True)
class NetworkConfig:
    """Cores plus input and output ports; ``ports`` says how word-level data maps onto them
    (None for a hand-written configuration, which then runs only on raw port spikes).

    The core-level simulator reads only ``cores``, ``inputs`` and ``outputs``.
    """

    cores: list[CoreConfig]
    inputs: list[Port]
    outputs: list[Port]
    ports: PortMap | None = None

    def __post_init__(self) -> None:
        n = len(self.cores)
        for c, core in enumerate(self.cores):
            if core.index != c:
                raise HardwareLimitError(f"core {core.index} stands at position {c}")
            has = core.target_core != NO_TARGET
            bad = has & ((core.target_core < 0) | (core.target_core >= n))
            if bad.any():
                j = int(np.flatnonzero(bad)[0])
                raise HardwareLimitError(
                    f"core {c}: neuron {j} targets core {int(core.target_core[j])}, "
                    f"which does not exist ({n} cores)")
            for j in np.flatnonzero(has):
                tc, ta = int(core.target_core[j]), int(core.target_axon[j])
                if ta >= self.cores[tc].n_axons:
                    raise HardwareLimitError(
                        f"core {c}: neuron {j} targets axon {ta} of core {tc}, which has "
                        f"{self.cores[tc].n_axons} axons")
        for kind, ports, size in (("input", self.inputs, "n_axons"), ("output", self.outputs, "n_neurons")):
            for k, p in enumerate(ports):
                if not 0 <= p.core < n or not 0 <= p.index < getattr(self.cores[p.core], size):
                    raise HardwareLimitError(
                        f"{kind} port {k}: core {p.core} {'axon' if kind == 'input' else 'neuron'} "
                        f"{p.index} does not exist")
        m = self.ports
        if m is not None:
            if len(m.input_port_source) != len(self.inputs) or len(m.output_port_unit) != len(self.outputs):
                raise HardwareLimitError(
                    f"port map: {len(m.input_port_source)} input and {len(m.output_port_unit)} output "
                    f"entries for {len(self.inputs)} input and {len(self.outputs)} output ports")
            if [len(u) for u in m.neuron_unit] != [c.n_neurons for c in self.cores]:
                raise HardwareLimitError("port map: neuron_unit does not list one unit per neuron of "
                                         "every core")

    @property
    def n_neurons(self) -> int:
        return sum(c.n_neurons for c in self.cores)

    @property
    def n_axons(self) -> int:
        return sum(c.n_axons for c in self.cores)
