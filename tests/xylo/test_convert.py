"""Train-and-constrain for Xylo: the fine-tune's forward is the chip's, the conversion keeps the limits."""

from __future__ import annotations

import re
from dataclasses import replace
from types import SimpleNamespace

import numpy as np
import pytest
import torch

from rnn2snn.errors import HardwareLimitError
from rnn2snn.targets.xylo.convert import (
    MAX_THRESHOLD,
    FloatXylo,
    Scales,
    StateRange,
    XyloDynamics,
    choose_scales,
    rasters,
    recurrent_mask,
    to_spec,
)
from rnn2snn.targets.xylo.simulate import classify, simulate
from rnn2snn.targets.xylo.train import (
    ChipXylo,
    FitConfig,
    RateXylo,
    chip_accuracy,
    chip_predict,
    finetune_chip,
    rate_accuracy,
    rate_from_spec,
    state_ranges,
    train_rate,
)


def _data(seed: int, n: int = 24, vocab: int = 12, width: int = 7):
    rng = np.random.default_rng(seed)
    lengths = rng.integers(1, width + 1, n)
    tokens = rng.integers(1, vocab, (n, width)) * (np.arange(width)[None, :] < lengths[:, None])
    labels = rng.integers(0, 3, n)
    return SimpleNamespace(tokens=tokens, lengths=lengths, labels=labels)


def _spec(seed: int, dynamics: XyloDynamics, hidden: int = 10, vocab: int = 12):
    rate = RateXylo(vocab, hidden, 3, dynamics, seed=seed)
    with torch.no_grad():
        rate.w_in.mul_(8.0)
        rate.w_rec.mul_(4.0)
        rate.bias.add_(0.3)
        rate.w_out.mul_(20.0)
    model = rate.export()
    ranges = state_ranges(rate, _data(seed, vocab=vocab))
    scales = choose_scales(model, ranges, 12.0)
    return rate, model, scales, to_spec(model, scales, "xylo-audio2", ("a", "b", "c"))


@pytest.mark.parametrize("seed", range(4))
@pytest.mark.parametrize("dynamics", [XyloDynamics(), XyloDynamics(dash_syn=2, dash_mem=1, dash_syn_out=3,
                                                                   dash_mem_out=4, tail_ticks=2,
                                                                   ticks_per_step=2)])
def test_chip_forward_is_the_simulator(seed, dynamics):
    """The fine-tune's forward values equal the simulator's output Vmem at the read tick, bit for bit."""
    _, _, scales, spec = _spec(seed, dynamics)
    if seed == 3:  # input far too strong for 16 bits (int8 still): saturation must be modelled, not avoided
        spec = replace(spec, weights_in=np.minimum(np.abs(spec.weights_in) + 60, 127), weight_shift_in=8)
    data = _data(seed + 10)
    chip = ChipXylo(spec, dynamics, scales.out_scale)
    surrogate, exact = chip(data.tokens, data.lengths)
    counts, read = rasters(spec, data.tokens, data.lengths, dynamics.tail_ticks)
    record = simulate(spec, counts, record=True)
    expected = record.vmem_out[np.arange(len(read)), read - 1]
    assert np.array_equal(exact, expected)
    assert np.allclose(surrogate.detach().numpy(), expected, rtol=0, atol=1e-6)
    assert np.array_equal(chip_predict(spec, data, dynamics.tail_ticks), classify(record, "vmem_last", read))
    assert record.spikes.sum() > 0  # the hidden layer is active, so the equality says something
    if seed == 3:  # Isyn saturated at 2^15 - 1 before its decay (it is recorded after it)
        top = 2 ** 15 - 1
        assert (record.isyn == top - (top >> dynamics.dash_syn)).any()


def test_an_invalid_template_is_refused_not_clamped():
    """A template outside the chip's ranges would be trained as a different (clamped) network."""
    _, _, scales, spec = _spec(0, XyloDynamics())
    bad = replace(spec, weights_in=np.abs(spec.weights_in) + 60)
    with pytest.raises(HardwareLimitError, match="8-bit weights"):
        ChipXylo(bad, XyloDynamics(), scales.out_scale)


