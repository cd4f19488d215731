"""Xylo from feature frames: the host feature map in the spec, the IMU layout, the chain end to end."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest
import torch
from extras import needs

from rnn2snn.errors import HardwareLimitError, ModelFileError
from rnn2snn.targets.xylo.chips import get_chip
from rnn2snn.targets.xylo.convert import XyloDynamics, choose_scales
from rnn2snn.targets.xylo.features import (
    ChipFeatureXylo,
    FeatureSet,
    RateFeatureXylo,
    check_feature_limits,
    convert_features_for_xylo,
    feature_chip_predict,
    feature_rasters,
    features_to_spec,
    normalisation,
)
from rnn2snn.targets.xylo.method import XyloSettings
from rnn2snn.targets.xylo.simulate import classify, simulate
from rnn2snn.targets.xylo.spec import encode_features, load_spec, save_spec, validate, xylosim_kwargs
from rnn2snn.targets.xylo.train import state_ranges


def _data(seed: int, n: int = 27, width: int = 8, n_features: int = 5, classes: int = 3) -> FeatureSet:
    """Separable toy sequences: each class shifts the mean of its frames (raw units, not normalised)."""
    rng = np.random.default_rng(seed)
    labels = np.arange(n) % classes
    lengths = rng.integers(3, width + 1, n)
    frames = rng.normal(2.0, 3.0, (n, width, n_features)) + 3.0 * labels[:, None, None]
    frames *= (np.arange(width)[None, :] < lengths[:, None])[..., None]
    return FeatureSet(frames, lengths, labels)


def _spec(seed: int, dynamics: XyloDynamics, hidden: int = 12, chip: str = "xylo-imu"):
    data = _data(seed)
    mean, std = normalisation(data)
    rate = RateFeatureXylo(5, hidden, 3, dynamics, mean, std, chip, seed=seed)
    with torch.no_grad():
        rate.w_in.mul_(8.0)
        rate.w_rec.mul_(4.0)
        rate.bias.add_(0.3)
        rate.w_out.mul_(20.0)
    scales = choose_scales(rate.export(), state_ranges(rate, data), 12.0)
    return rate, scales, features_to_spec(rate, scales, chip, ("a", "b", "c")), data


def test_spec_keeps_the_feature_encoder_through_save_and_load(tmp_path):
    _, _, spec, data = _spec(0, XyloDynamics())
    assert spec.encoder_table is None and spec.feature_weights.shape == (5, 16)
    loaded = load_spec(save_spec(spec, tmp_path / "s.npz"))
    assert np.array_equal(loaded.feature_weights, spec.feature_weights)
    assert np.array_equal(loaded.feature_bias, spec.feature_bias)
    assert np.array_equal(encode_features(loaded, data.features), encode_features(spec, data.features))
    assert not any(k.startswith("rnn2snn_") for k in xylosim_kwargs(spec))  # xylosim never sees it
    with np.load(tmp_path / "s.npz") as stored:
        assert stored["rnn2snn_feature_weights"].dtype == np.float64


def test_encoder_rounds_and_clips_to_the_chip_counts():
    _, _, spec, _ = _spec(0, XyloDynamics())
    spec = replace(spec, feature_weights=np.eye(5, 16) * 2.0, feature_bias=np.full(16, 0.5))
    counts = encode_features(spec, np.array([[-3.0, 0.0, 1.6, 7.0, 40.0]]))
    assert counts[0, :5].tolist() == [
        0,
        0,
        4,
        14,
        15,
    ]  # round(-5.5)→0, round(0.5)=0 (half to even), …, clip 15
    assert counts[0, 5:].tolist() == [0] * 11
    with pytest.raises(HardwareLimitError, match="F = 5"):
        encode_features(spec, np.zeros((2, 4)))
    with pytest.raises(HardwareLimitError, match="feature_weights and feature_bias come together"):
        replace(spec, feature_bias=None)
    with pytest.raises(HardwareLimitError, match=r"feature_weights must be \(F, Nin\)"):
        replace(spec, feature_weights=np.zeros((5, 15)))


def test_rasters_repeat_each_frame_and_end_with_blank_ticks():
    _, _, spec, data = _spec(1, XyloDynamics(ticks_per_step=2, tail_ticks=3))
    spec = replace(spec, ticks_per_step=2)
    counts, read = feature_rasters(spec, data.features, data.lengths, 3)
    assert counts.shape == (len(data), 2 * data.features.shape[1] + 3, 16)
    assert np.array_equal(read, 2 * data.lengths + 3)
    frames = encode_features(spec, data.features)
    assert np.array_equal(counts[:, 0], frames[:, 0]) and np.array_equal(counts[:, 1], frames[:, 0])
    for b, n in enumerate(data.lengths):
        assert not counts[b, 2 * n :].any()


def test_validate_enforces_the_imu_layout():
    """Xylo IMU: input only to the first 128 hidden neurons, outputs only from the last 128."""
    _, _, spec, _ = _spec(0, XyloDynamics())
    n = 160
    grow = {
        "weights_in": np.zeros((16, n, 1), np.int64),
        "weights_rec": np.zeros((n, n, 1), np.int64),
        "weights_out": np.zeros((n, 3), np.int64),
    }
    grow.update({name: np.ones(n, np.int64) for name in ("dash_mem", "dash_syn", "dash_syn_2", "threshold")})
    wide = replace(spec, bias=np.zeros(n, np.int64), **grow)
    validate(wide)
    w_in = wide.weights_in.copy()
    w_in[0, 128, 0] = 1
    with pytest.raises(HardwareLimitError, match="first 128 hidden neurons may receive input.*neuron 128"):
        validate(replace(wide, weights_in=w_in))
    w_out = wide.weights_out.copy()
    w_out[31, 0] = 1
    with pytest.raises(HardwareLimitError, match="last 128 hidden neurons may drive output.*neuron 31"):
        validate(replace(wide, weights_out=w_out))
    validate(
        replace(wide, weights_out=np.pad(w_out[32:], ((32, 0), (0, 0))))
    )  # neuron 32 is the first allowed


def test_masks_keep_a_wide_network_inside_the_imu_layout():
    inputs, outputs = get_chip("xylo-imu").layout(160)
    assert inputs.sum() == 128 and inputs[:128].all() and outputs.sum() == 128 and outputs[32:].all()
    assert all(m.all() for m in get_chip("xylo-imu").layout(128)) and all(
        m.all() for m in get_chip("xylo-audio2").layout(600)
    )
    _, _, spec, _ = _spec(2, XyloDynamics(), hidden=160)
    assert not spec.weights_in[:, 128:].any() and not spec.weights_out[:32].any()
    assert spec.weights_in[:, :128].any() and spec.weights_out[32:].any()


def test_limits_are_refused_before_training_with_the_limit_named():
    with pytest.raises(HardwareLimitError, match="9 classes: .* has 8 output neurons"):
        check_feature_limits("xylo-audio2", 12, 64, 9)
    with pytest.raises(HardwareLimitError, match=r"settings.hidden=200: .*recurrent memory holds 31,744 .* "
                                                 r"200² = 40,000: at most 178"):
        check_feature_limits("xylo-imu", 12, 200, 9)
    with pytest.raises(HardwareLimitError, match="settings.hidden=100: .*fan-out limit is 64"):
        check_feature_limits("xylo-audio2", 12, 100, 6)
    # members: each is a dense layer of its own (4 x 64 fit Audio 2's fan-out, 2 x 150 not IMU's memory)
    assert check_feature_limits("xylo-audio2", 12, 256, 6, members=4).name == "xylo-audio2"
    with pytest.raises(HardwareLimitError, match=r"2 × 150² = 45,000"):
        check_feature_limits("xylo-imu", 12, 300, 9, members=2)
    with pytest.raises(HardwareLimitError, match="members=3: must be ≥ 1 and divide settings.hidden=64"):
        check_feature_limits("xylo-imu", 12, 64, 9, members=3)
    with pytest.raises(HardwareLimitError, match="n_features = 0"):
        check_feature_limits("xylo-imu", 0, 64, 9)
    assert check_feature_limits("xylo-imu", 12, 128, 9).name == "xylo-imu"
    data = _data(0)
    with pytest.raises(HardwareLimitError, match="9 classes: .* has 8 output neurons"):  # before any training
        convert_features_for_xylo(data, data, None, 5, tuple("abcdefghi"), "xylo-audio2")


@pytest.mark.parametrize("seed", range(3))
@pytest.mark.parametrize(
    "dynamics",
    [XyloDynamics(dash_mem=2), XyloDynamics(dash_syn=2, dash_mem=1, tail_ticks=2, ticks_per_step=2)],
)
def test_chip_forward_is_the_simulator(seed, dynamics):
    """The fine-tune's forward values equal the simulator's output Vmem at the read tick, bit for bit."""
    rate, scales, spec, _ = _spec(seed, dynamics, hidden=12 + 4 * seed)
    data = _data(seed + 10)
    chip = ChipFeatureXylo(spec, rate, scales.out_scale)
    chip.eval()
    surrogate, exact = chip(data.features, data.lengths)
    counts, read = feature_rasters(spec, data.features, data.lengths, dynamics.tail_ticks)
    record = simulate(spec, counts, record=True)
    expected = record.vmem_out[np.arange(len(read)), read - 1]
    assert np.array_equal(exact, expected)
    assert np.allclose(surrogate.detach().numpy(), expected, rtol=0, atol=1e-6)
    assert np.array_equal(
        feature_chip_predict(spec, data, dynamics.tail_ticks), classify(record, "vmem_last", read)
    )
    assert record.spikes.sum() > 0 and counts.sum() > 0


def test_surrogate_gradient_reaches_the_encoder_and_every_layer():
    rate, scales, spec, data = _spec(0, XyloDynamics(dash_mem=2))
    chip = ChipFeatureXylo(spec, rate, scales.out_scale)
    surrogate, _ = chip(data.features, data.lengths)
    torch.nn.functional.cross_entropy(surrogate / scales.out_scale, torch.as_tensor(data.labels)).backward()
    for name in ("p_in", "p_rec", "p_out", "p_bias"):
        assert getattr(chip, name).grad.abs().sum() > 0, name
    assert chip.encoder.weight.grad.abs().sum() > 0


def _run(members: int = 1):
    settings = XyloSettings(
        hidden=16, dynamics=XyloDynamics(dash_mem=2), target_counts=(8.0,), epochs=4, ft_epochs=1, seed=3,
        noise=0.2, members=members,
    )
    return convert_features_for_xylo(
        _data(0, n=45),
        _data(1, n=18),
        _data(2, n=18),
        5,
        ("a", "b", "c"),
        "xylo-imu",
        settings,
    )


def test_the_chain_runs_every_stage_and_repeats_itself():
    first, second = _run(), _run()
    assert [s.name for s in first.stages] == ["float", "quantised", "spiking_before_finetune", "spiking"]
    assert [(s.val, s.test) for s in first.stages] == [(s.val, s.test) for s in second.stages]
    for name in ("weights_in", "weights_rec", "weights_out", "bias", "feature_weights", "feature_bias"):
        assert np.array_equal(getattr(first.spec, name), getattr(second.spec, name)), name
    validate(first.spec, "xylo-imu")
    assert first.stage("float").val > 0.5  # the toy classes are separable


def test_members_are_blocks_of_the_recurrent_matrix():
    spec = _run(members=2).spec
    assert not spec.weights_rec[:8, 8:].any() and not spec.weights_rec[8:, :8].any()
    assert spec.weights_rec[:8, :8].any() and spec.weights_rec[8:, 8:].any()


@needs("xylosim")
@needs("rockpool")
def test_a_feature_spec_matches_xylosim_on_imu():
    from rnn2snn.targets.xylo.xylosim_run import compare_with_xylosim

    _, _, spec, data = _spec(4, XyloDynamics(dash_mem=2), hidden=20)
    counts, _ = feature_rasters(spec, data.features[:6], data.lengths[:6], 1)
    comparison = compare_with_xylosim(spec, counts)
    assert comparison.total_mismatches == 0 and comparison.compared["spikes"] == 6 * counts.shape[1] * 20


def test_feature_set_refuses_bad_shapes():
    with pytest.raises(HardwareLimitError, match="lengths must lie"):
        FeatureSet(np.zeros((2, 3, 4)), np.array([0, 3]), np.array([0, 1]))
    with pytest.raises(HardwareLimitError, match=r"\(N, L, F\)"):
        FeatureSet(np.zeros((2, 3)), np.array([1, 3]), np.array([0, 1]))


def test_a_broken_feature_encoder_in_a_file_is_named(tmp_path):
    _, _, spec, _ = _spec(0, XyloDynamics())
    path = save_spec(spec, tmp_path / "s.npz")
    with np.load(path) as stored:
        arrays = {k: stored[k] for k in stored.files}
    arrays["rnn2snn_feature_bias"] = np.zeros(15)
    np.savez(tmp_path / "bad.npz", **arrays)
    with pytest.raises(ModelFileError, match="feature_weights must be"):
        load_spec(tmp_path / "bad.npz")
