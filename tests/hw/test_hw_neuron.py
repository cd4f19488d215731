"""The tick-level TrueNorth neuron pinned from its equations (docs/truenorth.md).

A table of fast-path cases (the converted networks' neurons: linear reset, saturating
negative threshold), the 20-bit membrane limits, a property test over the converted
networks' parameter family aimed at the threshold, the general path case by case, and
the stochastic modes against their probabilities. Expected values are worked out from
the equations, not read off the code.
"""

from __future__ import annotations

import math
import os
import re

import numpy as np
import pytest
from hypothesis import Phase, given, settings
from hypothesis import strategies as st
from reference.naive_truenorth import naive_step

from rnn2snn.errors import HardwareLimitError
from rnn2snn.program.neuron import RESET_LINEAR, RESET_NONE, RESET_TO_VALUE, NeuronParams, step

V_MAX, V_MIN = 2**19 - 1, -(2**19)  # 20-bit signed membrane
A_MAX = 2**18 - 1  # largest threshold the project accepts
FALSE_ALARM = 1e-6  # per statistical check
# Under mutation testing (benchmarks/mutation.py) a failing example is reported unshrunk:
# shrinking a mutant's failure takes longer than finding it.
PHASES = ((Phase.explicit, Phase.reuse, Phase.generate) if os.environ.get("MUTANT_UNDER_TEST")
          else tuple(Phase))


def within_chernoff(hits: int, n: int, p: float, false_alarm: float = FALSE_ALARM) -> bool:
    """Accept ``hits`` out of ``n`` Bernoulli(p) trials unless the two-sided Chernoff bound
    ``P(|X/n − p| ≥ |k/n − p|) ≤ 2·exp(−n·KL(k/n ‖ p))`` falls below ``false_alarm``."""
    q = hits / n
    if p in (0.0, 1.0):
        return q == p

    def term(a, b):
        return 0.0 if a == 0 else a * math.log(a / b)

    kl = term(q, p) + term(1 - q, 1 - p)
    return 2 * math.exp(-n * kl) > false_alarm


def fast(alpha, beta=None, n=1):
    """The converted networks' neuron: linear reset, saturation at −β (β = α by default)."""
    return NeuronParams.make(n, threshold=alpha, neg_threshold=alpha if beta is None else beta)


def one(v, i, p):
    s, v = step(np.array([v], dtype=np.int64), np.array([i], dtype=np.int64), p)
    return bool(s[0]), int(v[0])


# (α, β, V before, input) → (spike, V after), each worked out from steps 1-4.
FAST_TABLE = [
    ((7, 7, 0, 7), (True, 0)),          # V = α spikes, remainder 0
    ((7, 7, 0, 6), (False, 6)),         # α − 1 does not
    ((7, 7, 6, 1), (True, 0)),          # reaches α from below
    ((7, 7, 3, 12), (True, 8)),         # one spike a tick at most; V − α = 8 stays
    ((7, 7, 0, 21), (True, 14)),        # 3α in one tick: still one spike
    ((7, 7, 0, -7), (False, -7)),       # V = −β is not below −β
    ((7, 7, 0, -8), (False, -7)),       # V < −β ends at exactly −β
    ((7, 7, -7, -100), (False, -7)),    # saturated, however strong the inhibition
    ((7, 7, -7, 13), (False, 6)),       # from the floor back up
    ((7, 7, -7, 14), (True, 0)),
    ((1, 1, 0, 1), (True, 0)),          # the smallest threshold
    ((1, 1, 0, -2), (False, -1)),
    ((5, 0, 0, -1), (False, 0)),        # β = 0: no negative potential at all
    ((5, 2, 0, -2), (False, -2)),       # β ≠ α
    ((5, 2, 0, -3), (False, -2)),
    ((5, 9, 0, -10), (False, -9)),
    ((A_MAX, A_MAX, A_MAX - 1, 1), (True, 0)),
    ((A_MAX, A_MAX, 0, A_MAX - 1), (False, A_MAX - 1)),
    ((A_MAX, A_MAX, 0, -A_MAX - 1), (False, -A_MAX)),
    # 20-bit limit: V_MAX − 3 + 10 saturates at V_MAX first, then spikes: V_MAX − α
    ((A_MAX, A_MAX, V_MAX - 3, 10), (True, V_MAX - A_MAX)),
    ((A_MAX, A_MAX, V_MAX, 0), (True, V_MAX - A_MAX)),
    ((1000, 1000, V_MAX - 1, 5), (True, V_MAX - 1000)),
    ((1000, 1000, V_MAX - 1000, -1), (True, V_MAX - 2001)),
    # 20-bit limit below: V_MIN + 3 − 10 saturates at V_MIN, and V_MIN < −β ends at −β
    ((A_MAX, A_MAX, V_MIN + 3, -10), (False, -A_MAX)),
    ((A_MAX, A_MAX, V_MIN + 3, 2**19), (False, 3)),
]


