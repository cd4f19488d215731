"""The network-level simulator, the weight split and the input schedules, against the naive
scalar reference (tests/reference/naive_truenorth.py) under every timing option: excitatory and
inhibitory delays that differ, flush ticks, a separate schedule for the inhibitory axons,
late and spread schedules, β ≠ α and a non-saturating negative threshold."""

from __future__ import annotations

import numpy as np
import pytest
from reference.naive_truenorth import naive_network, naive_schedule, naive_split

from rnn2snn.errors import HardwareLimitError
from rnn2snn.program.integer import IntegerRNN
from rnn2snn.program.network import (
    SCHEDULES,
    TYPE_WEIGHTS,
    SpikingConfig,
    convert,
    schedule_mask,
    simulate,
    split_weights,
)
from rnn2snn.program.neuron import NeuronParams


def test_split_weights_every_level_by_hand():
    """Types S = (1, 2, 4, −8): −8 carries the sign, 1/2/4 the rest in binary."""
    w = np.arange(-8, 8)
    bits = split_weights(w)
    assert bits.shape == (4, 16) and bits.dtype == np.int64
    for k, x in enumerate(range(-8, 8)):
        pos, neg = naive_split(x)
        assert bits[3, k] == (neg == -8)
        assert [bits[0, k], bits[1, k], bits[2, k]] == [pos & 1, (pos >> 1) & 1, (pos >> 2) & 1]
        assert int(np.dot(TYPE_WEIGHTS, bits[:, k])) == x
    assert split_weights(np.array([[7, -1], [-8, 0]])).tolist() == [
        [[1, 1], [0, 0]], [[1, 1], [0, 0]], [[1, 1], [0, 0]], [[0, 1], [1, 0]]]
    assert split_weights(np.zeros((0, 3), dtype=np.int64)).shape == (4, 0, 3)


@pytest.mark.parametrize("w,text", [(8, "weights 0…8"), (-9, "weights -9…0")])
def test_split_weights_refuses_17th_level(w, text):
    with pytest.raises(HardwareLimitError, match=rf"^{text} do not fit 16 levels −8…7 on 4 axon types$"):
        split_weights(np.array([0, w]))
    split_weights(np.array([-8, 7]))


def test_split_weights_refuses_other_type_weights():
    with pytest.raises(ValueError, match=r"^only the type weights \(1, 2, 4, -8\) are supported$"):
        split_weights(np.array([1]), type_weights=(1, 2, 4, -7))
    assert split_weights(np.array([3]), type_weights=[1, 2, 4, -8]).ravel().tolist() == [1, 1, 0, 0]


@pytest.mark.parametrize("ticks", [15, 16, 20])
@pytest.mark.parametrize("schedule", SCHEDULES)
def test_schedule_mask_places_exactly_the_level(ticks, schedule):
    levels = np.arange(16)
    m = schedule_mask(levels, ticks, schedule)
    assert m.shape == (16, ticks) and m.dtype == bool
    for c in levels:
        assert set(np.flatnonzero(m[c]).tolist()) == naive_schedule(int(c), ticks, schedule)


def test_schedule_mask_by_hand():
    assert schedule_mask(np.array(3), 5, "early").astype(int).tolist() == [1, 1, 1, 0, 0]
    assert schedule_mask(np.array(3), 5, "late").astype(int).tolist() == [0, 0, 1, 1, 1]
    assert schedule_mask(np.array(2), 6, "spread").astype(int).tolist() == [0, 0, 1, 0, 0, 1]
    assert schedule_mask(np.array(3), 6, "spread").astype(int).tolist() == [0, 1, 0, 1, 0, 1]
    assert schedule_mask(np.array([[1, 5]]), 5, "spread").astype(int).tolist() == [
        [[0, 0, 0, 0, 1], [1, 1, 1, 1, 1]]]
    with pytest.raises(ValueError, match=r"^input schedule must be one of \('early', 'late', "
                                         r"'spread'\), got 'middle'$"):
        schedule_mask(np.array([1]), 5, "middle")


# ---------------------------------------------------------------------------------------------

