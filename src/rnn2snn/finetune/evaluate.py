"""Class scores of a converted network (spike counts through the model's off-chip readout),
and the input schedule chosen by them."""

from __future__ import annotations

from dataclasses import replace

import numpy as np

from rnn2snn.constrain.steps import input_levels, readout_logits, to_integer
from rnn2snn.data.sequences import Sequences
from rnn2snn.model.elman import ElmanClassifier
from rnn2snn.program.network import SpikeRecord, SpikingConfig, SpikingRNN, convert, simulate


def spiking_logits(model: ElmanClassifier, snn: SpikingRNN, data: Sequences,
                   record: bool = False) -> tuple[np.ndarray, SpikeRecord]:
    """Class scores (N, C) from the spiking layer's counts, and the simulation record.

    The projection (off-chip) gives the input levels; the readout (off-chip) reads
    the counts as the integer network's activities.
    """
    lag = model.config.lag
    rec = simulate(snn, input_levels(model, data), data.lengths + lag, record=record)
    return readout_logits(model, rec.counts, data.lengths), rec


def choose_input_schedule(model: ElmanClassifier, data: Sequences, config: SpikingConfig,
                          candidates: tuple[str, ...] = ("early", "spread")) -> tuple[SpikingConfig, dict]:
    """The input schedule under which the spiking layer agrees most with the integer network.

    Agreement is the share of ``data`` (the validation split) on which both predict
    the same class; ties keep the earlier candidate. What remains of the conversion
    error after the membrane is carried between words (the model's
    ``carry_residual``) is excitation seen before later inhibition inside a window,
    and how much of it a network suffers depends on where its input spikes fall.
    Returns the chosen config and the agreement of each candidate.
    """
    net = to_integer(model)
    x = input_levels(model, data)
    run_lengths = data.lengths + model.config.lag
    int_pred = readout_logits(model, net.run(x, run_lengths), data.lengths).argmax(1)
    agreement = {}
    for schedule in candidates:
        cfg = replace(config, input_schedule=schedule, neg_input_schedule=schedule)
        counts = simulate(convert(net, cfg), x, run_lengths).counts
        agreement[schedule] = float((readout_logits(model, counts, data.lengths).argmax(1)
                                     == int_pred).mean())
    best = max(candidates, key=lambda s: agreement[s])  # first of the best on ties
    return replace(config, input_schedule=best, neg_input_schedule=best), agreement