def test_surrogate_gradient_reaches_every_layer():
    _, _, scales, spec = _spec(0, XyloDynamics())
    data = _data(1)
    chip = ChipXylo(spec, XyloDynamics(), scales.out_scale)
    out, _ = chip(data.tokens, data.lengths)
    torch.nn.functional.cross_entropy(out / chip.out_scale, torch.as_tensor(data.labels)).backward()
    for name in ("p_in", "p_rec", "p_out", "p_bias", "p_enc"):
        grad = getattr(chip, name).grad
        assert grad is not None and torch.isfinite(grad).all() and grad.abs().sum() > 0, name


def test_finetune_learns_a_separable_task_on_the_chip():
    """Labels that the first token decides: fine-tuning through the chip's tick must raise accuracy."""
    dyn = XyloDynamics()
    data = _data(2, n=96, vocab=13)
    data.labels = (data.tokens[:, 0] % 3).astype(np.int64)
    _, _, scales, spec = _spec(5, dyn, vocab=13)
    chip = ChipXylo(spec, dyn, scales.out_scale)
    before = float(np.mean(chip_predict(spec, data, dyn.tail_ticks) == data.labels))
    result = finetune_chip(chip, data, data, FitConfig(epochs=15, lr=2e-2, batch_size=32, patience=15))
    after = float(np.mean(chip_predict(chip.spec(), data, dyn.tail_ticks) == data.labels))
    assert after == result.best_val_accuracy
    assert after >= before + 0.2, (before, after)


def test_quantised_rate_model_tracks_the_float_one():
    """The spec's integers in the rate model: close to the float model's logits (rounding only)."""
    rate, _, scales, spec = _spec(0, XyloDynamics())
    data = _data(3)
    quant = rate_from_spec(spec, XyloDynamics(), scales.out_scale)
    with torch.no_grad():
        a, b = rate(data.tokens, data.lengths), quant(data.tokens, data.lengths)
    assert torch.corrcoef(torch.stack([a.flatten(), b.flatten()]))[0, 1] > 0.95
    assert rate_accuracy(quant, data) == pytest.approx(rate_accuracy(rate, data), abs=0.2)


def test_scales_keep_weights_in_int8_and_states_in_16_bits():
    _, _, scales, spec = _spec(1, XyloDynamics())
    for w in (spec.weights_in, spec.weights_rec, spec.weights_out):
        assert -128 <= w.min() and w.max() <= 127
        assert np.abs(w).max() >= 64  # the shift is the smallest that fits: half the range is used
    assert 1 <= scales.threshold <= MAX_THRESHOLD


def test_rasters_hold_each_word_for_its_ticks_then_blank():
    _, _, _, spec = _spec(0, XyloDynamics(ticks_per_step=2))
    tokens = np.array([[3, 4, 0], [5, 0, 0]])
    counts, read = rasters(spec, tokens, np.array([2, 1]), tail_ticks=2)
    table = spec.encoder_table
    assert counts.shape == (2, 3 * 2 + 2, 16)
    assert np.array_equal(counts[0, :4], np.concatenate([table[3], table[4]]))
    assert not counts[0, 4:].any() and not counts[1, 2:].any()
    assert read.tolist() == [2 * 2 + 2, 1 * 2 + 2]
    with pytest.raises(HardwareLimitError, match="token ids"):
        rasters(spec, np.array([[len(table)]]), np.array([1]), 1)


def _float(n_in=16, hidden=8, classes=3):
    rng = np.random.default_rng(0)
    return FloatXylo(encoder=rng.uniform(0, 15, (5, n_in)), w_in=rng.normal(0, 0.1, (n_in, hidden)),
                     w_rec=rng.normal(0, 0.1, (hidden, hidden)), bias=np.zeros(hidden),
                     w_out=rng.normal(0, 0.1, (hidden, classes)), dynamics=XyloDynamics())


RANGES = StateRange(hidden_p999=4.0, hidden_max=6.0, isyn=3.0, vmem=5.0, isyn_out=2.0, vmem_out=10.0)


@pytest.mark.parametrize("shape, match", [({"n_in": 17}, "16 input channels"),
                                          ({"hidden": 1001}, "1000 hidden neurons"),
                                          ({"classes": 9}, "8 output neurons")])
def test_limits_refused_with_the_limit_named(shape, match):
    model = _float(**shape)
    with pytest.raises(HardwareLimitError, match=match):
        to_spec(model, choose_scales(model, RANGES, 8.0), "xylo-audio2")