@pytest.mark.parametrize("case,expected", FAST_TABLE)
def test_fast_path_table(case, expected):
    alpha, beta, v0, i = case
    p = fast(alpha, beta)
    assert p.uniform_linear_saturating and not p.stochastic_threshold
    assert one(v0, i, p) == expected
    # the scalar reference agrees on every row (it is written from the same equations)
    assert naive_step(v0, i, alpha, beta, 0, 0, 1, 0, 1) == expected


def test_fast_path_row_by_row_in_a_batch():
    """The whole table as one (B, N) call: per-neuron parameters line up with their columns."""
    cases = [c for c, _ in FAST_TABLE]
    n = len(cases)
    p = NeuronParams.make(n, threshold=[c[0] for c in cases], neg_threshold=[c[1] for c in cases])
    v = np.array([[c[2] for c in cases]] * 2, dtype=np.int64)
    i = np.array([[c[3] for c in cases]] * 2, dtype=np.int64)
    s, v1 = step(v, i, p)
    assert s.tolist() == [[e[0] for _, e in FAST_TABLE]] * 2
    assert v1.tolist() == [[e[1] for _, e in FAST_TABLE]] * 2
    assert v.tolist() == [[c[2] for c in cases]] * 2  # inputs not modified


def test_fast_path_membrane_is_an_int64_copy():
    v = np.array([1, 2], dtype=np.int64)
    s, v1 = step(v, np.array([0, 5]), fast(3, n=2))
    assert v1.dtype == np.int64 and s.dtype == bool
    assert v.tolist() == [1, 2] and v1.tolist() == [1, 4] and s.tolist() == [False, True]


def test_linear_reset_emits_floor_of_the_input_over_alpha():
    """Any non-negative total I delivered at most α per tick, from V = 0: floor(I/α) spikes
    and I mod α left on the membrane."""
    rng = np.random.default_rng(11)
    for _ in range(200):
        alpha = int(rng.integers(1, 40))
        inputs = rng.integers(0, alpha + 1, size=int(rng.integers(1, 30)))
        p = fast(alpha)
        v, n = np.zeros(1, dtype=np.int64), 0
        for x in inputs:
            s, v = step(v, np.array([x]), p)
            n += int(s[0])
        total = int(inputs.sum())
        assert n == total // alpha and int(v[0]) == total % alpha


@st.composite
def converted_family(draw):
    """Neurons of a converted network (linear reset, saturation, β = α) and input rows
    that land on α − 1, α, α + 1 and on −α − 1, −α, −α + 1 from the current potential."""
    n = draw(st.integers(1, 5))
    alphas = draw(st.lists(st.integers(1, 200), min_size=n, max_size=n))
    ticks = draw(st.integers(1, 25))
    aims = draw(st.lists(st.lists(st.tuples(st.sampled_from([-2, -1, 0, 1, 2, 3, None]),
                                            st.integers(-5, 5)), min_size=n, max_size=n),
                         min_size=ticks, max_size=ticks))
    v0 = draw(st.lists(st.integers(-200, 199), min_size=n, max_size=n))
    return alphas, aims, v0


