"""The one interface every target exposes, so that adding a chip is adding a folder.

A target takes the converted program (:class:`~rnn2snn.program.spec.SpikingProgram`) and
nothing else (a chip with a program of its own, such as Xylo's
:class:`~rnn2snn.targets.xylo.spec.XyloSpec`, names it in :attr:`Target.program_type`;
the TrueNorth-class pipeline then refuses it, and its constraints only describe the
chip). It states its constraints for train-and-constrain (with the neuron semantics its
timing needs, :meth:`~rnn2snn.program.constraints.TargetConstraints.timing`), and four
jobs: write the program as its file, run such a file on input levels, verify the file
against the program's own simulation, estimate power.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from rnn2snn.program.constraints import TargetConstraints
from rnn2snn.program.neuron import step
from rnn2snn.program.spec import SpikingProgram


@dataclass(frozen=True)
class Exported:
    """What :attr:`Target.export` wrote: the file, one line saying what it holds, and the
    warnings of an export that is not exact (each one sentence)."""

    path: Path
    summary: str
    warnings: tuple[str, ...] = ()


@dataclass(frozen=True)
class Target:
    """One chip or exchange format (registered by name in :data:`rnn2snn.targets.TARGETS`).

    constraints : what the constraint stages and the checks must meet.
    neuron_step : the tick neuron the target runs (the program's,
        :func:`rnn2snn.program.neuron.step`, unless the chip's differs).
    file_name : the default name of an exported file.
    export(program, path, exact, origin) → :class:`Exported` (``exact``: refuse to change
        the neurons where the format cannot hold them; ``origin``: where the program was
        read from, recorded in the file).
    run(path, sources, run_lengths) → spike counts (N, L, H) int64 of every neuron per
        window, for the source levels of :meth:`SpikingProgram.sources`.
    verify(program, inputs, lengths) → a record with ``ok`` (None: the target has none).
    power(program, sources, run_lengths) → a dict of power figures (None: none known).
    program_type : what ``export``, ``verify`` and ``power`` take: the SpikingProgram, or the
        chip's own program (then the TrueNorth-class pipeline does not convert for it, the
        target's own chain does, and ``constraints`` describes the chip's sizes in the same terms).
    """

    name: str
    constraints: TargetConstraints
    file_name: str
    export: Callable[[SpikingProgram, Path, bool, str], Exported]
    run: Callable[[Path, np.ndarray, np.ndarray], np.ndarray]
    verify: Callable[[SpikingProgram, np.ndarray, np.ndarray], Any] | None = None
    power: Callable[[SpikingProgram, np.ndarray, np.ndarray], dict] | None = None
    neuron_step: Callable = step
    program_type: type = SpikingProgram
