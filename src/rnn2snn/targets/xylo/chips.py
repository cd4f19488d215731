"""The Xylo chips rnn2snn targets and the limits a specification must keep on each.

Sources (checked 2026-12):

* rockpool 3.1.0, ``rockpool/devices/xylo/syns61201`` and ``syns63300`` (mappers:
  ``max_hidden_neurons`` 1000 / 496, ``max_output_neurons`` 8 / 16; ``xylo_samna.py``:
  Xylo IMU uses only the first 128 hidden neurons for input and the last 128 for output);
* the rockpool manual, "Overview of the Xylo family" (https://rockpool.ai/devices/xylo-overview.html):
  16 input channels, up to 15 input events per tick and channel, up to 31 events per tick
  from a hidden neuron and 1 from an output neuron, 8-bit weights, 2 synaptic states a
  neuron on Audio 2 and 1 on IMU, maximum fan-out 64 (Audio 2) and 512 (IMU), average
  fan-out 32 (Audio 2) and 64 (IMU): the average times the hidden neurons is the recurrent
  memory, 1000 × 32 = 32,000 and 496 × 64 = 31,744 targets;
* rockpool 3.1.0 ``syns61201/xa2_devkit_utils.py``, Audio 2's memory map: the recurrent
  fan-out memory ``RFORAM`` (0x0A920…0x12620) and the weight memories ``RWTRAM`` and
  ``RWT2RAM`` (synapses 1 and 2) hold 0x7D00 = 32,000 entries each, one entry a
  (source, target) pair with its weight on each synapse; input weights 16 × 1000;
* the samna manual, "Xylo-IMU" (https://synsense-sys-int.gitlab.io/samna/models/xyloSeries/xylo_imu.html):
  128 input expansion neurons, 496 hidden, 128 output expansion neurons, 16 outputs;
* xylosim 0.1.3 C++ source (``src/v2/cpp/XyloIAFNeuron.h``): ``BITS_STATE 16``,
  ``BITS_WEIGHT 8``, ``MAX_NUM_INP_SPIKES 15``, ``MAX_NUM_SPIKES 31``, ``MAX_NUM_OUT_SPIKES 1``.

How the limits are counted here, after that memory map: a hidden neuron's fan-out is the
number of neurons it has a non-zero recurrent weight to (on either synapse: one memory
entry holds both); the recurrent memory is the sum of the fan-outs.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from rnn2snn.errors import HardwareLimitError


@dataclass(frozen=True)
class XyloChip:
    """One Xylo chip's SNN core: sizes, number formats and per-tick event limits."""

    name: str
    part: str  # SynSense part number
    n_inputs: int
    n_hidden: int
    n_outputs: int
    synapses: int  # synaptic states per hidden neuron (Isyn, Isyn2)
    max_fanout: int  # neurons one hidden neuron has a non-zero recurrent weight to
    recurrent_memory: int  # (source, target) pairs with a recurrent weight, all neurons
    input_neurons: int  # hidden neurons that may receive input weights (the first ones)
    output_neurons: int  # hidden neurons that may drive output neurons (the last ones)
    weight_bits: int = 8
    state_bits: int = 16
    shift_bits: int = 4  # weight_shift_in/rec/out
    dash_bits: int = 4  # dash_syn, dash_mem
    max_input_count: int = 15  # events a tick on one input channel (more are dropped)
    max_hidden_spikes: int = 31  # events a tick from one hidden neuron
    max_output_spikes: int = 1  # events a tick from one output neuron

    def layout(self, hidden: int) -> tuple[np.ndarray, np.ndarray]:
        """(may receive input (N,), may drive outputs (N,)) for ``hidden`` neurons (bool): the
        first ``input_neurons`` and the last ``output_neurons``, what the chain's models mask."""
        index = np.arange(hidden)
        return index < self.input_neurons, index >= hidden - self.output_neurons

    @property
    def weight_range(self) -> tuple[int, int]:
        return -(1 << (self.weight_bits - 1)), (1 << (self.weight_bits - 1)) - 1

    @property
    def state_range(self) -> tuple[int, int]:
        return -(1 << (self.state_bits - 1)), (1 << (self.state_bits - 1)) - 1


XYLO_AUDIO2 = XyloChip(name="xylo-audio2", part="SYNS61201", n_inputs=16, n_hidden=1000, n_outputs=8,
                       synapses=2, max_fanout=64, recurrent_memory=32_000, input_neurons=1000,
                       output_neurons=1000)
XYLO_IMU = XyloChip(name="xylo-imu", part="SYNS63300", n_inputs=16, n_hidden=496, n_outputs=16,
                    synapses=1, max_fanout=512, recurrent_memory=31_744, input_neurons=128,
                    output_neurons=128)

CHIPS: dict[str, XyloChip] = {chip.name: chip for chip in (XYLO_AUDIO2, XYLO_IMU)}


def get_chip(name: str | XyloChip) -> XyloChip:
    """The chip called ``name`` (``xylo-audio2``, ``xylo-imu``), or an error listing them."""
    if isinstance(name, XyloChip):
        return name
    try:
        return CHIPS[name]
    except KeyError:
        raise HardwareLimitError(f"unknown Xylo chip {name!r}: choose one of {', '.join(CHIPS)}") from None
