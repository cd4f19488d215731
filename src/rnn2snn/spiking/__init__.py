"""Stage 4 — spiking: the TrueNorth neuron, the word-window clock, conversion and simulation.

NumPy only: a saved program runs without torch. The training-side helpers (spiking
fine-tuning, schedule choice) live in :mod:`rnn2snn.spiking.finetune` and
:mod:`rnn2snn.spiking.evaluate`.
"""

from rnn2snn.spiking.clock import WordClock
from rnn2snn.spiking.network import (
    SpikeRecord,
    SpikingConfig,
    SpikingRNN,
    convert,
    simulate,
    split_weights,
)
from rnn2snn.spiking.neuron import NeuronParams, step

__all__ = [
    "NeuronParams",
    "SpikeRecord",
    "SpikingConfig",
    "SpikingRNN",
    "WordClock",
    "convert",
    "simulate",
    "split_weights",
    "step",
]