def test_dense_recurrence_beyond_the_fanout_is_refused():
    model = _float(hidden=65)
    with pytest.raises(HardwareLimitError, match="fan-out limit is 64"):
        to_spec(model, choose_scales(model, RANGES, 8.0), "xylo-audio2")


def test_weights_needing_more_than_8_bits_at_the_shift_are_refused():
    model = _float()
    scales = choose_scales(model, RANGES, 8.0)
    assert scales.weight_shift_rec > 0
    tight = Scales(**{**scales.__dict__, "weight_shift_rec": scales.weight_shift_rec - 1})
    with pytest.raises(HardwareLimitError, match=f"weights_rec needs .* > 127 in int8; use shift "
                                                 f"{scales.weight_shift_rec}"):
        to_spec(model, tight, "xylo-audio2")


def test_bad_dynamics_refused():
    with pytest.raises(HardwareLimitError, match="dash_syn = 0"):
        XyloDynamics(dash_syn=0)
    with pytest.raises(HardwareLimitError, match="tail_ticks"):
        XyloDynamics(tail_ticks=0)


def test_recurrent_mask_keeps_the_fanout_and_memory_limits():
    dense = recurrent_mask(64, 64)
    assert dense.all() and dense.shape == (64, 64)
    wide = recurrent_mask(300, 64, seed=1)
    assert (wide.sum(axis=1) == 64).all()
    assert np.array_equal(wide, recurrent_mask(300, 64, seed=1))  # same seed, same mask
    full = recurrent_mask(1000, 64)  # the memory (32,000 pairs) bounds the fan-out to 32
    assert (full.sum(axis=1) == 32).all()


def test_a_sparse_wide_layer_trains_inside_its_mask_and_runs_as_simulated():
    """Wider than the fan-out: the float model, the spec and the fine-tune keep the mask."""
    dyn = XyloDynamics(ticks_per_step=2)
    mask = recurrent_mask(80, 8, seed=2)
    rate = RateXylo(12, 80, 3, dyn, seed=0, rec_mask=mask)
    with torch.no_grad():
        rate.w_in.mul_(8.0)
        rate.w_rec.mul_(4.0)
        rate.bias.add_(0.3)
    data = _data(4)
    model = rate.export()
    assert not model.w_rec[~mask].any()
    scales = choose_scales(model, state_ranges(rate, data), 12.0)
    spec = to_spec(model, scales, "xylo-audio2", ("a", "b", "c"))
    chip = ChipXylo(spec, dyn, scales.out_scale, rec_mask=mask)
    finetune_chip(chip, data, data, FitConfig(epochs=2, lr=5e-2, batch_size=8, patience=2))
    tuned = chip.spec()
    assert not tuned.weights_rec[:, :, 0][~mask].any()
    _, exact = chip(data.tokens, data.lengths)
    counts, read = rasters(tuned, data.tokens, data.lengths, dyn.tail_ticks)
    record = simulate(tuned, counts, record=True)
    assert np.array_equal(exact, record.vmem_out[np.arange(len(read)), read - 1])
    assert record.spikes.sum() > 0


def test_finetune_with_distillation_runs_and_keeps_the_best_epoch():
    dyn = XyloDynamics()
    data = _data(2, n=48, vocab=13)
    rate, _, scales, spec = _spec(5, dyn, vocab=13)
    chip = ChipXylo(spec, dyn, scales.out_scale)
    result = finetune_chip(chip, data, data, FitConfig(epochs=2, lr=2e-2, batch_size=16, patience=2),
                           teacher=rate, distill=0.5, temperature=2.0)
    assert all(np.isfinite(row.loss) for row in result.history)
    after = float(np.mean(chip_predict(chip.spec(), data, dyn.tail_ticks) == data.labels))
    assert after == result.best_val_accuracy


