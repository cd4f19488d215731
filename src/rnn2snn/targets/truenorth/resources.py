"""How many TrueNorth cores, axons and neurons a converted recurrent layer needs.

Rules (``docs/truenorth.md``): a synapse is binary and its weight is the
target neuron's weight for the axon's type, so a 16-level weight needs the source
copied onto up to 4 axons of types S = 1, 2, 4, −8 (one axon per type any neuron
of the core uses). A neuron sends its spikes to exactly one axon, so a recurrent
neuron needs one copy per axon it feeds, on any core, plus one copy for its output
port (the off-chip readout); the copies live on its own core. A core holds
≤ 256 axons and ≤ 256 neurons.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import numpy as np

from rnn2snn.errors import HardwareLimitError
from rnn2snn.program.constraints import CorePlan, plan_cores  # noqa: F401 - read here too
from rnn2snn.targets.truenorth import limits as L


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


def core_usage(bits: np.ndarray, n_inputs: int, groups: list[np.ndarray]):
    """Axons (4, S) used by each core, and the neuron count of each core (copies included)."""
    bits = np.asarray(bits).astype(bool)
    used = [bits[:, g, :].any(axis=1) for g in groups]  # per core (4, S)
    feeds = sum(u[:, n_inputs:].sum(axis=0) for u in used)  # axons each recurrent unit feeds
    neurons = [int((feeds[g] + 1).sum()) for g in groups]
    return used, neurons


def check_groups(bits: np.ndarray, n_inputs: int, groups: list[np.ndarray]) -> None:
    """Refuse a split whose core needs more than 256 axons or 256 neurons, naming the core."""
    h = np.asarray(bits).shape[1]
    flat = np.sort(np.concatenate(groups)) if groups else np.array([])
    if not np.array_equal(flat, np.arange(h)):
        raise HardwareLimitError(f"core groups must place each of the {h} recurrent neurons once")
    used, neurons = core_usage(bits, n_inputs, groups)
    for c, (u, n) in enumerate(zip(used, neurons, strict=True)):
        if int(u.sum()) > L.AXONS_PER_CORE:
            raise HardwareLimitError(
                f"core {c}: its neurons read {int(u.sum())} axons (sources × types), over the "
                f"limit of {L.AXONS_PER_CORE} axons a core: reduce their fan-in or split them")
        if n > L.NEURONS_PER_CORE:
            raise HardwareLimitError(
                f"core {c}: {n} neurons with copies, over the limit of {L.NEURONS_PER_CORE} "
                f"neurons a core: too much fan-out for this split")


def partition_neurons(bits: np.ndarray, n_inputs: int,
                      groups: list | None = None) -> list[np.ndarray]:
    """The recurrent neurons of each core.

    With ``groups`` (from a block-sparse fan-in, see
    :func:`rnn2snn.constrain.steps.block_fan_in_mask`) those, checked; otherwise a
    greedy split in neuron order: a core takes neurons while the axons they read and the
    neurons they need fit. The copies a neuron needs depend on the split (one per axon
    it feeds, on every core), so the greedy pass estimates them as if the layer sat on
    one core and is rerun with a smaller neuron budget until the real count fits; a
    layer this in-order split cannot hold is refused (give ``groups`` to place it).
    """
    bits = np.asarray(bits).astype(bool)
    if groups is not None:
        out = [np.asarray(g, dtype=np.int64) for g in groups]
        check_groups(bits, n_inputs, out)
        return out
    budget = L.NEURONS_PER_CORE
    while True:
        out = _greedy_split(bits, n_inputs, budget)
        neurons = core_usage(bits, n_inputs, out)[1]
        if all(n <= L.NEURONS_PER_CORE for n in neurons) or len(out) == bits.shape[1]:
            break
        budget = budget * L.NEURONS_PER_CORE // max(neurons)  # < budget: the worst core is over
    check_groups(bits, n_inputs, out)  # refuses, naming the core, what this split cannot hold
    return out


def _greedy_split(bits: np.ndarray, n_inputs: int, budget: int) -> list[np.ndarray]:
    """Cores in neuron order, each within 256 axons and ``budget`` one-core neuron copies."""
    copies = axon_types_used(bits)[:, n_inputs:].sum(axis=0) + 1
    cores: list[list[int]] = []
    current: list[int] = []
    for j in range(bits.shape[1]):
        trial = current + [j]
        axons = int(bits[:, trial, :].any(axis=1).sum())
        if current and (axons > L.AXONS_PER_CORE or int(copies[trial].sum()) > budget):
            cores.append(current)
            trial = [j]
            axons = int(bits[:, trial, :].any(axis=1).sum())
        if axons > L.AXONS_PER_CORE:
            raise HardwareLimitError(
                f"recurrent neuron {j} alone needs {axons} axons (limit {L.AXONS_PER_CORE} "
                f"per core): reduce its fan-in")
        current = trial
    if current:
        cores.append(current)
    return [np.array(c, dtype=np.int64) for c in cores]


def count_resources(bits: np.ndarray, n_inputs: int, groups: list | None = None) -> Resources:
    """Resource count of a converted layer with crossbar ``bits`` (4, H, P + H).

    Axon copies realise 16-level weights, neuron copies realise fan-out (one copy
    per axon fed, on any core, plus the output port).
    """
    bits = np.asarray(bits).astype(bool)
    parts = partition_neurons(bits, n_inputs, groups)
    used, neurons = core_usage(bits, n_inputs, parts)
    return Resources(cores=len(parts), axons=int(sum(u.sum() for u in used)),
                     neurons=int(sum(neurons)),
                     input_axons=int(sum(u[:, :n_inputs].sum() for u in used)),
                     recurrent_axons=int(sum(u[:, n_inputs:].sum() for u in used)),
                     output_ports=bits.shape[1])
