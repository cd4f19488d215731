"""The converted program — one typed, saved object that every backend reads (NumPy only).

Build one from a constrained model with :func:`rnn2snn.constrain.build.build_program`
(training side, torch); save, load, run and predict without torch.
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
