"""Stage 3 — constrain: fan-in limit, 16-level weights, 16-level activities, integer network.

The integer network and its word-level neuron are the program's
(:mod:`rnn2snn.program.integer`, NumPy); the constraint steps act on a torch model and
are imported on first use.
"""

from rnn2snn.model.quantize import word_step
from rnn2snn.program.integer import IntegerRNN

_STEPS = ("choose_threshold", "fan_in_mask", "input_levels", "limit_fan_in",
          "quantize_model_activities", "quantize_model_weights", "readout_logits", "to_integer")

__all__ = ["IntegerRNN", "word_step", *_STEPS]


def __getattr__(name: str):
    if name in _STEPS:
        from rnn2snn.constrain import steps

        return getattr(steps, name)
    raise AttributeError(f"module 'rnn2snn.constrain' has no attribute {name!r}")
