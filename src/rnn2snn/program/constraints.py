"""What a target asks of a program, and the rules worked out from it — each in one place.

A target (:mod:`rnn2snn.targets`) states its :class:`TargetConstraints`: the axons and
neurons of a core, the cores of a chip, the axon types that carry a weight. The
constraint stages, the checks before training and the resource count read them here:
the fan-in a neuron may keep (:attr:`TargetConstraints.max_fan_in`), the copies a neuron
needs (:meth:`TargetConstraints.copies`) and the cores a layout takes
(:func:`plan_cores`). The program format is TrueNorth-class, so :data:`TRUENORTH` is the
default where no target is named; another chip brings its own constraints in its folder.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, replace

from rnn2snn.program import limits as L
from rnn2snn.program.neuron import RESET_LINEAR


@dataclass(frozen=True)
class TargetConstraints:
    """A chip's sizes as train-and-constrain sees them (all counts).

    axons_per_core, neurons_per_core : a core's inputs and neurons; cores_per_chip : the
    cores of one chip; axon_types : the weight classes a source's axons carry (a
    ``2**axon_types``-level weight takes one copy of the source per type); weight_levels :
    the integer weight levels a synapse can hold; outputs_per_neuron : the output port a
    recurrent neuron drives besides the axons it feeds; reset_mode, negative_floor : the
    neuron the target runs (linear reset and a floor at −β on the chip; NIR importers reset
    to zero and have no floor), applied to a run's timing by :meth:`timing`; max_inputs,
    max_outputs, activity_levels : the input channels the chip reads, the output channels it
    drives (one a neuron of the last layer: the readout is off-chip) and the most activity
    levels a neuron can emit a word, where the chip bounds them (None: only its cores do).
    """

    name: str
    axons_per_core: int
    neurons_per_core: int
    cores_per_chip: int
    axon_types: int
    weight_levels: int
    outputs_per_neuron: int = 1
    reset_mode: int = RESET_LINEAR
    negative_floor: bool = True
    max_inputs: int | None = None
    max_outputs: int | None = None
    activity_levels: int | None = None

    @property
    def neurons_per_chip(self) -> int:
        return self.neurons_per_core * self.cores_per_chip

    @property
    def max_fan_in(self) -> int:
        """Sources one neuron may read: each takes up to one axon per type."""
        return self.axons_per_core // self.axon_types

    def copies(self, readers: int) -> int:
        """Copies of a recurrent neuron read by ``readers`` cores (or layers): it sends its
        spikes to one axon, so one copy per axon type each reader uses, plus its output."""
        return self.outputs_per_neuron + self.axon_types * readers

    def timing(self, timing):
        """The run's timing (a :class:`~rnn2snn.program.network.SpikingConfig`) with this
        target's neuron: unchanged for the chip's own, else its reset and floor set."""
        if self.reset_mode == RESET_LINEAR and self.negative_floor:
            return timing
        return replace(timing, reset_mode=self.reset_mode,
                       neg_threshold=None if self.negative_floor else L.NEG_THRESHOLD_MAX)


#: TrueNorth (Merolla et al. 2014): 256 axons and 256 neurons a core, 4096 cores, 4 axon
#: types; 16 weight levels, the sums of the types' weights 1, 2, 4, −8.
TRUENORTH = TargetConstraints(name="truenorth", axons_per_core=256, neurons_per_core=256,
                              cores_per_chip=4096, axon_types=L.AXON_TYPES,
                              weight_levels=2 ** L.AXON_TYPES)


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
    limits: TargetConstraints

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
                   f"{self.limits.axon_types} axons each, within one core's "
                   f"{self.limits.axons_per_core} axons")
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
               members: int = 1, limits: TargetConstraints | None = None) -> CorePlan:
    """The cores that :func:`count_resources` will find for this layout, before training.

    n_sources : the first layer's non-recurrent sources (encoder units and bias inputs);
    layers : the recurrent layers' sizes; max_fan_in, cores : as the fan-in step takes them
    (:func:`rnn2snn.constrain.steps.limit_fan_in`); members : ensemble members; limits : the
    target's constraints (TrueNorth's when None).

    The free layout (one layer, no ``cores``) is split by :func:`partition_neurons`: a core
    takes neurons while the axons they read fit, and ``k`` neurons that keep ``kept``
    sources each read at most ``4 · min(candidates, k · kept)`` axons, so a core always
    holds ``256 // (4 · kept)`` of them (all, when ``4 · candidates ≤ 256``; TrueNorth's numbers). Assumes the
    one-core neuron limit the config checks enforce (:func:`rnn2snn.checks.check_pipeline_config`).
    """
    c = TRUENORTH if limits is None else limits
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
    elif c.axon_types * candidates <= c.axons_per_core:
        low = high = 1
        rule = "one"
    else:
        per_core = max(1, c.axons_per_core // (c.axon_types * kept))
        low, high = 1, math.ceil(h / per_core)
        rule = "own"
    return CorePlan(low=low * members, high=high * members, rule=rule, members=members,
                    layers=layers, candidates=candidates, kept=kept, per_core=per_core, limits=c)
