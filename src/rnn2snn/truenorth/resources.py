"""How many TrueNorth cores, axons and neurons a converted recurrent layer needs.

Rules (``shared/docs/truenorth.md``): a synapse is binary and its weight is the
target neuron's weight for the axon's type, so a 16-level weight needs the source
copied onto up to 4 axons of types S = 1, 2, 4, −8 (one axon per type any target
uses). A neuron sends its spikes to exactly one axon, so a recurrent neuron needs
one copy per axon it feeds, plus one copy for its output port (the off-chip
readout). A core holds ≤ 256 axons and ≤ 256 neurons.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import numpy as np

from rnn2snn.errors import HardwareLimitError
from rnn2snn.truenorth import limits as L


@dataclass(frozen=True)
class Resources:
    """Counts for the on-chip layer (all integers)."""

    cores: int
    axons: int
    neurons: int
    input_axons: int
    recurrent_axons: int
    output_ports: int

    def to_dict(self) -> dict:
        return asdict(self)


def axon_types_used(bits: np.ndarray) -> np.ndarray:
    """bool (4, S): whether some target uses source ``s`` on type ``g``.

    bits : int (4, H, S) crossbar bits per type (targets × sources).
    """
    return np.asarray(bits).astype(bool).any(axis=1)


def partition_neurons(bits: np.ndarray, n_inputs: int) -> list[np.ndarray]:
    """Greedy split of the H recurrent neurons over cores.

    Each core takes neurons in order while its axons (sources × types its neurons
    use) and neurons (every recurrent neuron's copies that target this core's axons
    are placed on the source's core; here: per core, its own neurons times their
    copies) stay within 256. Returns the neuron indices of each core.
    """
    bits = np.asarray(bits).astype(bool)
    _, h, _ = bits.shape
    copies = _copies_per_neuron(bits, n_inputs)
    cores: list[list[int]] = []
    current: list[int] = []
    for j in range(h):
        trial = current + [j]
        axons = int(bits[:, trial, :].any(axis=1).sum())
        neurons = int(copies[trial].sum())
        if current and (axons > L.AXONS_PER_CORE or neurons > L.NEURONS_PER_CORE):
            cores.append(current)
            trial = [j]
        axons = int(bits[:, trial, :].any(axis=1).sum())
        if axons > L.AXONS_PER_CORE or int(copies[trial].sum()) > L.NEURONS_PER_CORE:
            raise HardwareLimitError(
                f"recurrent neuron {j} alone needs {axons} axons (limit {L.AXONS_PER_CORE} "
                f"per core): reduce its fan-in"
            )
        current = trial
    if current:
        cores.append(current)
    return [np.array(c, dtype=np.int64) for c in cores]


def _copies_per_neuron(bits: np.ndarray, n_inputs: int) -> np.ndarray:
    """Copies of each recurrent neuron: one per (core-local) axon it feeds, plus the output."""
    used = axon_types_used(bits)  # (4, S)
    return used[:, n_inputs:].sum(axis=0) + 1


def count_resources(bits: np.ndarray, n_inputs: int) -> Resources:
    """Resource count of a converted layer with crossbar ``bits`` (4, H, P + H).

    Axon copies realise 16-level weights, neuron copies realise fan-out; layers
    larger than a core are split greedily (:func:`partition_neurons`), each core
    then holding the axons its neurons read (a source read on several cores has
    one neuron copy per core and type).
    """
    bits = np.asarray(bits).astype(bool)
    groups = partition_neurons(bits, n_inputs)
    axons = input_axons = recurrent_axons = 0
    feeds = np.zeros(bits.shape[1], dtype=np.int64)  # axons each recurrent neuron feeds
    for g in groups:
        used = bits[:, g, :].any(axis=1)  # (4, S) on this core
        axons += int(used.sum())
        input_axons += int(used[:, :n_inputs].sum())
        recurrent_axons += int(used[:, n_inputs:].sum())
        feeds += used[:, n_inputs:].sum(axis=0)
    neurons = int((feeds + 1).sum())
    return Resources(cores=len(groups), axons=axons, neurons=neurons, input_axons=input_axons,
                     recurrent_axons=recurrent_axons, output_ports=bits.shape[1])
