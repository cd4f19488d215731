"""The converted program — one typed, saved object that every backend reads (NumPy only):
the spine between training and the targets; it imports only the bottom layer.

Its parts: the program and its timing (:mod:`~rnn2snn.program.spec`, ``Timing`` is
:class:`~rnn2snn.program.network.SpikingConfig`), its files (:mod:`~rnn2snn.program.io`),
runs (:mod:`~rnn2snn.program.run`); what it computes — the tick neuron
(:mod:`~rnn2snn.program.neuron`), the time loop and spike trains
(:mod:`~rnn2snn.program.network`), the integer network (:mod:`~rnn2snn.program.integer`)
— and the ranges it may hold (:mod:`~rnn2snn.program.limits`); what a target asks of it
(:mod:`~rnn2snn.program.constraints`). Build one from a constrained model with
:func:`rnn2snn.constrain.build.build_program` (training side, torch); save, load, run and
predict without torch.
"""

from rnn2snn.program.io import load_program, save_program
from rnn2snn.program.run import ProgramRun, run_integer, simulate_program
from rnn2snn.program.spec import (
    FeatureEncoder,
    Readout,
    RecurrentLayer,
    SpikingProgram,
    Timing,
    TokenEncoder,
)

__all__ = [
    "FeatureEncoder",
    "ProgramRun",
    "Readout",
    "RecurrentLayer",
    "SpikingProgram",
    "Timing",
    "TokenEncoder",
    "load_program",
    "run_integer",
    "save_program",
    "simulate_program",
]
