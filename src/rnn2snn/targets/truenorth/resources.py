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

import math
from collections.abc import Sequence
from dataclasses import asdict, dataclass

import numpy as np

from rnn2snn.errors import HardwareLimitError
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


@dataclass(frozen=True)
class CorePlan:
    """The cores a layout takes, known before any training: ``low`` … ``high`` in all.

    Why: a run trains for minutes before :func:`count_resources` can count the real
    layout, so a budget must be judged on the layout alone. ``rule`` says what decides it:

    * ``"blocks"``: ``cores`` given, the layer is spread over exactly that many;
    * ``"stacked"``: stacked layers, one core each;
    * ``"one"``: the sources a neuron may read (``candidates``) fit one core's axons
      whichever it keeps, so the layer takes one core;
    * ``"own"``: each neuron keeps its own ``kept`` strongest of ``candidates`` sources,
      so the count is known only after the fan-in step: from 1 up to one core per
      ``per_core`` neurons (the most that fit one core's axons whatever they read).

    ``members`` independent copies of the layout (an ensemble) each take their own cores.
    """

    low: int
    high: int
    rule: str
    members: int
    layers: tuple[int, ...]
    candidates: int
    kept: int
    per_core: int

    @property
    def exact(self) -> bool:
        return self.low == self.high

    @property
    def member_high(self) -> int:
        return self.high // self.members

    def count(self) -> str:
        """``"4 cores"`` or ``"1 to 16 cores"``."""
        n = f"{self.low}" if self.exact else f"{self.low} to {self.high}"
        return f"{n} core{'' if self.high == 1 else 's'}"

    def reason(self) -> str:
        """Why the layout takes that many cores (one clause)."""
        h = self.layers[0]
        each = f"{self.members} ensemble members × {self.member_high}: " if self.members > 1 else ""
        if self.rule == "blocks":
            why = f"the {h} recurrent neurons spread over {self.member_high} cores by the cores setting"
        elif self.rule == "stacked":
            why = (f"{len(self.layers)} stacked recurrent layers ({', '.join(map(str, self.layers))} "
                   f"neurons), one core each")
        elif self.rule == "one":
            why = (f"each of the {h} recurrent neurons reads at most {self.candidates} sources, "
                   f"{L.AXON_TYPES} axons each, within one core's {L.AXONS_PER_CORE} axons")
        else:
            why = (f"each of the {h} recurrent neurons keeps its own {self.kept} strongest of "
                   f"{self.candidates} sources, and a core holds at least {self.per_core} of them "
                   f"whatever they keep")
            if not self.exact:
                why = f"known only after the fan-in step: {why}"
        return each + why

    def describe(self) -> str:
        """The count and why, one line (what the CLI and the log print before training)."""
        return f"{self.count()} ({self.reason()})"


def plan_cores(n_sources: int, layers: Sequence[int], max_fan_in: int, cores: int | None = None,
               members: int = 1) -> CorePlan:
    """The cores that :func:`count_resources` will find for this layout, before training.

    n_sources : the first layer's non-recurrent sources (encoder units and bias inputs);
    layers : the recurrent layers' sizes; max_fan_in, cores : as the fan-in step takes them
    (:func:`rnn2snn.constrain.steps.limit_fan_in`); members : ensemble members.

    The free layout (one layer, no ``cores``) is split by :func:`partition_neurons`: a core
    takes neurons while the axons they read fit, and ``k`` neurons that keep ``kept``
    sources each read at most ``4 · min(candidates, k · kept)`` axons, so a core always
    holds ``256 // (4 · kept)`` of them (all, when ``4 · candidates ≤ 256``). Assumes the
    one-core neuron limit the config checks enforce (:func:`rnn2snn.checks.check_pipeline_config`).
    """
    layers = tuple(int(d) for d in layers)
    h = layers[0]
    candidates = n_sources + h
    kept = min(max_fan_in, candidates)
    per_core = h
    if len(layers) > 1:
        low = high = len(layers)
        rule = "stacked"
    elif cores is not None:
        low = high = cores
        rule = "blocks"
    elif L.AXON_TYPES * candidates <= L.AXONS_PER_CORE:
        low = high = 1
        rule = "one"
    else:
        per_core = max(1, L.AXONS_PER_CORE // (L.AXON_TYPES * kept))
        low, high = 1, math.ceil(h / per_core)
        rule = "own"
    return CorePlan(low=low * members, high=high * members, rule=rule, members=members,
                    layers=layers, candidates=candidates, kept=kept, per_core=per_core)
