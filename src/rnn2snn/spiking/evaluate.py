"""Class scores of a converted network: spike counts through the model's off-chip readout."""

from __future__ import annotations

import numpy as np

from rnn2snn.constrain.steps import input_levels, readout_logits
from rnn2snn.data.text import Encoded
from rnn2snn.model.elman import ElmanClassifier
from rnn2snn.spiking.network import SpikeRecord, SpikingRNN, simulate


def spiking_logits(model: ElmanClassifier, snn: SpikingRNN, data: Encoded,
                   record: bool = False) -> tuple[np.ndarray, SpikeRecord]:
    """Class scores (N, C) from the spiking layer's counts, and the simulation record.

    The projection (off-chip) gives the input levels; the readout (off-chip) reads
    the counts as the integer network's activities.
    """
    rec = simulate(snn, input_levels(model, data), data.lengths, record=record)
    return readout_logits(model, rec.counts, data.lengths), rec
