"""The targets a converted program goes to, each a package with one interface
(:class:`~rnn2snn.targets.base.Target`), found by name.

A new chip is a new folder ``targets/<chip>/`` whose ``target.py`` defines ``TARGET``, and
one line in :data:`TARGETS` (``module:NAME`` when one module defines several variants).
``--target`` (reproduce, export) and ``target=`` (the API) choose one.
"""

from __future__ import annotations

import importlib

from rnn2snn.errors import Rnn2SnnError
from rnn2snn.program.constraints import TargetConstraints
from rnn2snn.program.spec import SpikingProgram
from rnn2snn.targets.base import Exported, Target

#: Name → the module that defines its ``TARGET`` (imported on first use).
TARGETS: dict[str, str] = {
    "truenorth": "rnn2snn.targets.truenorth.target",
    "nir": "rnn2snn.targets.nir.target",
    "xylo-audio2": "rnn2snn.targets.xylo.target:AUDIO2",
    "xylo-imu": "rnn2snn.targets.xylo.target:IMU",
}


def get_target(name: str) -> Target:
    """The target called ``name``; refused, naming the known ones, if there is none."""
    if name not in TARGETS:
        raise Rnn2SnnError(f"target {name!r}: choose one of {', '.join(TARGETS)}")
    module, _, attr = TARGETS[name].partition(":")
    return getattr(importlib.import_module(module), attr or "TARGET")


def runs_pipeline(name: str) -> bool:
    """Whether the TrueNorth-class pipeline (:func:`rnn2snn.pipeline.run_pipeline`) converts for
    target ``name``; a chip with its own program (Xylo) has its own chain instead."""
    return get_target(name).program_type is SpikingProgram


def constraints_of(config) -> TargetConstraints:
    """The constraints of ``config.target`` (TrueNorth's for a config without one); an unknown
    name is refused as a :class:`~rnn2snn.checks.ParameterError` on ``target``."""
    from rnn2snn.checks import ParameterError

    name = getattr(config, "target", "truenorth")
    if name not in TARGETS:
        raise ParameterError("target", f"target must be one of {', '.join(map(repr, TARGETS))}, "
                                       f"got {name!r}")
    target = get_target(name)
    if target.program_type is not SpikingProgram:
        raise ParameterError("target", f"target={name!r}: {name} has its own train-and-constrain chain "
                                       f"(rnn2snn reproduce --target {name}, rnn2snn.convert_model("
                                       f"..., target={name!r}), or "
                                       f"rnn2snn.targets.xylo.method.convert_for_xylo); this pipeline "
                                       f"converts for {', '.join(t for t in TARGETS if runs_pipeline(t))}")
    return target.constraints


__all__ = ["TARGETS", "Exported", "Target", "constraints_of", "get_target", "runs_pipeline"]