@settings(max_examples=150, deadline=None, phases=PHASES)
@given(converted_family())
def test_converted_family_matches_reference_at_the_threshold(case):
    """Inputs chosen so the potential after integration is α + k or −α + k for small k:
    the ≥ / > and < / ≤ boundaries are hit in most ticks."""
    alphas, aims, v0 = case
    n = len(alphas)
    p = NeuronParams.make(n, threshold=alphas, neg_threshold=alphas)
    v = np.array([max(x, -a) for x, a in zip(v0, alphas, strict=True)], dtype=np.int64)
    ref = v.tolist()
    for row in aims:
        syn = []
        for j, (aim, k) in enumerate(row):
            a = alphas[j]
            if aim is None:
                target = k
            elif aim >= 0:
                target = a + k if aim < 2 else aim * a + k
            else:
                target = -a + k if aim == -1 else -2 * a + k
            syn.append(target - ref[j])
        syn = np.array(syn, dtype=np.int64)
        s, v = step(v, syn, p)
        for j in range(n):
            sj, ref[j] = naive_step(ref[j], int(syn[j]), alphas[j], alphas[j], 0, 0, 1, 0, 1)
            assert bool(s[j]) == sj
        assert v.tolist() == ref


# ---------------------------------------------------------------------------------------------
# The general path: every reset mode, the mirrored negative reset, leak and leak reversal.

def gen(n=1, **kw):
    base = dict(threshold=10, neg_threshold=4, reset_mode=RESET_LINEAR, neg_saturate=0)
    base.update(kw)
    return NeuronParams.make(n, **base)


# (params, V before, input) → (spike, V after)
GENERAL_TABLE = [
    (dict(reset_mode=RESET_TO_VALUE, reset_value=3), 0, 10, (True, 3)),
    (dict(reset_mode=RESET_TO_VALUE, reset_value=3), 0, 9, (False, 9)),
    (dict(reset_mode=RESET_TO_VALUE, reset_value=3), 0, 25, (True, 3)),
    (dict(reset_mode=RESET_TO_VALUE, reset_value=-2), 0, 10, (True, -2)),
    (dict(reset_mode=RESET_LINEAR), 0, 13, (True, 3)),
    (dict(reset_mode=RESET_NONE), 0, 13, (True, 13)),
    (dict(reset_mode=RESET_NONE), 13, 0, (True, 13)),
    (dict(reset_mode=RESET_NONE), 0, 9, (False, 9)),
    # negative side, κ = 0: mirrored reset when V < −β
    (dict(reset_mode=RESET_TO_VALUE, reset_value=3), 0, -5, (False, -3)),
    (dict(reset_mode=RESET_TO_VALUE, reset_value=3), 0, -4, (False, -4)),
    (dict(reset_mode=RESET_LINEAR), 0, -5, (False, -1)),
    (dict(reset_mode=RESET_LINEAR), 0, -11, (False, -7)),
    (dict(reset_mode=RESET_LINEAR), 0, -4, (False, -4)),
    (dict(reset_mode=RESET_NONE), 0, -11, (False, -11)),
    # κ = 1 saturates whatever the reset mode
    (dict(reset_mode=RESET_TO_VALUE, reset_value=3, neg_saturate=1), 0, -11, (False, -4)),
    (dict(reset_mode=RESET_NONE, neg_saturate=1), 0, -11, (False, -4)),
    (dict(reset_mode=RESET_NONE, neg_saturate=1), 0, 12, (True, 12)),
    # leak: integrate, leak, then threshold
    (dict(leak=3), 0, 7, (True, 0)),
    (dict(leak=3), 0, 6, (False, 9)),
    (dict(leak=-3), 0, 12, (False, 9)),
    (dict(leak=-3), 0, 13, (True, 0)),
    (dict(leak=-3), 0, 0, (False, -3)),
    (dict(leak=-3), -2, 0, (False, -1)),   # −5 < −β = −4: −5 + 4
    (dict(leak=-3), -3, 0, (False, -2)),   # −6 < −β = −4: linear mirrored reset −6 + 4
    # leak reversal: Ω = sgn V after integration (sgn 0 = 0)
    (dict(leak=-2, leak_reversal=1), 0, 5, (False, 3)),
    (dict(leak=-2, leak_reversal=1), 0, -3, (False, -1)),
    (dict(leak=-2, leak_reversal=1), 0, 0, (False, 0)),
    (dict(leak=2, leak_reversal=1), 0, 8, (True, 0)),
    (dict(leak=2, leak_reversal=1), 0, -3, (False, -1)),   # −5 < −4 after the leak: −5 + 4
    (dict(leak=2, leak_reversal=0), 0, -3, (False, -1)),
    # 20-bit limits with no reset: saturated after integration and after the leak
    (dict(threshold=A_MAX, reset_mode=RESET_NONE), V_MAX - 2, 10, (True, V_MAX)),
    (dict(threshold=A_MAX, reset_mode=RESET_NONE, leak=-5), V_MAX - 2, 10, (True, V_MAX - 5)),
    (dict(threshold=A_MAX, reset_mode=RESET_NONE, leak=5), V_MAX - 2, 0, (True, V_MAX)),
    (dict(neg_threshold=A_MAX, reset_mode=RESET_NONE), V_MIN + 2, -10, (False, V_MIN)),
    (dict(neg_threshold=A_MAX, reset_mode=RESET_NONE, leak=5), V_MIN + 2, -10, (False, V_MIN + 5)),
    (dict(neg_threshold=A_MAX, reset_mode=RESET_NONE, leak=-5), V_MIN + 2, 0, (False, V_MIN)),
    (dict(neg_threshold=A_MAX, reset_mode=RESET_LINEAR), V_MIN + 2, -10, (False, V_MIN + A_MAX)),
]


