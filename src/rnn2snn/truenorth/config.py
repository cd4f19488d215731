"""A TrueNorth network configuration: cores, their axons, crossbars and neurons, and ports.

Plain dataclasses, validated when constructed: an out-of-range value fails there,
with its place (core, neuron, axon) and the hardware limit. Reading and writing
JSON lives apart, in :mod:`rnn2snn.truenorth.config_io`.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from rnn2snn.errors import HardwareLimitError
from rnn2snn.spiking.neuron import NeuronParams
from rnn2snn.truenorth import limits as L

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
class NetworkConfig:
    """Cores plus input and output ports; ``meta`` says how a user's data maps onto ports.

    The core-level simulator reads only ``cores``, ``inputs`` and ``outputs``.
    """

    cores: list[CoreConfig]
    inputs: list[Port]
    outputs: list[Port]
    meta: dict = field(default_factory=dict)

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

    @property
    def n_neurons(self) -> int:
        return sum(c.n_neurons for c in self.cores)

    @property
    def n_axons(self) -> int:
        return sum(c.n_axons for c in self.cores)
