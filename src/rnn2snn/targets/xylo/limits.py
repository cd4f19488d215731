"""What a Xylo run may ask for, checked before training, each refusal naming the chip's limit.

Why here and not only in :func:`rnn2snn.targets.xylo.spec.validate`: ``validate`` judges a
finished spec, minutes into a run. The sizes a run asks for (input channels, hidden
neurons, classes) are known before the first epoch, and so is whether a *dense*
recurrent layer of that width fits the chip's fan-out and recurrent memory, since the
chain (:func:`~rnn2snn.targets.xylo.method.convert_for_xylo`) trains a dense one. The
limits themselves come from :mod:`rnn2snn.targets.xylo.chips` (with their sources),
never re-typed here.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from rnn2snn.checks.params import ParameterLimitError, named
from rnn2snn.program.constraints import TargetConstraints
from rnn2snn.targets.xylo.chips import CHIPS, XyloChip, get_chip

#: The input channels the chain drives: its rate model's encoder writes all of the chip's 16.
CHAIN_INPUTS = 16

#: The Xylo presets (:data:`rnn2snn.targets.xylo.method.XYLO_PRESETS`), named here without torch for
#: the command line's choices; a test keeps the two equal.
PRESET_NAMES = ("xylo-audio2", "xylo-best")


@dataclass(frozen=True)
class XyloLimits:
    """A chip's limits as a run sees them (all counts)."""

    chip: XyloChip

    @property
    def max_inputs(self) -> int:
        return self.chip.n_inputs

    @property
    def max_dense_hidden(self) -> int:
        """The widest dense recurrent layer: each neuron targets all (fan-out) and the pairs fit
        the recurrent memory (Audio 2: fan-out 64; IMU: ⌊√31,744⌋ = 178)."""
        return min(self.chip.n_hidden, self.chip.max_fanout, math.isqrt(self.chip.recurrent_memory))

    @property
    def max_classes(self) -> int:
        return self.chip.n_outputs  # one output neuron a class: the readout is on the chip


def target_constraints(chip: XyloChip) -> TargetConstraints:
    """The chip in :class:`TargetConstraints` terms, for a reader of every target's constraints: one
    core of ``n_hidden`` neurons, each may read every input channel and hidden neuron, int8 weights
    (256 levels, one axon type), subtractive reset, no negative floor (the 16-bit membrane keeps all
    inhibition). The TrueNorth-class pipeline does not convert for Xylo (its program is a
    :class:`~rnn2snn.targets.xylo.spec.XyloSpec`); :func:`check_run_sizes` checks a run."""
    return TargetConstraints(name=chip.name, axons_per_core=chip.n_inputs + chip.n_hidden,
                             neurons_per_core=chip.n_hidden, cores_per_chip=1, axon_types=1,
                             weight_levels=1 << chip.weight_bits, negative_floor=False,
                             max_inputs=chip.n_inputs, max_outputs=chip.n_outputs)


#: Each chip's constraints, by target name.
CONSTRAINTS = {name: target_constraints(chip) for name, chip in CHIPS.items()}


def limits_of(chip: str | XyloChip) -> XyloLimits:
    return XyloLimits(get_chip(chip))


def check_run_sizes(chip: str | XyloChip, *, n_inputs: int, hidden: int,
                    n_classes: int | None = None, members: int = 1, fanout: int | None = None,
                    layers: int = 1, hidden_param: str = "hidden_dim", model: bool = False) -> None:
    """Refuse, before training, a run ``chip`` cannot hold; the error names the parameter and the limit.

    n_inputs : input channels (``proj_dim``); hidden : hidden neurons (``hidden_param``, the
    name the caller's user wrote: ``hidden_dim`` on the command line, ``settings.hidden`` in
    the API); members : independent networks side by side (each a dense recurrent layer of
    ``hidden / members`` neurons); fanout : recurrent targets a neuron, if fewer than a
    member's neurons (a sparse layer: :func:`~rnn2snn.targets.xylo.convert.recurrent_mask`
    keeps it within the fan-out and the memory); n_classes : classes of the data (one output
    neuron each); layers : recurrent layers (Xylo has one hidden population: one). model :
    the sizes are a user's model's (:func:`rnn2snn.convert_model`): the error names
    ``target`` (what the caller can change) and the model's size, with no command-line advice.
    """
    lim = limits_of(chip)
    c = lim.chip
    where = f"the {c.name} target ({c.part})"

    def refuse(parameter: str, cli_head: str, model_head: str, body: str, advice: str = "") -> None:
        if model:
            raise ParameterLimitError("target", f"{named('target', c.name)}: the model {model_head}; {body}")
        raise ParameterLimitError(parameter, f"{cli_head}: {body}" + (f"; {advice}" if advice else ""))

    if n_inputs > lim.max_inputs:
        raise ParameterLimitError("proj_dim", f"{named('proj_dim', n_inputs)}: {where} has {c.n_inputs} "
                                              f"input channels (the off-chip encoder writes at most "
                                              f"{c.n_inputs})")
    if n_inputs != CHAIN_INPUTS:
        raise ParameterLimitError("proj_dim", f"{named('proj_dim', n_inputs)}: the Xylo chain's encoder "
                                              f"drives all {CHAIN_INPUTS} input channels; leave --proj-dim "
                                              f"out (or give {CHAIN_INPUTS})")
    if layers != 1:
        refuse("layers", named("layers", layers), f"has {layers} stacked recurrent layers",
               "Xylo has one hidden population (one recurrent layer, read by the output neurons on the "
               "chip): convert a model with one nn.RNN layer, or use target='truenorth'")
    head, has = named(hidden_param, hidden), f"has {hidden} hidden neurons"
    if hidden < 1:
        raise ParameterLimitError(hidden_param, f"{head}: needs at least 1 hidden neuron")
    if members < 1 or hidden % members:
        of = f"the model's {hidden} hidden neurons" if model else head
        raise ParameterLimitError("members", f"{'settings.' if model else ''}{named('members', members)}: "
                                             f"must be ≥ 1 and divide {of} (each member has as many neurons)")
    if hidden > c.n_hidden:
        refuse(hidden_param, head, has, f"{where} has {c.n_hidden} hidden neurons")
    block = hidden // members
    pairs = members * block * block
    sparse = fanout is not None and fanout < block
    if not sparse and (block > c.max_fanout or pairs > c.recurrent_memory):
        why = (f"its fan-out limit is {c.max_fanout} targets a neuron" if block > c.max_fanout else
               f"its recurrent memory holds {c.recurrent_memory:,} (source, target) pairs, "
               + (f"{hidden}² = {pairs:,}" if members == 1 else
                  f"{members} × {block}² = {pairs:,}"))
        whole = ("a dense recurrent layer" if members == 1 else
                 f"{members} dense recurrent layers of {block} neurons side by side")
        refuse(hidden_param, head, has, f"the Xylo chain trains {whole} and on {where} {why}: at most "
                                        f"{lim.max_dense_hidden} neurons a "
                                        f"{'layer' if members == 1 else 'member'}")
    if n_classes is not None and n_classes > lim.max_classes:
        refuse("classes", f"{n_classes} classes", f"has {n_classes} classes",
               f"{where} has {c.n_outputs} output neurons, one a class (the readout is on the chip)",
               f"use data with at most {c.n_outputs} classes (TREC: --labels coarse, 6)")