@pytest.mark.parametrize("kw,v0,i,expected", GENERAL_TABLE)
def test_general_path_table(kw, v0, i, expected):
    p = gen(**kw)
    assert one(v0, i, p) == expected
    full = dict(threshold=10, neg_threshold=4, leak=0, leak_reversal=0, reset_mode=RESET_LINEAR,
                reset_value=0, neg_saturate=0)
    full.update(kw)
    assert naive_step(v0, i, full["threshold"], full["neg_threshold"], full["leak"],
                      full["leak_reversal"], full["reset_mode"], full["reset_value"],
                      full["neg_saturate"]) == expected


def test_general_path_mixed_neurons_in_one_call():
    """One neuron of every kind side by side (the fast path is off for the whole group)."""
    rows = [r for r in GENERAL_TABLE if "threshold" not in r[0] and "neg_threshold" not in r[0]]
    keys = ("leak", "leak_reversal", "reset_mode", "reset_value", "neg_saturate")
    defaults = dict(leak=0, leak_reversal=0, reset_mode=RESET_LINEAR, reset_value=0, neg_saturate=0)
    cols = {k: [r[0].get(k, defaults[k]) for r in rows] for k in keys}
    p = NeuronParams.make(len(rows), threshold=10, neg_threshold=4, **cols)
    s, v = step(np.array([r[1] for r in rows]), np.array([r[2] for r in rows]), p)
    assert s.tolist() == [r[3][0] for r in rows]
    assert v.tolist() == [r[3][1] for r in rows]


def test_one_neuron_without_saturation_leaves_the_fast_path_for_all():
    p = NeuronParams.make(2, threshold=5, neg_threshold=5, neg_saturate=[1, 0])
    assert not p.uniform_linear_saturating
    s, v = step(np.array([0, 0]), np.array([-7, -7]), p)
    assert v.tolist() == [-5, -2] and not s.any()
    p = NeuronParams.make(2, threshold=5, neg_threshold=5, reset_mode=[1, 2])
    assert not p.uniform_linear_saturating
    s, v = step(np.array([0, 0]), np.array([7, -7]), p)
    assert v.tolist() == [2, -5] and s.tolist() == [True, False]


