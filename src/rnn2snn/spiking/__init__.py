"""Stage 4 — spiking: the TrueNorth neuron, conversion, network-level simulation."""

from rnn2snn.spiking.evaluate import choose_input_schedule, spiking_logits
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
    "choose_input_schedule",
    "convert",
    "simulate",
    "spiking_logits",
    "split_weights",
    "step",
]
