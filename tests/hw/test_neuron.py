"""The neuron update against a naive scalar reference written from the equations."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from reference.naive_truenorth import naive_step

from rnn2snn.errors import HardwareLimitError
from rnn2snn.program.neuron import NeuronParams, step
from rnn2snn.targets.truenorth.limits import V_MAX, V_MIN

neuron = st.fixed_dictionaries({
    "alpha": st.integers(1, 300), "beta": st.integers(0, 300), "leak": st.integers(-255, 255),
    "eps": st.integers(0, 1), "gamma": st.integers(0, 2), "r": st.integers(-100, 100),
    "kappa": st.integers(0, 1),
})


@settings(max_examples=200, deadline=None)
@given(neurons=st.lists(neuron, min_size=1, max_size=6),
       inputs=st.lists(st.lists(st.integers(-600, 600), min_size=6, max_size=6),
                       min_size=1, max_size=30),
       v0=st.integers(-2000, 2000))
def test_step_matches_naive_reference(neurons, inputs, v0):
    n = len(neurons)
    p = NeuronParams.make(
        n, threshold=[x["alpha"] for x in neurons], neg_threshold=[x["beta"] for x in neurons],
        leak=[x["leak"] for x in neurons], leak_reversal=[x["eps"] for x in neurons],
        reset_mode=[x["gamma"] for x in neurons], reset_value=[x["r"] for x in neurons],
        neg_saturate=[x["kappa"] for x in neurons])
    v = np.full(n, v0, dtype=np.int64)
    ref = [v0] * n
    for row in inputs:
        syn = np.array(row[:n], dtype=np.int64)
        spikes, v = step(v, syn, p)
        for j, x in enumerate(neurons):
            s, ref[j] = naive_step(ref[j], int(syn[j]), x["alpha"], x["beta"], x["leak"],
                                   x["eps"], x["gamma"], x["r"], x["kappa"])
            assert bool(spikes[j]) == s
        assert v.tolist() == ref


def test_membrane_saturates_at_20_bits():
    p = NeuronParams.make(1, threshold=2**18 - 1, neg_threshold=2**18 - 1, neg_saturate=0,
                          reset_mode=2)
    _, v = step(np.array([V_MAX - 5]), np.array([100]), p)
    assert v[0] == V_MAX  # V_MAX ≥ α, but reset mode 2 keeps it; saturated, not wrapped
    _, v = step(np.array([V_MIN + 5]), np.array([-100]), p)
    assert v[0] == V_MIN


def test_linear_reset_counts_floor():
    p = NeuronParams.make(1, threshold=7)
    v = np.array([0])
    total = 0
    for _ in range(10):  # 5 per tick: never more than one spike due per tick
        s, v = step(v, np.array([5]), p)
        total += int(s[0])
    assert total == (10 * 5) // 7 and v[0] == 50 - 7 * total


def test_stochastic_modes_are_seeded():
    p = NeuronParams.make(4, threshold=20, leak=100, stochastic_leak=1, threshold_mask=15)
    runs = []
    for _ in range(2):
        rng = np.random.default_rng(5)
        v, out = np.zeros(4, dtype=np.int64), []
        for _ in range(50):
            s, v = step(v, np.array([3, 5, 7, 9]), p, rng)
            out.append(s.copy())
        runs.append(np.array(out))
    assert np.array_equal(runs[0], runs[1]) and runs[0].any()
    with pytest.raises(ValueError, match="rng"):
        step(np.zeros(4, dtype=np.int64), np.zeros(4, dtype=np.int64), p)


@pytest.mark.parametrize("field,value,limit", [
    ("threshold", 0, "1…262143"), ("threshold", 2**18, "1…262143"),
    ("leak", 256, "-255…255"), ("reset_mode", 3, "0…2"), ("neg_threshold", -1, "0…262143"),
])
def test_out_of_range_parameters_are_refused(field, value, limit):
    kwargs = {"threshold": 10, field: value}
    with pytest.raises(HardwareLimitError, match=f"{field}={value}.*{limit}"):
        NeuronParams.make(2, **kwargs)