# ---------------------------------------------------------------------------------------------
# Parameters: broadcasting, ranges, subsets.

def test_make_broadcasts_scalars_and_keeps_arrays():
    p = NeuronParams.make(3, threshold=[1, 2, 3], neg_threshold=4)
    assert p.threshold.tolist() == [1, 2, 3] and p.neg_threshold.tolist() == [4, 4, 4]
    assert p.leak.tolist() == [0, 0, 0] and p.reset_mode.tolist() == [1, 1, 1]
    assert p.neg_saturate.tolist() == [1, 1, 1] and p.threshold_mask.tolist() == [0, 0, 0]
    assert p.stochastic_leak.tolist() == [0, 0, 0] and p.leak_reversal.tolist() == [0, 0, 0]
    assert p.reset_value.tolist() == [0, 0, 0]
    assert NeuronParams.make(2, threshold=3).neg_threshold.tolist() == [0, 0]  # β = 0 by default
    assert all(getattr(p, f).dtype == np.int64 for f in ("threshold", "leak", "reset_value"))
    assert p.neg_floor.tolist() == [-4, -4, -4]
    assert not p.has_leak and NeuronParams.make(2, threshold=1, leak=[0, -1]).has_leak
    sub = p.take(np.array([2, 0]))
    assert sub.threshold.tolist() == [3, 1] and sub.neg_threshold.tolist() == [4, 4]


def test_make_refuses_a_wrong_shape_naming_the_field():
    with pytest.raises(ValueError, match=r"^NeuronParams\.leak has shape \(2,\), expected \(3,\)$"):
        NeuronParams.make(3, threshold=1, leak=[1, 2])
    with pytest.raises(ValueError, match=r"^core 4: NeuronParams\.threshold has shape"):
        NeuronParams.make(3, threshold=[1, 2], where="core 4: ")


@pytest.mark.parametrize("field,value,lo,hi", [
    ("threshold", 0, 1, 262143), ("threshold", 2**18, 1, 262143),
    ("neg_threshold", -1, 0, 262143), ("leak", -256, -255, 255), ("leak", 256, -255, 255),
    ("leak_reversal", 2, 0, 1), ("reset_mode", 3, 0, 2), ("reset_value", 2**17, -131072, 131071),
    ("neg_saturate", 2, 0, 1), ("threshold_mask", 2**17, 0, 131071), ("stochastic_leak", 2, 0, 1),
])
def test_out_of_range_fields_are_refused_by_name(field, value, lo, hi):
    kw = {"threshold": 10, field: value}
    text = f"{field}={value} at index (0,) is outside the hardware range {lo}…{hi}"
    with pytest.raises(HardwareLimitError, match=f"^{re.escape(text)}$"):
        NeuronParams.make(2, **kw)
    with pytest.raises(HardwareLimitError, match=f"^{re.escape('core 3: ' + text)}$"):
        NeuronParams.make(2, where="core 3: ", **kw)
    arrays = {f: np.zeros(2, dtype=np.int64) for f in
              ("neg_threshold", "leak", "leak_reversal", "reset_mode", "reset_value", "neg_saturate",
               "threshold_mask", "stochastic_leak")}
    arrays["threshold"] = np.full(2, 10, dtype=np.int64)
    arrays[field] = np.full(2, value, dtype=np.int64)
    with pytest.raises(HardwareLimitError, match=f"^{re.escape(text)}$"):
        NeuronParams(**arrays).validate()
    kw[field] = lo if field != "threshold" else 1
    NeuronParams.make(2, **kw)  # the limit itself is accepted
    kw[field] = hi
    NeuronParams.make(2, **kw)


# ---------------------------------------------------------------------------------------------
# Stochastic modes against their probabilities (fixed seeds; each check's false-alarm rate
# is at most FALSE_ALARM = 1e-6 by the Chernoff bound of ``within_chernoff``).

