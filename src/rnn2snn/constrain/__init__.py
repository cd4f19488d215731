"""Stage 3 — constrain: fan-in limit, 16-level weights, 16-level activities, integer network."""

from rnn2snn.constrain.integer import IntegerRNN
from rnn2snn.constrain.steps import (
    choose_threshold,
    fan_in_mask,
    input_levels,
    limit_fan_in,
    quantize_model_activities,
    quantize_model_weights,
    readout_logits,
    to_integer,
)

__all__ = [
    "IntegerRNN",
    "choose_threshold",
    "fan_in_mask",
    "input_levels",
    "limit_fan_in",
    "quantize_model_activities",
    "quantize_model_weights",
    "readout_logits",
    "to_integer",
]