def test_word_vectors_feed_the_table_and_export_as_a_table():
    """With vectors the float table is computed from them; the spec holds that table (an off-chip lookup)."""
    dyn = XyloDynamics(ticks_per_step=2)
    vectors = np.random.default_rng(0).normal(0, 0.4, (12, 5))
    vectors[0] = 0
    rate = RateXylo(12, 10, 3, dyn, seed=0, vectors=vectors)
    data = _data(6)
    loss = torch.nn.functional.cross_entropy(rate(data.tokens, data.lengths), torch.as_tensor(data.labels))
    loss.backward()
    assert rate.vec_map.grad.abs().sum() > 0 and rate.vectors.grad.abs().sum() > 0
    model = rate.export()
    assert model.encoder.shape == (12, 2, 16) and not model.encoder[0].any()
    assert 0 <= model.encoder.min() and model.encoder.max() <= 15
    spec = to_spec(model, choose_scales(model, state_ranges(rate, data), 8.0), "xylo-audio2", ("a", "b", "c"))
    assert spec.encoder_table.shape == (12, 2, 16)


def test_the_chain_is_deterministic_and_fits_the_chip():
    """convert_for_xylo end to end on a toy task: same seed, same spec; the spec passes validate()."""
    from rnn2snn.targets.xylo.method import XyloSettings, convert_for_xylo
    from rnn2snn.targets.xylo.spec import validate

    data = _data(7, n=48, vocab=13)
    data.labels = (data.tokens[:, 0] % 3).astype(np.int64)
    settings = XyloSettings(hidden=12, dynamics=XyloDynamics(ticks_per_step=2), target_counts=(8.0,),
                            epochs=2, ft_epochs=1, dropout=0.25, ft_distill=0.5)
    runs = [convert_for_xylo(data, data, data, 13, ("a", "b", "c"), "xylo-audio2", settings)
            for _ in range(2)]
    a, b = (run.spec for run in runs)
    assert validate(a) is a
    for name in ("weights_in", "weights_rec", "weights_out", "bias", "encoder_table"):
        assert np.array_equal(getattr(a, name), getattr(b, name)), name
    assert [s.name for s in runs[0].stages] == ["float", "quantised", "spiking_before_finetune", "spiking"]
    assert [(x.val, x.test) for x in runs[0].stages] == [(x.val, x.test) for x in runs[1].stages]


def test_frozen_vectors_stay_as_given():
    dyn = XyloDynamics()
    vectors = np.random.default_rng(1).normal(0, 0.4, (12, 5))
    rate = RateXylo(12, 10, 3, dyn, seed=0, vectors=vectors, tune_vectors=False)
    data = _data(8)
    train_rate(rate, data, data, FitConfig(epochs=1, batch_size=8))
    assert np.array_equal(rate.vectors.detach().numpy(), vectors)


def test_a_float_cnn_teacher_is_trained_measured_and_distilled():
    from rnn2snn.targets.xylo.method import XyloSettings, convert_for_xylo

    data = _data(9, n=40, vocab=13)
    settings = XyloSettings(hidden=8, target_counts=(8.0,), epochs=1, ft_epochs=1, teacher_maps=4,
                            teacher_epochs=1, distill=0.5, ft_distill=0.5)
    conv = convert_for_xylo(data, data, None, 13, ("a", "b", "c"), "xylo-audio2", settings)
    assert conv.teacher is not None and 0 <= conv.teacher.val <= 1 and conv.teacher.test is None
    assert conv.stage("spiking").test is None


def test_members_are_blocks_that_never_feed_each_other_and_sum_at_the_outputs():
    """members=3: a block-diagonal recurrent layer (one shared table) whose members' output
    contributions sum to the logits; each learns on its own loss, and the chip runs the spec."""
    from rnn2snn.targets.xylo.method import XyloSettings, convert_for_xylo

    rate = RateXylo(12, 12, 3, XyloDynamics(), seed=2, members=3)
    data = _data(4, vocab=12)
    each = rate(data.tokens, data.lengths, each=True)
    assert each.shape == (3, len(data.labels), 3)
    assert torch.allclose(each.sum(0), rate(data.tokens, data.lengths))
    blocks = np.arange(12) // 4
    assert not rate.export().w_rec[blocks[:, None] != blocks[None, :]].any()
    with pytest.raises(HardwareLimitError, match="members = 5 must be >= 1 and divide hidden = 12"):
        RateXylo(12, 12, 3, XyloDynamics(), members=5)

    data = _data(11, n=40, vocab=13)
    data.labels = (data.tokens[:, 0] % 3).astype(np.int64)
    settings = XyloSettings(hidden=12, members=3, target_counts=(8.0,), epochs=2, ft_epochs=1)
    conv = convert_for_xylo(data, data, None, 13, ("a", "b", "c"), "xylo-audio2", settings)
    w = conv.spec.weights_rec[:, :, 0]
    assert not w[blocks[:, None] != blocks[None, :]].any() and w[blocks[:, None] == blocks[None, :]].any()
    assert conv.stage("spiking").val == chip_accuracy(conv.spec, data, settings.dynamics.tail_ticks)