def test_stochastic_leak_steps_with_probability_abs_leak_over_256():
    """A stochastic leak adds sgn(λ)·Ω with probability |λ|/256 (one draw in 0…255)."""
    leaks = [1, 64, 200, 255, -128, -1]
    p = NeuronParams.make(len(leaks), threshold=A_MAX, neg_threshold=A_MAX, leak=leaks,
                          stochastic_leak=1)
    n = 200_000
    rng = np.random.default_rng(2024)
    s, v = step(np.zeros((n, len(leaks)), dtype=np.int64), np.zeros((n, len(leaks)), dtype=np.int64),
                p, rng)
    assert not s.any()
    assert v.dtype == np.int64  # an integer membrane, not a float one
    for j, lam in enumerate(leaks):
        assert set(np.unique(v[:, j])) <= {0, int(np.sign(lam))}
        hits = int((v[:, j] != 0).sum())
        assert within_chernoff(hits, n, abs(lam) / 256), (lam, hits / n, abs(lam) / 256)


def test_stochastic_leak_with_reversal_follows_the_sign_of_v():
    p = NeuronParams.make(2, threshold=A_MAX, neg_threshold=A_MAX, leak=-128, leak_reversal=1,
                          stochastic_leak=1)
    n = 50_000
    v0 = np.tile(np.array([[100, -100]], dtype=np.int64), (n, 1))
    _, v = step(v0, np.zeros_like(v0), p, np.random.default_rng(5))
    assert set(np.unique(v[:, 0])) <= {100, 99} and set(np.unique(v[:, 1])) <= {-100, -99}
    assert within_chernoff(int((v[:, 0] == 99).sum()), n, 0.5)
    assert within_chernoff(int((v[:, 1] == -99).sum()), n, 0.5)


def test_stochastic_and_deterministic_leak_side_by_side():
    """A stochastic neuron with λ = 0 never moves; a deterministic one adds λ every tick."""
    p = NeuronParams.make(3, threshold=A_MAX, neg_threshold=A_MAX, leak=[64, 64, 0],
                          stochastic_leak=[1, 0, 1])
    n = 40_000
    _, v = step(np.zeros((n, 3), dtype=np.int64), np.zeros((n, 3), dtype=np.int64), p,
                np.random.default_rng(9))
    assert v.dtype == np.int64
    assert (v[:, 1] == 64).all() and (v[:, 2] == 0).all()
    assert within_chernoff(int((v[:, 0] == 1).sum()), n, 0.25)


def test_stochastic_threshold_adds_masked_uniform_draw():
    """η = ρ & M with ρ uniform on 0…2^17−1; M = 15 makes η uniform on 0…15, so a potential
    of α + k spikes with probability (k + 1)/16."""
    ks = [0, 3, 7, 14, 15, -1]
    alpha = 20
    p = NeuronParams.make(len(ks), threshold=alpha, neg_threshold=A_MAX, threshold_mask=15,
                          reset_mode=RESET_TO_VALUE, reset_value=-1)
    n = 100_000
    v0 = np.zeros((n, len(ks)), dtype=np.int64)
    s, v = step(v0, v0 + np.array([alpha + k for k in ks]), p, np.random.default_rng(77))
    for j, k in enumerate(ks):
        prob = min(max((k + 1) / 16, 0.0), 1.0)
        assert within_chernoff(int(s[:, j].sum()), n, prob), (k, s[:, j].mean(), prob)
        assert (v[s[:, j], j] == -1).all() and (v[~s[:, j], j] == alpha + k).all()


def test_stochastic_threshold_with_a_high_mask_bit():
    """M = 2^16: η ∈ {0, 2^16}, each with probability 1/2 (bit 16 of a 17-bit draw)."""
    p = NeuronParams.make(1, threshold=5, neg_threshold=A_MAX, threshold_mask=2**16)
    n = 60_000
    s, _ = step(np.zeros((n, 1), dtype=np.int64), np.full((n, 1), 5 + 2**16 - 1), p,
                np.random.default_rng(8))
    assert within_chernoff(int(s.sum()), n, 0.5)
    s, _ = step(np.zeros((n, 1), dtype=np.int64), np.full((n, 1), 5 + 2**16), p,
                np.random.default_rng(8))
    assert s.all()


