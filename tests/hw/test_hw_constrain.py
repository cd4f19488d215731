"""The constraint steps pinned from their definitions: fan-in pruning keeps the strongest
inputs (per neuron, and per core for the block-sparse mask), the threshold α against a
brute-force search, the integer network and the word-level neuron against scalar loops,
the straight-through quantisers forward and backward, and the model-side steps
(activity calibration, integer read-off, readout) against what the model itself computes."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from rnn2snn.constrain.steps import (
    activity_percentile,
    block_fan_in_mask,
    choose_threshold,
    fan_in_mask,
    input_levels,
    limit_fan_in,
    quantize_model_activities,
    quantize_model_weights,
    readout_logits,
    rescale_activities,
    to_integer,
)
from rnn2snn.data.sequences import FeatureSequences
from rnn2snn.model.elman import ElmanClassifier, ElmanConfig
from rnn2snn.model.quantize import floor_ste, quantize_input_levels, quantize_weights, round_ste, word_step
from rnn2snn.program.integer import IntegerRNN

# ---------------------------------------------------------------------------------------------
# Fan-in.


def top_k_columns(row, k):
    """The k columns of largest |w|, ties to the lower column (a plain sort)."""
    return set(sorted(range(len(row)), key=lambda i: (-abs(row[i]), i))[:k])


@pytest.mark.parametrize("shape,k", [((16, 64), 64), ((16, 64), 32), ((5, 100), 1), ((7, 90), 64),
                                     ((3, 10), 9)])
def test_fan_in_mask_keeps_exactly_the_k_largest_per_row(shape, k):
    w = torch.from_numpy(np.random.default_rng(k).normal(size=shape))
    mask = fan_in_mask(w, k).numpy()
    assert mask.dtype == bool and mask.shape == shape
    for j, row in enumerate(w.numpy()):
        assert set(np.flatnonzero(mask[j]).tolist()) == top_k_columns(row.tolist(), min(k, shape[1]))


def test_fan_in_mask_many_ties():
    levels = np.random.default_rng(8).integers(-2, 3, size=(6, 90)).astype(float)
    mask = fan_in_mask(torch.from_numpy(levels), 40).numpy()
    for j, row in enumerate(levels):
        assert set(np.flatnonzero(mask[j]).tolist()) == top_k_columns(row.tolist(), 40)


def test_fan_in_mask_ties_go_to_the_lower_column():
    w = torch.tensor([[1.0, -1.0, 0.5, 1.0, -2.0]])
    assert fan_in_mask(w, 2).numpy().tolist() == [[True, False, False, False, True]]
    assert fan_in_mask(w, 3).numpy().tolist() == [[True, True, False, False, True]]
    assert fan_in_mask(w, 5).all() and fan_in_mask(w, 6).all()
    with pytest.raises(ValueError, match=r"^max_fan_in must be ≥ 1, got 0$"):
        fan_in_mask(w, 0)
    assert fan_in_mask(w, 1).numpy().tolist() == [[False, False, False, False, True]]


def test_block_fan_in_keeps_the_strongest_sources_of_each_core():
    """Without contention for copies, every core reads the max_fan_in sources of largest
    summed |w| over its own neurons, and all its neurons read the same set."""
    rng = np.random.default_rng(3)
    h, n_in, k = 12, 20, 6
    w = rng.normal(size=(h, n_in + h))
    mask, groups = block_fan_in_mask(torch.from_numpy(w), n_in, 3, max_fan_in=k)
    mask = mask.numpy()
    assert groups == [[0, 1, 2, 3], [4, 5, 6, 7], [8, 9, 10, 11]]
    for g in groups:
        score = np.abs(w[g]).sum(axis=0)
        want = set(sorted(range(n_in + h), key=lambda s: (-score[s], s))[:k])
        for j in g:
            assert set(np.flatnonzero(mask[j]).tolist()) == want
    mask, groups = block_fan_in_mask(torch.from_numpy(w), n_in, 5, max_fan_in=64)
    assert [len(g) for g in groups] == [3, 3, 2, 2, 2] and mask.all()  # 32 sources < 64: all kept
    mask, groups = block_fan_in_mask(torch.from_numpy(w), n_in, 1, max_fan_in=64)
    assert groups == [list(range(12))] and mask.all()


def test_block_fan_in_refuses_sources_whose_owner_has_no_room_for_copies():
    """Groups of 250 neurons leave (256 − 250) // 4 = 1 copy slot per core: each core's neurons
    can be read by at most one source slot in total; the remaining choices fall to the next
    strongest sources that do not need one (inputs)."""
    rng = np.random.default_rng(4)
    h, n_in, k = 500, 6, 4
    w = np.abs(rng.normal(size=(h, n_in + h))) * 0.01
    w[:, n_in:] += 1.0  # recurrent sources are all stronger than inputs
    mask, groups = block_fan_in_mask(torch.from_numpy(w), n_in, 2, max_fan_in=k)
    mask = mask.numpy()
    chosen = [set(np.flatnonzero(mask[g[0]]).tolist()) for g in groups]
    for c, g in enumerate(groups):
        assert (mask[g] == mask[g[0]]).all() and len(chosen[c]) == k
    owners = [0, 0]
    for c in range(2):
        for s in chosen[c]:
            if s >= n_in:
                owners[(s - n_in) // 250] += 1
    assert owners == [1, 1]  # one slot each, both used
    score = [np.abs(w[g]).sum(axis=0) for g in groups]
    flat = sorted((-score[c][s], c, s) for c in range(2) for s in range(n_in + h))
    assert (flat[0][1], flat[0][2]) in {(c, s) for c in range(2) for s in chosen[c]}  # best pair kept
    for c in range(2):
        inputs = sorted(range(n_in), key=lambda s: (-score[c][s], s))
        rec = [s for s in chosen[c] if s >= n_in]
        assert set(inputs[: k - len(rec)]) == chosen[c] - set(rec)


def test_block_fan_in_default_limit_and_ties():
    """The default limit is the hardware's 64 sources; equal scores go to the lower source
    (the mask must not depend on the sort algorithm)."""
    w = torch.from_numpy(np.random.default_rng(5).normal(size=(4, 100)))
    mask, _ = block_fan_in_mask(w, 96, 2)
    assert mask.numpy().sum(axis=1).tolist() == [64] * 4
    levels = np.random.default_rng(6).integers(1, 4, size=(4, 100)).astype(float)
    mask, groups = block_fan_in_mask(torch.from_numpy(levels), 96, 2, max_fan_in=30)
    for g in groups:
        score = levels[g].sum(axis=0)
        want = set(sorted(range(100), key=lambda src: (-score[src], src))[:30])
        assert set(np.flatnonzero(mask.numpy()[g[0]]).tolist()) == want


def test_block_fan_in_refuses_impossible_core_counts():
    w = torch.ones(4, 6)
    for n in (0, 5):
        with pytest.raises(ValueError, match=rf"^cores must lie in 1…4 \(one neuron at least per core\), "
                                             rf"got {n}$"):
            block_fan_in_mask(w, 2, n)
    mask, groups = block_fan_in_mask(w, 2, 4, max_fan_in=1)
    assert groups == [[0], [1], [2], [3]] and mask.numpy().sum(axis=1).tolist() == [1, 1, 1, 1]


def tiny_model(h=16, proj=48, vocab=30, upper=(), bias=False, seed=0, readout="mean"):
    torch.manual_seed(seed)
    return ElmanClassifier(ElmanConfig(vocab_size=vocab, n_classes=3, embed_dim=8, proj_dim=proj,
                                       hidden_dim=h, upper_dims=upper, bias=bias, readout=readout))


def test_limit_fan_in_prunes_when_sources_exceed_the_limit():
    """48 inputs + 16 recurrent = 64 sources; a limit of 32 prunes half of each row, keeping
    the 32 largest |w| of each neuron (and zeroing the rest of the weights)."""
    model = tiny_model()
    before = model.recurrent.detach().clone().numpy()
    pruned = limit_fan_in(model, max_fan_in=32)
    assert pruned == 16 * 32
    mask = model.constraints.mask.numpy()
    for j in range(16):
        assert set(np.flatnonzero(mask[j]).tolist()) == top_k_columns(before[j].tolist(), 32)
    after = model.recurrent.detach().numpy()
    assert np.array_equal(after, np.where(mask, before, 0))
    assert model.constraints.groups is None
    model = tiny_model()
    assert limit_fan_in(model, max_fan_in=64) == 0 and model.constraints.mask.all()


def test_limit_fan_in_default_is_64():
    model = tiny_model(h=16, proj=56)  # 72 sources
    assert limit_fan_in(model) == 16 * 8
    assert (model.constraints.mask.numpy().sum(axis=1) == 64).all()


@pytest.mark.parametrize("ties,k", [(False, 9), (False, 12), (True, 20)])
def test_stacked_layers_keep_one_strongest_source_set_each(ties, k):
    """Stacked layers sit one on a core: each layer keeps one set of ≤ max_fan_in sources
    among those its structure allows, of largest summed |w| over its neurons (ties to the
    lower source), never a source all of whose weights are 0 — whatever the weights outside
    the structure hold."""
    model = tiny_model(h=30, proj=40, upper=(20,)) if ties else tiny_model(h=6, proj=5, upper=(4,), bias=True)
    rng = np.random.default_rng(9)
    with torch.no_grad():
        shape = tuple(model.recurrent.shape)
        values = rng.integers(1, 3, size=shape) if ties else rng.normal(size=shape)
        model.recurrent.copy_(torch.from_numpy(values.astype(np.float32)))  # outside the structure too
        model.recurrent[:, 2] = 0  # an allowed source of layer 0 that carries nothing
    structure = model.structure.numpy()
    w = model.recurrent.detach().numpy() * structure
    limit_fan_in(model, max_fan_in=k)
    mask = model.constraints.mask.numpy()
    for rows in model.config.layer_slices():
        score = np.abs(w[rows]).sum(axis=0) * structure[rows].any(axis=0)
        order = sorted(range(len(score)), key=lambda src: (-score[src], src))
        want = {src for src in order[:k] if score[src] > 0}
        for j in range(rows.start, rows.stop):
            assert set(np.flatnonzero(mask[j]).tolist()) == want & set(np.flatnonzero(structure[j]))
    assert not mask[:, 2].any()


def test_limit_fan_in_per_core_and_per_layer():
    model = tiny_model(h=16, proj=24)
    pruned = limit_fan_in(model, max_fan_in=10, cores=2)
    mask = model.constraints.mask.numpy()
    assert model.constraints.groups == [list(range(8)), list(range(8, 16))]
    assert pruned == 16 * 40 - int(mask.sum()) and (mask.sum(axis=1) == 10).all()
    stacked = tiny_model(h=6, proj=5, upper=(4,))
    s = stacked.config.n_sources
    structure = stacked.structure.numpy()
    pruned = limit_fan_in(stacked, max_fan_in=3)
    mask = stacked.constraints.mask.numpy()
    assert stacked.constraints.groups == [list(range(6)), list(range(6, 10))]
    assert not (mask & ~structure).any() and (mask.sum(axis=1) == 3).all()
    assert pruned == int(structure.sum()) - 30
    assert s == 5
    with pytest.raises(ValueError, match=r"^cores= spreads one recurrent layer; stacked layers get a "
                                         r"core group each$"):
        limit_fan_in(tiny_model(h=6, proj=5, upper=(4,)), 3, cores=2)


# ---------------------------------------------------------------------------------------------
# Threshold.


def brute_force_threshold(w, w_min=-8, w_max=7, max_threshold=4096):
    """The first α in 1…max_threshold of least squared error of clip(round(w·α))/α, non-zero w."""
    w = np.asarray(w, dtype=np.float64).ravel()
    w = w[w != 0]
    if w.size == 0:
        return 1
    alphas = np.arange(1, max_threshold + 1, dtype=np.float64)[:, None]
    q = np.clip(np.round(w[None, :] * alphas), w_min, w_max) / alphas
    err = ((q - w[None, :]) ** 2).sum(axis=1)
    return int(np.argmin(err)) + 1


def test_choose_threshold_matches_brute_force():
    rng = np.random.default_rng(17)
    for _ in range(120):
        scale = 10 ** rng.uniform(-2.5, 0.5)
        w = rng.normal(size=(int(rng.integers(1, 6)), int(rng.integers(1, 12)))) * scale
        w[rng.random(w.shape) < 0.3] = 0
        assert choose_threshold(w) == brute_force_threshold(w)
        assert choose_threshold(w, -4, 3) == brute_force_threshold(w, -4, 3)
        assert choose_threshold(w, max_threshold=20) == brute_force_threshold(w, max_threshold=20)


def test_choose_threshold_edge_cases():
    import warnings

    # weights of exactly ±1 count like any other (only zeros are left out)
    for w in ([1.0, 0.3], [-1.0, 0.3, 0.0], [1.0]):
        assert choose_threshold(np.array(w)) == brute_force_threshold(w)
    # the default cap is 4096: w = 1/4097 would be exact at α = 4097
    assert choose_threshold(np.array([1 / 4097])) == brute_force_threshold([1 / 4097]) <= 4096
    # no 0/0 on the way (every α tried is ≥ 1)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert choose_threshold(np.array([0.25, -0.5])) == 4


def test_choose_threshold_by_hand():
    # w = 0.25, 0.5: α = 4 puts them exactly on 1 and 2 (error 0); α = 8, 12 … too, the first wins
    assert choose_threshold(np.array([0.25, -0.5])) == 4
    assert choose_threshold(np.array([0.0, 0.0])) == 1 and choose_threshold(np.zeros(0)) == 1
    assert choose_threshold(np.array([1.0, 3.0])) == 1  # exact at α = 1 already (and at α = 2)
    assert choose_threshold(np.array([0.5, 1.5])) == 2  # α = 1 rounds 0.5 to 0 and 1.5 to 2
    assert choose_threshold(np.array([7.0, -8.0])) == 1
    assert choose_threshold(np.array([0.02, 0.04]), max_threshold=60) == 50  # 1 and 2 exactly
    capped = choose_threshold(np.array([0.02, 0.04]), max_threshold=49)
    assert capped == brute_force_threshold([0.02, 0.04], max_threshold=49)


def test_quantize_model_weights_sets_one_alpha_per_layer():
    model = tiny_model(h=6, proj=5, upper=(4,))
    with torch.no_grad():
        model.recurrent[6:] *= 10.0  # the second layer on another scale
    w = (model.recurrent.detach() * model.structure.float()).numpy()
    alphas = quantize_model_weights(model)
    assert alphas == [choose_threshold(w[:6]), choose_threshold(w[6:])] and alphas[0] != alphas[1]
    assert model.constraints.threshold.tolist() == [alphas[0]] * 6 + [alphas[1]] * 4
    assert model.constraints.threshold.dtype == np.int64
    assert (model.constraints.w_min, model.constraints.w_max) == (-8, 7)
    alphas = quantize_model_weights(model, -4, 3)
    assert alphas == [choose_threshold(w[:6], -4, 3), choose_threshold(w[6:], -4, 3)]
    assert (model.constraints.w_min, model.constraints.w_max) == (-4, 3)
    eff = model.effective_recurrent().detach().numpy()
    assert eff.min() >= -4 and eff.max() <= 3 and np.array_equal(eff, np.rint(eff))
    pruned = tiny_model(h=3, proj=4)
    with torch.no_grad():
        pruned.recurrent.fill_(0.01)
        pruned.recurrent[:, 0] = 0.25
    limit_fan_in(pruned, max_fan_in=1)  # only the 0.25 weights remain: α = 4 puts them on 1
    assert quantize_model_weights(pruned) == [4]


# ---------------------------------------------------------------------------------------------
# Model-side steps, on real-valued inputs whose activities can be worked out by hand.


def feature_model(bias=False):
    """One feature v, no projection: encoder units [relu(v), relu(−v)]; one neuron reading
    unit 0 with weight 1 and nothing else, so its activity is relu(v_t)."""
    torch.manual_seed(0)
    model = ElmanClassifier(ElmanConfig(vocab_size=0, n_features=1, n_classes=2, proj_dim=0,
                                        hidden_dim=1, readout="mean", bias=bias))
    with torch.no_grad():
        model.recurrent.zero_()
        model.recurrent[0, 0] = 1.0
    return model


def feature_data():
    f = np.zeros((2, 3, 1), dtype=np.float32)
    f[0, :, 0] = [3, -2, 5]
    f[1, :, 0] = [1, 7, 7]  # a one-word sequence: the 7s lie after its end
    return FeatureSequences(f, np.array([3, 1]), np.array([0, 1]))


def test_activity_percentile_counts_only_values_inside_each_sequence():
    model, data = feature_model(), feature_data()
    # encoder non-zero values 3, 2, 5, 1; activities 3, 5, 1 → sorted 1 1 2 3 3 5 5
    assert activity_percentile(model, data, 100) == 5.0
    assert activity_percentile(model, data, 50) == 3.0
    assert activity_percentile(model, data, 0) == 1.0
    assert activity_percentile(model, data) == pytest.approx(np.percentile([1, 1, 2, 3, 3, 5, 5], 99))
    model.train()
    activity_percentile(model, data)
    assert not model.training


def test_activity_percentile_of_silent_data_is_one():
    model = feature_model()
    data = FeatureSequences(np.zeros((1, 2, 1), dtype=np.float32), np.array([2]), np.array([0]))
    assert activity_percentile(model, data) == 1.0


def test_rescale_keeps_predictions_and_scales_activities():
    torch.manual_seed(1)
    model = ElmanClassifier(ElmanConfig(vocab_size=0, n_features=2, n_classes=3, proj_dim=4,
                                        hidden_dim=3, readout="mean", bias=True))
    model.eval()
    x = torch.randn(4, 5, 2)
    lengths = torch.tensor([5, 3, 1, 2])
    logits, act = model(x, lengths, return_activity=True)
    rescale_activities(model, 2.5, bias_level=15.0)
    assert float(model.bias_level) == 15.0
    logits2, act2 = model(x, lengths, return_activity=True)
    assert torch.allclose(act2, 2.5 * act, rtol=1e-5, atol=1e-5)
    assert torch.allclose(logits2, logits, rtol=1e-5, atol=1e-5)
    nproj = feature_model(bias=True)
    nproj.eval()
    data = feature_data()
    xin, ln = torch.from_numpy(data.features), torch.from_numpy(data.lengths)
    _, a = nproj(xin, ln, return_activity=True)
    rescale_activities(nproj, 3.0)
    _, b = nproj(xin, ln, return_activity=True)
    assert float(nproj.input_scale) == 3.0 and torch.allclose(b, 3 * a)


def test_quantize_activities_puts_the_percentile_on_the_top_level():
    model, data = feature_model(bias=True), feature_data()
    with pytest.raises(ValueError, match=r"^quantise the weights before the activities$"):
        quantize_model_activities(model, data)
    quantize_model_weights(model)
    factor = quantize_model_activities(model, data, levels=16, percentile=100)
    assert factor == pytest.approx(15 / 5)
    k = model.constraints
    assert k.activity_levels == 16 and k.carry_residual is True and float(model.bias_level) == 15.0
    factor = quantize_model_activities(feature_model_q(), data, levels=8, percentile=50,
                                       carry_residual=False)
    assert factor == pytest.approx(7 / 3)


def test_quantize_activities_default_percentile_and_small_activities():
    """By default the 99th percentile goes to the top level; activities below 1 are scaled
    up (the 1e-6 floor only guards against silence)."""
    f = np.zeros((1, 60, 1), dtype=np.float32)
    f[0, :, 0] = np.linspace(0.1, 6.0, 60)
    f[0, 59, 0] = 100.0  # an outlier above the 99th percentile
    data = FeatureSequences(f, np.array([60]), np.array([0]))
    model = feature_model_q()
    values = np.concatenate([f[0, :, 0], f[0, :, 0]])  # encoder unit 0 and the neuron's activity
    assert quantize_model_activities(model, data) == pytest.approx(15 / np.percentile(values, 99), rel=1e-5)
    small = FeatureSequences(f * 0.001, np.array([60]), np.array([0]))
    q = 15 / np.percentile(values * 0.001, 50)
    assert quantize_model_activities(feature_model_q(), small, percentile=50) == pytest.approx(q, rel=1e-4)


def feature_model_q():
    model = feature_model()
    quantize_model_weights(model)
    return model


def test_integer_read_off_equals_the_model_forward():
    """to_integer + input_levels + IntegerRNN.run reproduce the constrained model's forward
    activities exactly, and readout_logits on them its logits."""
    torch.manual_seed(2)
    model = ElmanClassifier(ElmanConfig(vocab_size=0, n_features=3, n_classes=4, proj_dim=5,
                                        hidden_dim=4, upper_dims=(3,), readout="max", bias=True))
    f = np.random.default_rng(2).normal(size=(6, 5, 3)).astype(np.float32)
    lengths = np.array([5, 4, 1, 3, 5, 2])
    for i, n in enumerate(lengths):
        f[i, n:] = 0
    data = FeatureSequences(f, lengths, np.zeros(6, dtype=np.int64))
    limit_fan_in(model, max_fan_in=6)
    quantize_model_weights(model)
    quantize_model_activities(model, data)
    net = to_integer(model)
    assert net.n_inputs == model.config.n_sources and net.n_hidden == 7
    assert net.threshold.tolist() == model.constraints.threshold.tolist()
    assert net.levels == 16 and net.carry_residual and net.groups == ((0, 1, 2, 3), (4, 5, 6))
    eff = model.effective_recurrent().detach().numpy()
    assert np.array_equal(net.weights, np.rint(eff).astype(np.int64))
    x = input_levels(model, data)
    assert x.shape == (6, 5 + 1, model.config.n_sources) and x.dtype == np.int64
    enc = model.config.encoder_dim
    for i, n in enumerate(lengths):
        assert not x[i, n:, :enc].any()
        assert x[i, :, enc].tolist() == [15 if t < n else 0 for t in range(6)]  # layer 0 bias input
        assert x[i, :, enc + 1].tolist() == [15 if 1 <= t < n + 1 else 0 for t in range(6)]
    model.eval()
    xin, ln = torch.from_numpy(f), torch.from_numpy(lengths)
    logits, act = model(xin, ln, return_activity=True)
    ints = net.run(x, lengths + 1)
    assert np.array_equal(ints, act.detach().numpy().astype(np.int64))
    assert ints.max() > 0
    assert np.allclose(readout_logits(model, ints, lengths), logits.detach().numpy(), atol=1e-5)
    model.train()
    input_levels(model, data)
    assert not model.training
    model.train()
    readout_logits(model, ints, lengths)
    assert not model.training


def test_to_integer_needs_every_constraint():
    model = feature_model()
    with pytest.raises(ValueError, match=r"^to_integer needs quantised weights and activities$"):
        to_integer(model)
    quantize_model_weights(model)
    with pytest.raises(ValueError, match=r"^to_integer needs quantised weights and activities$"):
        to_integer(model)
    quantize_model_activities(model, feature_data(), levels=8, carry_residual=False)
    net = to_integer(model)
    assert net.groups is None and not net.carry_residual and net.w_in.shape == (1, 2)
    assert net.levels == 8 and net.w_in.dtype == np.int64 and net.w_rec.dtype == np.int64


# ---------------------------------------------------------------------------------------------
# The integer network and the word-level neuron.


def scalar_integer_run(w_in, w_rec, alpha, levels, carry, x, length):
    """One sequence, one neuron at a time: a = clip(floor(u/α), 0, L − 1),
    r = max(u − α·a, −α) (carried) — held after the sequence's end."""
    h = len(w_rec)
    a, r = [0] * h, [0] * h
    out = []
    for t in range(len(x)):
        if t < length:
            u = [sum(w_in[j][i] * x[t][i] for i in range(len(x[t])))
                 + sum(w_rec[j][m] * a[m] for m in range(h)) + (r[j] if carry else 0) for j in range(h)]
            a = [min(max(u[j] // alpha[j], 0), levels - 1) for j in range(h)]
            r = [max(u[j] - alpha[j] * a[j], -alpha[j]) for j in range(h)]
        out.append(list(a))
    return out


@pytest.mark.parametrize("carry", [False, True])
def test_integer_network_matches_scalar_loop(carry):
    rng = np.random.default_rng(int(carry))
    for _ in range(40):
        h, s = int(rng.integers(1, 5)), int(rng.integers(1, 5))
        w_in, w_rec = rng.integers(-8, 8, size=(h, s)), rng.integers(-8, 8, size=(h, h))
        alpha = rng.integers(1, 20, size=h)
        levels = int(rng.choice([4, 16]))
        x = rng.integers(0, levels, size=(3, 6, s))
        lengths = np.array([6, int(rng.integers(1, 7)), 1])
        net = IntegerRNN(w_in=w_in, w_rec=w_rec, threshold=alpha, levels=levels, carry_residual=carry)
        got = net.run(x, lengths)
        assert got.dtype == np.int64 and got.shape == (3, 6, h)
        for b in range(3):
            want = scalar_integer_run(w_in.tolist(), w_rec.tolist(), alpha.tolist(), levels, carry,
                                      x[b].tolist(), int(lengths[b]))
            assert got[b].tolist() == want


def test_integer_network_fields_and_errors():
    net = IntegerRNN(w_in=np.array([[1, 2]]), w_rec=np.array([[3]]), threshold=5)
    assert net.threshold.tolist() == [5] and net.n_inputs == 2 and net.n_hidden == 1
    assert net.weights.tolist() == [[1, 2, 3]] and net.levels == 16 and not net.carry_residual
    assert net.groups is None
    with pytest.raises(ValueError, match=r"^shapes w_in \(1, 2\), w_rec \(1, 2\) disagree$"):
        IntegerRNN(w_in=np.ones((1, 2)), w_rec=np.ones((1, 2)), threshold=1)
    with pytest.raises(ValueError, match=r"^shapes w_in \(2, 2\), w_rec \(1, 1\) disagree$"):
        IntegerRNN(w_in=np.ones((2, 2)), w_rec=np.ones((1, 1)), threshold=1)
    with pytest.raises(ValueError, match=r"^threshold must be ≥ 1, got 0$"):
        IntegerRNN(w_in=np.ones((2, 2)), w_rec=np.ones((2, 2)), threshold=[3, 0])
    net = IntegerRNN(w_in=np.ones((2, 2)), w_rec=np.ones((2, 2)), threshold=np.array([3, 1], np.int32))
    assert net.threshold.dtype == np.int64 and net.threshold.tolist() == [3, 1]
    empty = IntegerRNN(w_in=np.zeros((0, 2)), w_rec=np.zeros((0, 0)), threshold=0)
    assert empty.n_hidden == 0
    # held at the final value after the end
    net = IntegerRNN(w_in=np.array([[2]]), w_rec=np.array([[0]]), threshold=1)
    assert net.run(np.array([[[3], [5], [7]]]), np.array([2]))[0, :, 0].tolist() == [6, 10, 10]


def test_word_step_numpy_by_hand():
    pre = np.array([[-30, -5, 0, 6, 7, 13, 200]])
    a, r = word_step(pre, 7, 16, carry=True)
    assert a.tolist() == [[0, 0, 0, 0, 1, 1, 15]]
    assert r.tolist() == [[-7, -5, 0, 6, 0, 6, 95]]
    a, r = word_step(pre, 7, 16, carry=False)
    assert a.tolist() == [[0, 0, 0, 0, 1, 1, 15]] and not r.any()
    assert r.shape == pre.shape and r.dtype == np.int64
    a, r = word_step(np.array([10, 10]), np.array([3, 5]), 4, carry=True)
    assert a.tolist() == [3, 2] and r.tolist() == [1, 0]


def test_word_step_torch_forward_and_gradient():
    pre = torch.tensor([[-30.0, -5.0, 0.0, 6.0, 7.0, 13.0, 200.0]], requires_grad=True)
    a, r = word_step(pre, 7, 16, carry=True)
    assert a.tolist() == [[0, 0, 0, 0, 1, 1, 15]]
    assert r.tolist() == [[-7, -5, 0, 6, 0, 6, 95]] and not r.requires_grad
    a.sum().backward()
    # floor passes the gradient straight through, the clip stops it outside 0…15
    assert pre.grad.numpy() == pytest.approx(np.array([[0, 0, 1, 1, 1, 1, 0]]) / 7)
    a, r = word_step(torch.tensor([10.0, 10.0]), torch.tensor([3.0, 5.0]), 4, carry=False)
    assert a.tolist() == [3, 2] and r.tolist() == [0, 0]


# ---------------------------------------------------------------------------------------------
# Straight-through quantisers.


def test_round_and_floor_ste():
    x = torch.tensor([-1.5, -0.4, 0.5, 1.5, 2.7], requires_grad=True)
    y = round_ste(x)
    assert y.tolist() == [-2.0, -0.0, 0.0, 2.0, 3.0]
    (y * torch.arange(5.0)).sum().backward()
    assert x.grad.tolist() == [0, 1, 2, 3, 4]
    x = torch.tensor([-1.5, -0.4, 0.5, 2.7], requires_grad=True)
    y = floor_ste(x)
    assert y.tolist() == [-2.0, -1.0, 0.0, 2.0]
    (y * torch.arange(4.0)).sum().backward()
    assert x.grad.tolist() == [0, 1, 2, 3]


def test_quantize_weights_forward_and_gradient():
    w = torch.tensor([[0.1, -0.26, 2.0, -3.0, 0.0]], requires_grad=True)
    q = quantize_weights(w, 10.0)
    assert q.tolist() == [[1.0, -3.0, 7.0, -8.0, 0.0]]
    q.sum().backward()
    assert w.grad.tolist() == [[10.0] * 5]  # d(w·α)/dw, straight through the round and clip
    q = quantize_weights(w.detach(), torch.tensor([[10.0]]), -4, 3)
    assert q.tolist() == [[1.0, -3.0, 3.0, -4.0, 0.0]]
    q = quantize_weights(torch.tensor([[0.5], [0.5]]), torch.tensor([[2.0], [6.0]]))
    assert q.tolist() == [[1.0], [3.0]]


def test_quantize_input_levels_forward_and_gradient():
    p = torch.tensor([-2.0, 0.4, 0.6, 7.5, 15.2, 40.0], requires_grad=True)
    q = quantize_input_levels(p, 15)
    assert q.tolist() == [0.0, 0.0, 1.0, 8.0, 15.0, 15.0]
    q.sum().backward()
    assert p.grad.tolist() == [0.0, 1.0, 1.0, 1.0, 0.0, 0.0]
    assert quantize_input_levels(torch.tensor([3.7]), 3).tolist() == [3.0]