TIMINGS = [
    dict(),
    dict(delay=14, neg_delay=15),
    dict(delay=15, neg_delay=13),
    dict(delay=3, neg_delay=9),
    dict(delay=1, neg_delay=1),
    dict(delay=9, neg_delay=2),
    dict(flush_ticks=4),
    dict(flush_ticks=7, delay=5, neg_delay=11),
    dict(input_schedule="late"),
    dict(input_schedule="spread"),
    dict(neg_input_schedule="late"),
    dict(input_schedule="spread", neg_input_schedule="early"),
    dict(input_schedule="early", neg_input_schedule="spread"),
    dict(input_schedule="late", neg_input_schedule="spread", delay=12, neg_delay=15, flush_ticks=3),
    dict(ticks_per_word=17, delay=15, neg_delay=15),
    dict(ticks_per_word=16, input_schedule="spread", neg_input_schedule="late", flush_ticks=2),
    dict(neg_threshold=3),
    dict(neg_threshold=0, delay=7),
    dict(neg_saturate=0),
    dict(neg_saturate=0, neg_threshold=2, neg_delay=4, input_schedule="spread"),
    dict(reset_mode=0),
    dict(reset_mode=0, neg_saturate=0, delay=6, flush_ticks=5),
]


def random_case(rng, h_max=4, p_max=4):
    h, p = int(rng.integers(1, h_max + 1)), int(rng.integers(1, p_max + 1))
    w_in = rng.integers(-8, 8, size=(h, p))
    w_rec = rng.integers(-8, 8, size=(h, h))
    alpha = rng.integers(1, 13, size=h)
    batch, steps = int(rng.integers(1, 4)), int(rng.integers(1, 5))
    x = rng.integers(0, 16, size=(batch, steps, p))
    lengths = rng.integers(1, steps + 1, size=batch)
    lengths[0] = steps
    return IntegerRNN(w_in=w_in, w_rec=w_rec, threshold=alpha), x, lengths


@pytest.mark.parametrize("timing", TIMINGS, ids=[str(t) or "default" for t in TIMINGS])
def test_simulate_matches_naive_reference(timing):
    cfg = SpikingConfig(**timing)
    rng = np.random.default_rng(sum(map(ord, str(timing))))
    for _ in range(12):
        net, x, lengths = random_case(rng)
        snn = convert(net, cfg)
        rec = simulate(snn, x, lengths, record=True)
        w = net.weights.tolist()
        alpha = net.threshold.tolist()
        beta = alpha if cfg.neg_threshold is None else [cfg.neg_threshold] * net.n_hidden
        kappa = [cfg.neg_saturate] * net.n_hidden
        T = cfg.ticks_per_word
        assert rec.ticks == x.shape[1] * T + cfg.flush_ticks
        assert rec.raster.shape == (len(lengths), rec.ticks, net.n_hidden) and rec.raster.dtype == bool
        assert rec.counts.dtype == np.int64
        for b, n in enumerate(lengths):
            counts, raster = naive_network(w, net.n_inputs, alpha, beta, kappa, x[b].tolist(), int(n), T,
                                           cfg.delay, cfg.neg_delay, cfg.input_schedule,
                                           cfg.neg_input_schedule, cfg.flush_ticks, cfg.reset_mode)
            assert rec.counts[b, :n].tolist() == counts
            assert not rec.counts[b, n:].any()
            assert rec.raster[b, : len(raster)].tolist() == raster


def test_swapped_delays_change_the_spikes():
    """A hand-made pair: neuron 0 fires at tick 0 and feeds neuron 1 with −1 = −8 + 7. With the
    inhibitory part arriving first, neuron 1 (at 3 above its threshold) is pushed below and
    recovers; arriving last, it fires on the excitation first."""
    net = IntegerRNN(w_in=np.array([[1], [0]]), w_rec=np.array([[0, 0], [-1, 0]]), threshold=1)
    x = np.zeros((1, 2, 1), dtype=np.int64)
    x[0, 0, 0] = 1
    early_inh = simulate(convert(net, SpikingConfig(delay=15, neg_delay=5)), x, [2], record=True)
    late_inh = simulate(convert(net, SpikingConfig(delay=5, neg_delay=15)), x, [2], record=True)
    # neuron 0 spikes at tick 0 only. delay 5 / neg 15: +7 at tick 5 → 7 spikes (ticks 5…11),
    # then −8 at tick 15 → saturates at −1, nothing more.
    assert np.flatnonzero(late_inh.raster[0, :, 1]).tolist() == list(range(5, 12))
    # neg 5 / delay 15: −8 at tick 5 → −1 (β = α = 1); +7 at tick 15 → 6 → spikes 15…20.
    assert np.flatnonzero(early_inh.raster[0, :, 1]).tolist() == list(range(15, 21))
    assert late_inh.counts[0].tolist() == [[1, 7], [0, 0]]
    assert early_inh.counts[0].tolist() == [[1, 0], [0, 6]]


