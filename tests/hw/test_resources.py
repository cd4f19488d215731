import numpy as np
import pytest

from rnn2snn.errors import HardwareLimitError
from rnn2snn.program.network import split_weights
from rnn2snn.targets.truenorth.power import activity_power_uw, core_share_power_uw
from rnn2snn.targets.truenorth.resources import count_resources


def test_hand_built_small_layer():
    # 2 inputs + 2 recurrent neurons. Weights (targets × sources):
    w = np.array([[3, 0, 0, -1],    # neuron 0: input 0 (types 1,2), rec 1 (types -8 and 1,2,4)
                  [0, -8, 1, 0]])   # neuron 1: input 1 (type -8), rec 0 (type 1)
    r = count_resources(split_weights(w), n_inputs=2)
    # axons: input0 {1,2}, input1 {-8}, rec0 {1}, rec1 {1,2,4,-8} -> 2 + 1 + 1 + 4
    assert (r.cores, r.axons, r.input_axons, r.recurrent_axons) == (1, 8, 3, 5)
    # neurons: rec0 feeds 1 axon + output = 2 copies; rec1 feeds 4 axons + output = 5
    assert r.neurons == 7


def test_paper_network_fills_one_core():
    rng = np.random.default_rng(0)
    w = rng.integers(-8, 8, size=(16, 64))
    w[:, :] = np.where(w == 0, 1, w)
    w[0, :] = [-1] * 64  # -1 = -8 + 7 uses all four types
    r = count_resources(split_weights(w), n_inputs=48)
    assert r.cores == 1 and r.axons == 256 and r.neurons == 16 * 5


def test_layer_larger_than_a_core_is_split():
    w = np.full((40, 100), -1)  # every source on all 4 types: 400 axons, too many for one core
    with pytest.raises(HardwareLimitError, match="256"):
        count_resources(split_weights(w), n_inputs=60)
    w = np.zeros((40, 100), dtype=np.int64)
    for j in range(40):
        w[j, (np.arange(60) + 3 * j) % 100] = -1  # 60 sources each on 4 types: 240 axons
    r = count_resources(split_weights(w), n_inputs=60)
    assert r.cores >= 2 and r.axons > 256


def test_power_core_share_and_activity():
    assert core_share_power_uw(1) == pytest.approx(70e3 / 4096)
    assert 15 <= core_share_power_uw(1) <= 20
    p = activity_power_uw(cores=1, synaptic_events=1000, spikes=100, ticks=1000)
    # 1 s: 1000 events × 2.3 pJ = 2.3 nW; 100 spikes × 2.3 pJ = 0.23 nW
    assert p.synaptic_uw == pytest.approx(2.3e-3) and p.spike_uw == pytest.approx(2.3e-4)
    assert p.static_uw == pytest.approx(42e3 / 4096)
    with pytest.raises(ValueError):
        core_share_power_uw(-1)


def test_block_fan_in_mask_respects_core_budgets():
    import torch

    from rnn2snn.constrain.steps import block_fan_in_mask

    rng = np.random.default_rng(1)
    w = torch.from_numpy(rng.normal(size=(64, 64 + 64)))
    mask, groups = block_fan_in_mask(w, n_inputs=64, n_cores=4, max_fan_in=64)
    mask = mask.numpy()
    assert [len(g) for g in groups] == [16] * 4
    for g in groups:
        rows = mask[g]
        assert (rows == rows[0]).all() and rows[0].sum() <= 64  # one source set per core
    # a worst case: every weight -1 uses all four axon types; the split still fits
    bits = split_weights(np.where(mask, -1, 0))
    r = count_resources(bits, 64, groups)
    assert r.cores == 4 and r.axons <= 4 * 256 and r.neurons <= 4 * 256


def test_groups_that_do_not_fit_are_refused():
    w = np.full((20, 300), -1)
    with pytest.raises(HardwareLimitError, match="core 0: its neurons read 1200 axons"):
        count_resources(split_weights(w), 280, [list(range(20))])
