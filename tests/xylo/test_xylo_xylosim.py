"""Our simulator against xylosim (SynSense's bit-accurate C++ simulator, run through rockpool's XyloSim).

Every recorded array, every tick: hidden spike counts, Vmem, Isyn, Isyn2, output spikes,
output Vmem and Isyn — 0 mismatches, on random small specs for both chips.
"""

from __future__ import annotations

import sys

import numpy as np
import pytest
from extras import needs
from hypothesis import HealthCheck, given, settings
from xylo_cases import random_spec, rasters, specs

pytestmark = [needs("xylosim"), needs("rockpool")]
KEYS = ("spikes", "vmem", "isyn", "isyn2", "out_spikes", "vmem_out", "isyn_out")


def mismatches(spec, counts) -> dict[str, int]:
    from rnn2snn.targets.xylo.xylosim_run import compare_with_xylosim

    comparison = compare_with_xylosim(spec, counts, batch_size=2)
    assert comparison.compared["spikes"] == counts.size // 16 * spec.n_hidden  # every tick, neuron, example
    return comparison.mismatches


@pytest.mark.parametrize("chip, synapses, n_outputs", [("xylo-audio2", 2, 8), ("xylo-imu", 1, 16)])
def test_random_networks_match_xylosim_tick_for_tick(chip, synapses, n_outputs):
    rng = np.random.default_rng(18)
    for _ in range(10):
        spec = random_spec(rng, n_hidden=24, n_outputs=n_outputs, synapses=synapses, chip=chip,
                           shifts=(0, 10))
        counts = rng.integers(0, 18, (3, 25, 16)) * (rng.random((3, 25, 16)) < 0.4)
        assert mismatches(spec, counts) == dict.fromkeys(KEYS, 0)


def test_a_difference_is_counted():
    from dataclasses import replace

    from rnn2snn.targets.xylo.simulate import simulate
    from rnn2snn.targets.xylo.xylosim_run import run_xylosim

    rng = np.random.default_rng(2)
    spec = random_spec(rng, n_hidden=10, n_outputs=3)
    counts = rng.integers(0, 16, (2, 12, 16))
    other = replace(spec, threshold=spec.threshold + 1)
    ours, theirs = simulate(spec, counts), run_xylosim(other, counts)
    assert np.count_nonzero(ours.vmem != theirs.vmem) > 0


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(spec=specs(max_hidden=6, max_outputs=4), raster=rasters(max_ticks=10))
def test_any_spec_matches_xylosim(spec, raster):
    """Extreme values too: thresholds <= 0, biases at ±2¹⁵, shifts up to 15 (wrapping)."""
    assert mismatches(spec, raster[None]) == dict.fromkeys(KEYS, 0)


def test_samna_is_never_imported():
    from rnn2snn.targets.xylo.xylosim_run import xylosim_class

    xylosim_class("xylo-audio2")
    xylosim_class("xylo-imu")
    assert "samna" not in sys.modules
    assert "rockpool.devices.xylo" not in sys.modules  # the stand-in parents are removed again