def test_members_widen_the_layer_past_the_fanout_limit_but_each_must_fit():
    """Audio 2's fan-out (64) bounds a member, not the layer: 4 × 64 fit, 1 × 128 dense does not."""
    from rnn2snn.targets.xylo.method import XyloSettings, convert_for_xylo

    data = _data(3)
    with pytest.raises(HardwareLimitError, match=r"settings.hidden=128: .*fan-out limit is 64"):
        convert_for_xylo(data, data, None, 12, ("a", "b", "c"), "xylo-audio2",
                         XyloSettings(hidden=128, fanout=128, epochs=0, ft_epochs=0))
    with pytest.raises(HardwareLimitError, match=r"members=3: must be ≥ 1 and divide settings.hidden=128"):
        convert_for_xylo(data, data, None, 12, ("a", "b", "c"), "xylo-audio2",
                         XyloSettings(hidden=128, members=3, epochs=0, ft_epochs=0))
    with pytest.raises(HardwareLimitError, match="9 classes: .* 8 output neurons"):  # before any training
        convert_for_xylo(data, data, None, 12, tuple("abcdefghi"), "xylo-audio2", XyloSettings(epochs=0))
    assert recurrent_mask(256, 64, "xylo-audio2", 0, members=4).sum(1).max() == 64


def test_the_token_chain_keeps_the_imu_layout_above_128_neurons():
    """Xylo IMU: only the first 128 hidden neurons take input and only the last 128 drive
    outputs; a 144-neuron token network trains with the others' weights held at 0."""
    from rnn2snn.targets.xylo.method import XyloSettings, convert_for_xylo

    data = _data(5, n=32, vocab=12)
    settings = XyloSettings(hidden=144, target_counts=(8.0,), epochs=1, ft_epochs=1)
    conv = convert_for_xylo(data, data, None, 12, ("a", "b", "c"), "xylo-imu", settings)
    spec = conv.spec
    assert not spec.weights_in[:, 128:].any() and not spec.weights_out[:16].any()
    assert spec.weights_in[:, :128].any() and spec.weights_out[16:].any()


def test_several_teacher_cnns_are_averaged():
    from rnn2snn.targets.xylo.method import XyloSettings, _train_teacher

    data = _data(9, n=40, vocab=13)
    one, two = (_train_teacher(data, data, 13, 3, XyloSettings(teacher_maps=4, teacher_epochs=1, teachers=k))
                for k in (1, 2))
    second = _train_teacher(data, data, 13, 3, XyloSettings(teacher_maps=4, teacher_epochs=1, seed=1000))
    logits = [t(data.tokens, data.lengths) for t in (one, two, second)]
    assert torch.allclose(logits[1], (logits[0] + logits[2]) / 2)


def test_settings_and_token_ids_the_chain_cannot_run_are_refused_before_training(monkeypatch):
    import rnn2snn.targets.xylo.method as method
    from rnn2snn.checks import ParameterError

    monkeypatch.setattr(method, "train_rate", lambda *a, **k: pytest.fail("trained before refusing"))
    data = _data(3)  # token ids 1..11
    for settings, words in ((method.XyloSettings(target_counts=()), "settings.target_counts=()"),
                            (method.XyloSettings(fanout=0), "settings.fanout=0: must be a whole number ≥ 1"),
                            (method.XyloSettings(dropout=1.0), "settings.dropout=1.0"),
                            (method.XyloSettings(ft_distill=2.0), "settings.ft_distill=2.0")):
        with pytest.raises(ParameterError, match=re.escape(words)):
            method.convert_for_xylo(data, data, None, 12, ("a", "b", "c"), "xylo-audio2", settings)
    with pytest.raises(ParameterError, match=r"n_tokens=8: fit holds token id 11; ids must lie in 0…7"):
        method.convert_for_xylo(data, data, None, 8, ("a", "b", "c"), "xylo-audio2", method.XyloSettings())