def test_flush_ticks_count_for_the_last_word_of_each_question():
    net = IntegerRNN(w_in=np.array([[1], [0]]), w_rec=np.array([[0, 0], [1, 0]]), threshold=1)
    x = np.zeros((2, 3, 1), dtype=np.int64)
    x[0, 2, 0] = 4  # question 0: 4 spikes of neuron 0 in its last word, ticks 30…33
    x[1, 0, 0] = 4  # question 1 (one word): ticks 0…3
    cfg = SpikingConfig(delay=15, neg_delay=15, flush_ticks=15)
    rec = simulate(convert(net, cfg), x, np.array([3, 1]))
    # neuron 1 receives them 15 ticks later: in the flush ticks, counted for the last word
    assert rec.counts[0].tolist() == [[0, 0], [0, 0], [4, 4]]
    assert rec.counts[1].tolist() == [[4, 4], [0, 0], [0, 0]]
    rec = simulate(convert(net, SpikingConfig()), x, np.array([3, 1]))
    assert rec.counts[0].tolist() == [[0, 0], [0, 0], [4, 0]]
    assert rec.counts[1].tolist() == [[4, 0], [0, 0], [0, 0]]  # its neuron 1 fires after its end


def test_negative_schedule_is_used_for_the_inhibitory_axons_only():
    """w = −3 = −8 + 5: the −8 part follows neg_input_schedule, the +5 part input_schedule."""
    net = IntegerRNN(w_in=np.array([[-3]]), w_rec=np.zeros((1, 1), dtype=np.int64), threshold=5)
    x = np.array([[[2]]])
    cfg = SpikingConfig(input_schedule="early", neg_input_schedule="late", neg_threshold=100)
    rec = simulate(convert(net, cfg), x, [1], record=True)
    # ticks 0, 1: +5 each → spikes at 0 and 1; ticks 13, 14: −8 each
    assert np.flatnonzero(rec.raster[0, :, 0]).tolist() == [0, 1]
    cfg = SpikingConfig(input_schedule="late", neg_input_schedule="early", neg_threshold=100)
    rec = simulate(convert(net, cfg), x, [1], record=True)
    # −16 first, then +10: never reaches 5
    assert not rec.raster.any()


def test_inputs_after_the_end_are_ignored():
    net = IntegerRNN(w_in=np.array([[7]]), w_rec=np.zeros((1, 1), dtype=np.int64), threshold=7)
    x = np.full((2, 3, 1), 15)
    rec = simulate(convert(net, SpikingConfig()), x, np.array([3, 1]), record=True)
    assert rec.counts[:, :, 0].tolist() == [[15, 15, 15], [15, 0, 0]]
    assert rec.raster[1, 15:].sum() == 0 and rec.raster[1].sum() == 15
    assert simulate(convert(net, SpikingConfig()), x, np.array([3, 1])).raster is None


def test_convert_builds_the_neurons_and_the_crossbar():
    net = IntegerRNN(w_in=np.array([[3, -2], [0, 7]]), w_rec=np.array([[0, -8], [1, 0]]),
                     threshold=np.array([4, 9]), levels=16, groups=((0,), (1,)))
    snn = convert(net, SpikingConfig(neg_saturate=0))
    assert snn.n_inputs == 2 and snn.n_hidden == 2 and snn.levels == 16 and snn.groups == ((0,), (1,))
    assert np.array_equal(np.tensordot(TYPE_WEIGHTS, snn.bits, axes=1), net.weights)
    n = snn.neurons
    assert n.threshold.tolist() == [4, 9] and n.neg_threshold.tolist() == [4, 9]
    assert n.reset_mode.tolist() == [1, 1] and n.neg_saturate.tolist() == [0, 0]
    assert n.leak.tolist() == [0, 0]
    snn = convert(net, SpikingConfig(neg_threshold=2))
    assert snn.neurons.neg_threshold.tolist() == [2, 2] and snn.neurons.neg_saturate.tolist() == [1, 1]
    snn = convert(IntegerRNN(w_in=np.ones((1, 1)), w_rec=np.ones((1, 1)), threshold=1, levels=4),
                  SpikingConfig(ticks_per_word=3))
    assert snn.levels == 4
    assert SpikingConfig(delay=3).to_dict()["delay"] == 3
    snn = convert(net, SpikingConfig(reset_mode=0))
    assert snn.neurons.reset_mode.tolist() == [0, 0] and snn.neurons.reset_value.tolist() == [0, 0]


