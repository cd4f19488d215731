"""The NumPy tick against an independent per-event model (tests/reference/naive_xylo.py) and known cases."""

from __future__ import annotations

import numpy as np
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from reference.naive_xylo import naive_run
from xylo_cases import random_spec, rasters, specs

from rnn2snn.targets.xylo.neuron import decay, receive, replay, shifted
from rnn2snn.targets.xylo.simulate import simulate

KEYS = ("spikes", "vmem", "isyn", "isyn2", "out_spikes", "vmem_out", "isyn_out")


def naive(spec, raster):
    dash_syns = [[int(spec.dash_syn[j]), int(spec.dash_syn_2[j])][: spec.n_synapses]
                 for j in range(spec.n_hidden)]
    return naive_run(spec.weights_in.tolist(), spec.weights_rec.tolist(), spec.weights_out.tolist(),
                     spec.dash_mem.tolist(), dash_syns, spec.threshold.tolist(), spec.bias.tolist(),
                     spec.dash_mem_out.tolist(), spec.dash_syn_out.tolist(), spec.threshold_out.tolist(),
                     spec.bias_out.tolist(), spec.weight_shift_in, spec.weight_shift_rec,
                     spec.weight_shift_out, raster.tolist())


def assert_same(spec, raster):
    ours = simulate(spec, raster[None])
    theirs = naive(spec, raster)
    for key in KEYS:
        np.testing.assert_array_equal(getattr(ours, key)[0], np.array(theirs[key]).reshape(len(raster), -1),
                                      err_msg=key)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(spec=specs(), raster=rasters())
def test_tick_equals_the_per_event_model(spec, raster):
    assert_same(spec, raster)


def test_tick_equals_the_per_event_model_on_busy_networks():
    """Larger shifts and dense inputs: states saturate and shifted weights wrap, often."""
    rng = np.random.default_rng(7)
    saturated = 0
    for _ in range(12):
        spec = random_spec(rng, n_hidden=8, n_outputs=3, shifts=(6, 16))
        raster = rng.integers(0, 16, (10, 16))
        assert_same(spec, raster)
        saturated += int(np.abs(simulate(spec, raster[None]).isyn).max() == 2**15 - 1
                         or np.abs(simulate(spec, raster[None]).isyn).min() == -(2**15))
    assert saturated >= 3  # the cases the shortcut in `receive` must replay event by event


def test_decay_rounds_toward_minus_infinity_and_moves_at_least_one():
    values = np.array([-3, -1, 0, 1, 3, 1024, -(2**15)])
    np.testing.assert_array_equal(decay(values, np.full(7, 1)), [-2, -1, 0, 1, 1, 512, -(2**14)])
    np.testing.assert_array_equal(decay(values, np.full(7, 15)), [-1, -1, 0, 1, 1, 1, -1])


def test_saturation_is_per_event_in_source_order():
    """32000 + 1000 saturates at 32767 before the −1000 of the next source: 31767, not 32000."""
    weights = np.array([[1000], [-1000]])
    assert receive(np.array([[32000]]), np.array([[1, 1]]), weights)[0, 0] == 31767
    assert receive(np.array([[32000]]), np.array([[0, 1]]), weights)[0, 0] == 31000
    # the other order: −1000 first never saturates
    assert receive(np.array([[32000]]), np.array([[1, 1]]), weights[::-1])[0, 0] == 32000


@given(start=st.integers(-(2**15), 2**15 - 1),
       steps=st.lists(st.integers(-(2**17), 2**17), min_size=0, max_size=40))
def test_replay_equals_adding_one_step_at_a_time(start, steps):
    expected = start
    for d in steps:
        expected = min(max(expected + d, -(2**15)), 2**15 - 1)
    got = replay(np.array([start]), np.array([steps], np.int64).reshape(1, len(steps)))
    assert got.tolist() == [expected]


def test_shifted_weights_wrap_in_16_bits():
    np.testing.assert_array_equal(shifted(np.array([127, -128, 1]), 9), [-512, 0, 512])
    np.testing.assert_array_equal(shifted(np.array([127, -128]), 8), [32512, -32768])


def test_input_reaches_hidden_at_once_and_recurrence_takes_one_tick():
    rng = np.random.default_rng(0)
    spec = random_spec(rng, n_hidden=2, n_outputs=1, density=0.0)
    w_in = np.zeros((16, 2, 2), np.int64)
    w_in[0, 0, 0] = 100
    w_rec = np.zeros((2, 2, 2), np.int64)
    w_rec[0, 1, 0] = 100
    w_out = np.array([[0], [100]])
    from dataclasses import replace
    spec = replace(spec, weights_in=w_in, weights_rec=w_rec, weights_out=w_out, dash_syn=np.array([0, 0]),
                   dash_mem=np.array([15, 15]), threshold=np.array([100, 100]), bias=np.zeros(2),
                   dash_syn_out=np.array([0]), dash_mem_out=np.array([15]), threshold_out=np.array([100]),
                   bias_out=np.zeros(1), weight_shift_in=0, weight_shift_rec=0, weight_shift_out=0)
    raster = np.zeros((4, 16), np.int64)
    raster[0, 0] = 1
    run = simulate(spec, raster[None])
    # dash_syn 0 clears the current in the tick it arrives, so the input must be larger
    assert run.spikes[0, :, 0].tolist() == [0, 0, 0, 0]
    spec = replace(spec, dash_syn=np.array([1, 1]), dash_syn_out=np.array([1]), weights_in=w_in * 2,
                   weights_rec=w_rec * 2, weights_out=w_out * 2)
    run = simulate(spec, raster[None])
    assert run.spikes[0, :, 0].tolist() == [1, 0, 0, 0]  # 200 - 100 = 100 >= 100: same tick
    assert run.spikes[0, :, 1].tolist() == [0, 1, 0, 0]  # one tick later
    assert run.out_spikes[0, :, 0].tolist() == [0, 0, 1, 0]  # and one more to the output
