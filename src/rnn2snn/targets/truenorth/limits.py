"""Hardware ranges of a TrueNorth core: the chip's sizes here, and (re-exported, one table)
the neuron, synapse and delay widths a program holds (:mod:`rnn2snn.program.limits`).

Sources: Merolla et al., Science 345 (2014); Akopyan et al., IEEE TCAD 34 (2015);
Cassidy et al., IJCNN 2013 (see ``docs/truenorth.md``).
"""

from __future__ import annotations

from rnn2snn.program.constraints import TRUENORTH
from rnn2snn.program.limits import (  # noqa: F401 - the chip's ranges, read as limits.X
    AXON_TYPES,
    DELAY_MAX,
    DELAY_MIN,
    LEAK_MAX,
    LEAK_MIN,
    NEG_THRESHOLD_MAX,
    NEG_THRESHOLD_MIN,
    NEURON_FIELD_RANGES,
    RESET_MAX,
    RESET_MIN,
    THRESHOLD_MASK_MAX,
    THRESHOLD_MAX,
    THRESHOLD_MIN,
    TICK_SECONDS,
    V_BITS,
    V_MAX,
    V_MIN,
    WEIGHT_MAX,
    WEIGHT_MIN,
    check_range,
)

#: What train-and-constrain reads (the chip's sizes below are its fields).
CONSTRAINTS = TRUENORTH
AXONS_PER_CORE = CONSTRAINTS.axons_per_core        # confirmed: 256
NEURONS_PER_CORE = CONSTRAINTS.neurons_per_core    # confirmed: 256
CORES_PER_CHIP = CONSTRAINTS.cores_per_chip        # confirmed: 4096 (64 x 64)