@pytest.mark.parametrize("kwargs,error,text", [
    ({"ticks_per_word": 14}, HardwareLimitError,
     "ticks_per_word=14 is below levels − 1 = 15: a neuron fires at most once a tick, so it could "
     "not emit every level"),
    ({"delay": 0}, HardwareLimitError, "delay=0 is outside the hardware range 1…15"),
    ({"delay": 16}, HardwareLimitError, "delay=16 is outside the hardware range 1…15"),
    ({"neg_delay": 0}, HardwareLimitError, "neg_delay=0 is outside the hardware range 1…15"),
    ({"neg_delay": 16}, HardwareLimitError, "neg_delay=16 is outside the hardware range 1…15"),
    ({"input_schedule": "x"}, ValueError,
     "input_schedule must be one of ('early', 'late', 'spread'), got 'x'"),
    ({"neg_input_schedule": "y"}, ValueError,
     "neg_input_schedule must be one of ('early', 'late', 'spread'), got 'y'"),
    ({"flush_ticks": -1}, ValueError, "flush_ticks must be ≥ 0, got -1"),
    ({"reset_mode": 2}, ValueError, "reset_mode must be 0 (to zero) or 1 (linear), got 2"),
])
def test_timing_out_of_range_is_refused(kwargs, error, text):
    net = IntegerRNN(w_in=np.ones((1, 1)), w_rec=np.ones((1, 1)), threshold=1)
    with pytest.raises(error) as info:
        convert(net, SpikingConfig(**kwargs))
    assert str(info.value) == text
    ok = {"ticks_per_word": 15, "delay": 1, "neg_delay": 15, "flush_ticks": 0, "reset_mode": 0}
    for k in kwargs:
        if k in ok:
            SpikingConfig(**{k: ok[k]}).validate()
    SpikingConfig(delay=15, neg_delay=1).validate()
    SpikingConfig(ticks_per_word=7).validate(levels=8)


def test_simulate_refuses_inputs_it_cannot_run():
    snn = convert(IntegerRNN(w_in=np.ones((1, 2)), w_rec=np.ones((1, 1)), threshold=1))
    with pytest.raises(ValueError, match=r"^x has 3 inputs per word, the network 2$"):
        simulate(snn, np.zeros((1, 1, 3), dtype=np.int64), [1])
    with pytest.raises(ValueError, match=r"^input levels must lie in 0…15$"):
        simulate(snn, np.full((1, 1, 2), 16), [1])
    with pytest.raises(ValueError, match=r"^input levels must lie in 0…15$"):
        simulate(snn, np.full((1, 1, 2), -1), [1])
    rec = simulate(snn, np.full((1, 1, 2), 15), [1])
    assert rec.counts.tolist() == [[[15]]]
    rec = simulate(snn, np.zeros((0, 2, 2), dtype=np.int64), np.zeros(0, dtype=np.int64))
    assert rec.counts.shape == (0, 2, 1)


def test_stochastic_neurons_in_the_network_use_the_rng():
    """A network whose neurons carry a stochastic threshold: the rng is passed to every step."""
    net = IntegerRNN(w_in=np.array([[7]]), w_rec=np.zeros((1, 1), dtype=np.int64), threshold=7)
    snn = convert(net)
    from dataclasses import replace

    noisy = replace(snn, neurons=NeuronParams.make(1, threshold=7, neg_threshold=7, threshold_mask=7))
    x = np.full((200, 1, 1), 15)
    a = simulate(noisy, x, np.ones(200, dtype=np.int64), rng=np.random.default_rng(1)).counts
    b = simulate(noisy, x, np.ones(200, dtype=np.int64), rng=np.random.default_rng(1)).counts
    assert np.array_equal(a, b) and a.min() < 15 and a.max() <= 15
