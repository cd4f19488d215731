"""The NIR target's constraints: TrueNorth's sizes (the program is TrueNorth-class) with the
neuron NIR's ``IF`` and Norse run exactly — reset to zero, no negative floor."""

from __future__ import annotations

from dataclasses import replace

from rnn2snn.program.constraints import TRUENORTH

CONSTRAINTS = replace(TRUENORTH, name="nir", reset_mode=0, negative_floor=False)
