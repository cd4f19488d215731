"""The numeric ranges a program may hold, one place for every check: the TrueNorth-class
neuron, synapse and delay widths that the program's tick neuron (:mod:`rnn2snn.program.neuron`)
and its time loop (:mod:`rnn2snn.program.network`) run exactly.

Sources: Merolla et al., Science 345 (2014); Akopyan et al., IEEE TCAD 34 (2015);
Cassidy et al., IJCNN 2013 (see ``docs/truenorth.md``). Widths that the
sources do not publish (threshold, leak, reset value) are this project's choice,
documented here, and refused beyond — never wrapped. The chip's sizes (axons and
neurons a core, cores a chip, the tick) are the target's: :mod:`rnn2snn.targets.truenorth.limits`.
"""

from __future__ import annotations

import numpy as np

from rnn2snn.errors import HardwareLimitError

AXON_TYPES = 4                # confirmed, G in {0,1,2,3}
WEIGHT_MIN, WEIGHT_MAX = -255, 255          # 9-bit signed synaptic weight, confirmed
V_BITS = 20                                 # membrane potential, confirmed
V_MIN, V_MAX = -(2 ** (V_BITS - 1)), 2 ** (V_BITS - 1) - 1
DELAY_MIN, DELAY_MAX = 1, 15                # axonal delay in ticks, confirmed
TICK_SECONDS = 1e-3                         # a tick: the 1 kHz global clock, confirmed
# Not published; chosen here (18-bit unsigned thresholds, 9-bit signed leak, 18-bit reset).
THRESHOLD_MIN, THRESHOLD_MAX = 1, 2 ** 18 - 1       # alpha
NEG_THRESHOLD_MIN, NEG_THRESHOLD_MAX = 0, 2 ** 18 - 1  # beta
LEAK_MIN, LEAK_MAX = -255, 255                      # lambda
RESET_MIN, RESET_MAX = -(2 ** 17), 2 ** 17 - 1      # R
THRESHOLD_MASK_MAX = 2 ** 17 - 1                    # M (stochastic threshold mask)

#: The one table of neuron parameter ranges (NeuronParams fields, inclusive bounds).
NEURON_FIELD_RANGES: dict[str, tuple[int, int]] = {
    "threshold": (THRESHOLD_MIN, THRESHOLD_MAX),
    "neg_threshold": (NEG_THRESHOLD_MIN, NEG_THRESHOLD_MAX),
    "leak": (LEAK_MIN, LEAK_MAX),
    "leak_reversal": (0, 1),
    "reset_mode": (0, 2),
    "reset_value": (RESET_MIN, RESET_MAX),
    "neg_saturate": (0, 1),
    "threshold_mask": (0, THRESHOLD_MASK_MAX),
    "stochastic_leak": (0, 1),
}


def check_range(name: str, value, lo: int, hi: int, where: str = "") -> None:
    """Refuse any element of ``value`` outside ``[lo, hi]``, naming the field and limit."""
    arr = np.asarray(value)
    if arr.size == 0:
        return
    if not np.issubdtype(arr.dtype, np.integer):
        if not np.all(np.equal(np.mod(arr, 1), 0)):
            raise HardwareLimitError(f"{where}{name} must be an integer, got {arr.ravel()[0]!r}")
    bad = (arr < lo) | (arr > hi)
    if np.any(bad):
        pos = np.argwhere(bad)[0]
        val = arr[tuple(pos)] if arr.ndim else arr
        at = f" at index {tuple(int(i) for i in pos)}" if arr.ndim else ""
        raise HardwareLimitError(
            f"{where}{name}={int(val)}{at} is outside the hardware range {lo}…{hi}"
        )
