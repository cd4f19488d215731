"""The targets a converted program goes to, each a package with one interface
(:class:`~rnn2snn.targets.base.Target`), found by name.

A new chip is a new folder ``targets/<chip>/`` whose ``target.py`` defines ``TARGET``, and
one line in :data:`TARGETS`. ``--target`` (reproduce, export) and ``target=`` (the API)
choose one.
"""

from __future__ import annotations

import importlib

from rnn2snn.errors import Rnn2SnnError
from rnn2snn.program.constraints import TargetConstraints
from rnn2snn.targets.base import Exported, Target

#: Name → the module that defines its ``TARGET`` (imported on first use).
TARGETS: dict[str, str] = {
    "truenorth": "rnn2snn.targets.truenorth.target",
    "nir": "rnn2snn.targets.nir.target",
}


def get_target(name: str) -> Target:
    """The target called ``name``; refused, naming the known ones, if there is none."""
    if name not in TARGETS:
        raise Rnn2SnnError(f"target {name!r}: choose one of {', '.join(TARGETS)}")
    return importlib.import_module(TARGETS[name]).TARGET




def constraints_of(config) -> TargetConstraints:
    """The constraints of ``config.target`` (TrueNorth's for a config without one); an unknown
    name is refused as a :class:`~rnn2snn.checks.ParameterError` on ``target``."""
    from rnn2snn.checks import ParameterError

    name = getattr(config, "target", "truenorth")
    if name not in TARGETS:
        raise ParameterError("target", f"target must be one of {', '.join(map(repr, TARGETS))}, "
                                       f"got {name!r}")
    return get_target(name).constraints


__all__ = ["TARGETS", "Exported", "Target", "constraints_of", "get_target"]
