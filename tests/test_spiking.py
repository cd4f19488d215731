"""Spike counts against the integer network where the theory says they must agree."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from rnn2snn.errors import HardwareLimitError
from rnn2snn.program.integer import IntegerRNN
from rnn2snn.program.network import SpikingConfig, convert, schedule_mask, simulate, split_weights


@given(st.integers(-8, 7))
def test_split_weights_reassembles(w):
    bits = split_weights(np.array([w]))
    assert set(bits.ravel()) <= {0, 1}
    assert int(np.dot([1, 2, 4, -8], bits[:, 0])) == w


def test_split_weights_refuses_more_than_16_levels():
    with pytest.raises(HardwareLimitError, match="16 levels"):
        split_weights(np.array([8]))


@pytest.mark.parametrize("schedule", ["early", "late", "spread"])
def test_schedules_emit_exactly_the_level(schedule):
    levels = np.arange(16)
    m = schedule_mask(levels, 15, schedule)
    assert np.array_equal(m.sum(-1), levels)


def random_net(draw_w_in, w_rec, alpha):
    return IntegerRNN(w_in=np.array(draw_w_in, dtype=np.int64),
                      w_rec=np.array(w_rec, dtype=np.int64), threshold=alpha)


@settings(max_examples=60, deadline=None)
@given(data=st.data(), h=st.integers(1, 5), p=st.integers(1, 6), alpha=st.integers(1, 40))
def test_first_word_counts_equal_activity_for_excitatory_inputs(data, h, p, alpha):
    """Non-negative input weights and the early schedule: cumulative input is concave in time,
    so the neuron never lags and the first window's count is clip(floor(I/α), 0, 15) exactly
    (recurrent spikes need d = T ticks and arrive only in the next window)."""
    w_in = data.draw(st.lists(st.lists(st.integers(0, 7), min_size=p, max_size=p),
                              min_size=h, max_size=h))
    w_rec = data.draw(st.lists(st.lists(st.integers(-8, 7), min_size=h, max_size=h),
                               min_size=h, max_size=h))
    net = random_net(w_in, w_rec, alpha)
    x = np.array(data.draw(st.lists(st.lists(st.integers(0, 15), min_size=p, max_size=p),
                                    min_size=3, max_size=3)))[None, :, :]
    lengths = np.array([3])
    act = net.run(x, lengths)
    rec = simulate(convert(net, SpikingConfig()), x, lengths)
    assert np.array_equal(rec.counts[0, 0], act[0, 0])


@settings(max_examples=40, deadline=None)
@given(data=st.data(), h=st.integers(1, 4), p=st.integers(1, 4), steps=st.integers(1, 6))
def test_every_word_exact_without_recurrence_at_unit_threshold(data, h, p, steps):
    """α = 1 leaves no residual potential between windows; with excitatory inputs and no
    recurrence every window's count is the activity."""
    w_in = data.draw(st.lists(st.lists(st.integers(0, 3), min_size=p, max_size=p),
                              min_size=h, max_size=h))
    net = random_net(w_in, np.zeros((h, h)), 1)
    x = np.array(data.draw(st.lists(st.lists(st.integers(0, 15), min_size=p, max_size=p),
                                    min_size=steps, max_size=steps)))[None]
    x = np.minimum(x, 15 // max(1, int(np.max(w_in)) * p))  # keep every input ≤ 15
    lengths = np.array([steps])
    act = net.run(x, lengths)
    rec = simulate(convert(net, SpikingConfig()), x, lengths)
    assert np.array_equal(rec.counts, act)


def test_zero_input_gives_no_spikes():
    net = random_net(np.full((3, 4), 5), np.full((3, 3), 7), 3)
    rec = simulate(convert(net, SpikingConfig()), np.zeros((2, 5, 4), dtype=np.int64),
                   np.array([5, 2]), record=True)
    assert rec.counts.sum() == 0 and not rec.raster.any()


def test_counts_stop_at_each_question_end():
    net = random_net(np.full((2, 2), 7), np.full((2, 2), 7), 1)
    x = np.full((2, 3, 2), 15, dtype=np.int64)
    rec = simulate(convert(net, SpikingConfig()), x, np.array([3, 1]))
    assert rec.counts[1, 1:].sum() == 0  # the one-word question has nothing after its word
    assert (rec.counts[0] == 15).all()  # saturated: 15 spikes in each window, each neuron


@pytest.mark.parametrize("kwargs,match", [
    ({"ticks_per_word": 14}, "levels − 1"),
    ({"delay": 0}, "delay=0 .*1…15"),
    ({"delay": 16}, "delay=16 .*1…15"),
    ({"neg_delay": 16}, "neg_delay=16"),
])
def test_timing_the_hardware_cannot_hold_is_refused(kwargs, match):
    net = random_net(np.ones((1, 1)), np.ones((1, 1)), 1)
    with pytest.raises(HardwareLimitError, match=match):
        convert(net, SpikingConfig(**kwargs))


@settings(max_examples=60, deadline=None)
@given(data=st.data(), h=st.integers(1, 4), p=st.integers(1, 5), alpha=st.integers(1, 40),
       steps=st.integers(1, 6))
def test_carried_membrane_makes_every_word_exact_without_recurrence(data, h, p, alpha, steps):
    """Excitatory inputs at the window's start, no recurrence, any α: the spiking layer
    keeps each window's remainder (and any excess over 15 spikes) for the next word; the
    integer network with ``carry_residual`` does the same, so every window's count is its
    activity. (Spread inputs can arrive too late in the window to be spiked out in it.)"""
    w_in = data.draw(st.lists(st.lists(st.integers(0, 7), min_size=p, max_size=p),
                              min_size=h, max_size=h))
    net = IntegerRNN(w_in=np.array(w_in, dtype=np.int64), w_rec=np.zeros((h, h), dtype=np.int64),
                     threshold=alpha, carry_residual=True)
    x = np.array(data.draw(st.lists(st.lists(st.integers(0, 15), min_size=p, max_size=p),
                                    min_size=steps, max_size=steps)))[None]
    lengths = np.array([steps])
    rec = simulate(convert(net, SpikingConfig()), x, lengths)
    assert np.array_equal(rec.counts, net.run(x, lengths))


def test_carried_residual_matches_a_scalar_reference():
    """The carried integer network against a plain loop over one neuron: remainder kept,
    inhibition floored at −α, the excess above the top level kept too."""
    rng = np.random.default_rng(3)
    for _ in range(50):
        alpha = int(rng.integers(1, 30))
        w_in = rng.integers(-8, 8, size=(1, 3))
        w_rec = rng.integers(-8, 8, size=(1, 1))
        x = rng.integers(0, 16, size=(1, 7, 3))
        net = IntegerRNN(w_in=w_in, w_rec=w_rec, threshold=alpha, carry_residual=True)
        got = net.run(x, np.array([7]))[0, :, 0]
        a, r, want = 0, 0, []
        for t in range(7):
            u = int(x[0, t] @ w_in[0]) + int(w_rec[0, 0]) * a + r
            a = min(max(u // alpha, 0), 15)
            r = max(u - alpha * a, -alpha)
            want.append(a)
        assert got.tolist() == want