def test_stochastic_threshold_linear_reset_subtracts_alpha_plus_eta():
    p = NeuronParams.make(1, threshold=4, neg_threshold=A_MAX, threshold_mask=3)
    n = 40_000
    s, v = step(np.zeros((n, 1), dtype=np.int64), np.full((n, 1), 8), p, np.random.default_rng(3))
    assert s.all()  # 8 ≥ 4 + η for every η ≤ 3
    assert set(np.unique(v)) == {1, 2, 3, 4}  # 8 − (4 + η)
    for r in (1, 2, 3, 4):
        assert within_chernoff(int((v == r).sum()), n, 0.25)


def test_stochastic_negative_threshold_without_saturation():
    """κ = 0: the negative threshold is −(β + η) and the linear mirrored reset adds β + η;
    with κ = 1 η does not move it and the potential saturates at −β."""
    p = NeuronParams.make(2, threshold=A_MAX, neg_threshold=2, threshold_mask=3,
                          neg_saturate=[0, 1])
    n = 40_000
    v0 = np.zeros((n, 2), dtype=np.int64)
    _, v = step(v0, v0 - 4, p, np.random.default_rng(4))
    # κ = 0: −4 < −(2 + η) iff η ≤ 1 (probability 1/2), then −4 + 2 + η ∈ {−2, −1}
    assert set(np.unique(v[:, 0])) == {-4, -2, -1}
    assert within_chernoff(int((v[:, 0] == -4).sum()), n, 0.5)
    assert within_chernoff(int((v[:, 0] == -2).sum()), n, 0.25)
    assert (v[:, 1] == -2).all()


def test_documented_draws_make_runs_reproducible():
    """The draws are the documented ones: per tick, for the leak one integer in 0…255 per
    neuron, then for the threshold one in 0…2^17 − 1 masked by M — so a generator with the
    same seed reproduces the spikes."""
    n_b, n = 500, 3
    p = NeuronParams.make(n, threshold=[3, 8, 40], neg_threshold=5, leak=[100, -30, 7],
                          stochastic_leak=1, threshold_mask=[7, 1, 127])
    rng, ref = np.random.default_rng(12), np.random.default_rng(12)
    v = np.zeros((n_b, n), dtype=np.int64)
    inputs = np.random.default_rng(0).integers(-3, 9, size=(20, n_b, n))
    for i in inputs:
        s, v_new = step(v, i, p, rng)
        u = v + i
        draw = ref.integers(0, 256, size=u.shape)
        u = u + (np.abs(p.leak) > draw) * np.sign(p.leak)
        eta = ref.integers(0, 2**17, size=u.shape) & p.threshold_mask
        want = u >= p.threshold + eta
        assert np.array_equal(s, want)
        u = np.where(want, u - (p.threshold + eta), u)
        u = np.where(~want & (u < -5), -5, u)
        assert np.array_equal(v_new, u)
        v = v_new


def test_stochastic_modes_need_an_rng():
    v = np.zeros(2, dtype=np.int64)
    with pytest.raises(ValueError, match=r"^a stochastic leak needs a seeded rng$"):
        step(v, v, NeuronParams.make(2, threshold=5, leak=3, stochastic_leak=1))
    with pytest.raises(ValueError, match=r"^a stochastic threshold needs a seeded rng$"):
        step(v, v, NeuronParams.make(2, threshold=5, threshold_mask=3))
    # deterministic parameters draw nothing: the generator's state is untouched
    rng = np.random.default_rng(1)
    before = rng.bit_generator.state
    step(v, v + 3, NeuronParams.make(2, threshold=5, leak=3), rng)
    step(v, v + 3, NeuronParams.make(2, threshold=5, leak=3, reset_mode=0), rng)
    assert rng.bit_generator.state == before
