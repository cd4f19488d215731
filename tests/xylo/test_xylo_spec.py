"""The Xylo spec: limits refused with the limit named, and the .npz that XyloSim.from_specification loads."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest
from extras import needs
from xylo_cases import random_spec

from rnn2snn.errors import HardwareLimitError, ModelFileError
from rnn2snn.targets.xylo.chips import CHIPS, get_chip
from rnn2snn.targets.xylo.simulate import classify, simulate
from rnn2snn.targets.xylo.spec import (
    EXTRA_PREFIX,
    XyloSpec,
    load_spec,
    load_xylosim_kwargs,
    save_spec,
    validate,
    xylosim_kwargs,
)


def sized(n_inputs=16, n_hidden=8, n_outputs=4, synapses=2, chip="xylo-audio2", **changes) -> XyloSpec:
    """A valid all-zero-weight spec of the given sizes (thresholds 1), with ``changes`` applied."""
    z = np.zeros
    spec = XyloSpec(weights_in=z((n_inputs, n_hidden, synapses)),
                    weights_rec=z((n_hidden, n_hidden, synapses)),
                    weights_out=z((n_hidden, n_outputs)), dash_mem=z(n_hidden), dash_syn=z(n_hidden),
                    dash_syn_2=z(n_hidden), threshold=np.ones(n_hidden), bias=z(n_hidden),
                    dash_mem_out=z(n_outputs), dash_syn_out=z(n_outputs), threshold_out=np.ones(n_outputs),
                    bias_out=z(n_outputs), chip=chip)
    return replace(spec, **changes)


def test_chips_hold_the_published_sizes():
    audio2, imu = get_chip("xylo-audio2"), get_chip("xylo-imu")
    assert (audio2.n_inputs, audio2.n_hidden, audio2.n_outputs, audio2.synapses) == (16, 1000, 8, 2)
    assert (imu.n_inputs, imu.n_hidden, imu.n_outputs, imu.synapses) == (16, 496, 16, 1)
    assert (imu.max_fanout, imu.recurrent_memory) == (512, 31_744)
    assert (audio2.max_fanout, audio2.recurrent_memory) == (64, 32_000)
    with pytest.raises(HardwareLimitError, match="xylo-audio2, xylo-imu"):
        get_chip("xylo-audio3")


@pytest.mark.parametrize("chip", sorted(CHIPS))
def test_the_largest_spec_fits(chip):
    c = get_chip(chip)
    validate(sized(n_hidden=c.n_hidden, n_outputs=c.n_outputs, synapses=c.synapses, chip=chip))


@pytest.mark.parametrize("spec, match", [
    (lambda: sized(n_inputs=17), "has 16 input channels; the spec needs 17"),
    (lambda: sized(n_hidden=1001), "has 1000 hidden neurons; the spec needs 1001"),
    (lambda: sized(n_outputs=9), "has 8 output neurons; the spec needs 9"),
    (lambda: sized(chip="xylo-imu", n_hidden=497, synapses=1), "has 496 hidden neurons"),
    (lambda: sized(chip="xylo-imu", synapses=2), "has 1 synapses per hidden neuron; the spec needs 2"),
    (lambda: sized(n_outputs=4, classes=tuple("abcdefghi")), "9 class names for 4 output neurons"),
])
def test_sizes_beyond_the_chip_are_refused(spec, match):
    with pytest.raises(HardwareLimitError, match=match):
        validate(spec())


def test_each_range_is_refused_naming_the_array_and_place():
    w = np.zeros((16, 8, 2))
    w[3, 5, 1] = 128
    cases = [(dict(weights_in=w), r"8-bit weights \(-128..127\); weights_in\[3, 5, 1\] is 128"),
             (dict(weights_out=-129 * np.ones((8, 4))), r"weights_out\[0, 0\] is -129"),
             (dict(weight_shift_rec=16), r"4-bit weight shifts \(0..15\); weight_shift_rec is 16"),
             (dict(dash_syn_2=np.full(8, 16)), r"4-bit decay shifts \(0..15\); dash_syn_2\[0\] is 16"),
             (dict(threshold=np.full(8, 32768)), r"16-bit positive thresholds \(1..32767\); threshold\[0\]"),
             (dict(threshold_out=np.zeros(4)), r"threshold_out\[0\] is 0"),
             (dict(bias=np.full(8, -32769)), r"16-bit biases \(-32768..32767\); bias\[0\] is -32769")]
    for changes, match in cases:
        with pytest.raises(HardwareLimitError, match=match):
            validate(sized(**changes))


def test_a_shifted_weight_that_would_wrap_is_refused():
    w = np.zeros((8, 8, 2))
    w[1, 2, 0] = 127
    validate(sized(weights_rec=w, weight_shift_rec=8))  # 127 << 8 = 32512 fits
    with pytest.raises(HardwareLimitError, match=r"weights_rec\[1, 2, 0\] = 127 shifted left by "
                                                 r"weight_shift_rec = 9 is 65024, outside 16 bits"):
        validate(sized(weights_rec=w, weight_shift_rec=9))


def test_imu_fanout_weight_memory_and_expansion_limits():
    imu = dict(chip="xylo-imu", synapses=1)
    rec = np.zeros((496, 496, 1))
    rec[7, :, 0] = 1  # 496 targets: within 512
    validate(sized(n_hidden=496, weights_rec=rec, **imu))
    audio = np.zeros((100, 100, 2))
    audio[4, :64, 0], audio[4, :64, 1] = 1, 1  # 64 targets, both synapses: one memory entry each
    validate(sized(n_hidden=100, weights_rec=audio))
    audio[4, 64, 1] = 1
    with pytest.raises(HardwareLimitError, match="hidden neuron 4 has recurrent weights to 65 neurons; the "
                                                 "chip's fan-out limit is 64"):
        validate(sized(n_hidden=100, weights_rec=audio))
    full = np.zeros((1000, 1000, 2))
    for j in range(1000):
        full[j, (j + np.arange(32)) % 1000, j % 2] = 1  # 32 targets each: 32,000 in all, the limit
    validate(sized(n_hidden=1000, weights_rec=full))
    full[0, 500, 0] = 1
    with pytest.raises(HardwareLimitError, match="32001 .source, target. pairs with a weight; the chip's "
                                                 "recurrent memory holds 32000"):
        validate(sized(n_hidden=1000, weights_rec=full))
    dense = np.ones((496, 496, 1))
    dense[:, 64:, 0] = 0  # 64 targets each, 31,744 weights in all: the limit
    validate(sized(n_hidden=496, weights_rec=dense, **imu))
    dense[0, 100, 0] = 1  # one more (fan-out 65, still within 512)
    with pytest.raises(HardwareLimitError, match="31745 .source, target. pairs with a weight; the chip's "
                                                 "recurrent memory holds 31744"):
        validate(sized(n_hidden=496, weights_rec=dense, **imu))
    w_in = np.zeros((16, 200, 1))
    w_in[2, 150, 0] = 1
    with pytest.raises(HardwareLimitError, match="only the first 128 hidden neurons may receive input "
                                                 "weights; weights_in reaches neuron 150"):
        validate(sized(n_hidden=200, weights_in=w_in, **imu))
    w_out = np.zeros((200, 4))
    w_out[10, 1] = 1
    with pytest.raises(HardwareLimitError, match="only the last 128 hidden neurons may drive output neurons; "
                                                 "weights_out starts from neuron 10"):
        validate(sized(n_hidden=200, weights_out=w_out, **imu))
    w_out[:, :] = 0
    w_out[72, 1] = 1  # the first of the last 128
    validate(sized(n_hidden=200, weights_out=w_out, **imu))


def test_non_integers_and_bad_shapes_are_refused():
    with pytest.raises(HardwareLimitError, match="weights_in must hold integers"):
        sized(weights_in=np.full((16, 8, 2), 0.5))
    with pytest.raises(HardwareLimitError, match=r"weights_rec must be \(Nhidden, Nhidden, S\)"):
        sized(weights_rec=np.zeros((8, 7, 2)))
    with pytest.raises(HardwareLimitError, match=r"dash_mem must have shape \(Nhidden,\) = \(8,\)"):
        sized(dash_mem=np.zeros(7))
    with pytest.raises(HardwareLimitError, match="readout 'mean' is not one of"):
        sized(readout="mean")


def test_npz_round_trip_and_xylosim_loads_it(tmp_path):
    rng = np.random.default_rng(5)
    spec = replace(random_spec(rng, n_hidden=10, n_outputs=3, density=0.3), classes=("a", "b", "c"),
                   ticks_per_step=2, encoder_table=rng.integers(0, 16, (7, 2, 16)))
    path = save_spec(spec, tmp_path / "spec.npz")
    back = load_spec(path)
    for name in xylosim_kwargs(spec):
        np.testing.assert_array_equal(getattr(back, name), getattr(spec, name), err_msg=name)
    assert (back.classes, back.ticks_per_step, back.readout, back.chip) == (("a", "b", "c"), 2, "spike_count",
                                                                            "xylo-audio2")
    np.testing.assert_array_equal(back.encoder_table, spec.encoder_table)
    kwargs = load_xylosim_kwargs(path)
    assert not any(k.startswith(EXTRA_PREFIX) for k in kwargs)
    assert set(kwargs) == set(xylosim_kwargs(spec))


@needs("xylosim")
@needs("rockpool")
def test_exported_npz_runs_in_xylosim_with_our_output_spikes(tmp_path):
    from rnn2snn.targets.xylo.xylosim_run import xylosim_class

    rng = np.random.default_rng(6)
    spec = random_spec(rng, n_hidden=30, n_outputs=8, density=0.4)
    path = save_spec(spec, tmp_path / "spec.npz")
    with np.load(path) as data:  # what a user does: dict(np.load(path)), rnn2snn's keys dropped
        kwargs = {k: data[k] for k in data.files if not k.startswith(EXTRA_PREFIX)}
    sim = xylosim_class("xylo-audio2").from_specification(**kwargs)
    counts = rng.integers(0, 16, (4, 30, 16))
    ours = simulate(spec, counts, record=False)
    assert ours.out_spikes.sum() > 0
    for b in range(len(counts)):
        sim.reset_state()
        output, _, _ = sim(counts[b])
        np.testing.assert_array_equal(output, ours.out_spikes[b])


def test_load_names_the_file_and_the_fault(tmp_path):
    spec = random_spec(np.random.default_rng(1), n_hidden=4, n_outputs=2)
    good = save_spec(spec, tmp_path / "good.npz")
    arrays = dict(np.load(good))
    cases = {"missing": ({k: v for k, v in arrays.items() if k != "dash_mem"}, "lacks dash_mem"),
             "dtype": ({**arrays, "threshold": arrays["threshold"].astype(np.int32)},
                       "threshold is stored as int32, expected int16"),
             "range": ({**arrays, "dash_syn": np.full(4, 200, np.uint8)}, r"dash_syn\[0\] is 200"),
             "unknown": ({**arrays, "rnn2snn_extra": np.zeros(1)}, "unknown keys rnn2snn_extra"),
             "chip": ({**arrays, "rnn2snn_chip": np.asarray("xylo-audio9")}, "unknown Xylo chip")}
    for name, (contents, match) in cases.items():
        path = tmp_path / f"{name}.npz"
        np.savez(path, **contents)
        with pytest.raises((ModelFileError, HardwareLimitError), match=match) as info:
            load_spec(path)
        assert str(path) in str(info.value)
    (tmp_path / "junk.npz").write_bytes(b"not a zip")
    with pytest.raises(ModelFileError, match="junk.npz: not a readable .npz"):
        load_spec(tmp_path / "junk.npz")
    with pytest.raises(ModelFileError, match="no such Xylo spec file"):
        load_spec(tmp_path / "absent.npz")


def test_save_refuses_an_invalid_spec(tmp_path):
    with pytest.raises(HardwareLimitError, match="has 16 input channels"):
        save_spec(sized(n_inputs=17), tmp_path / "x.npz")
    assert not (tmp_path / "x.npz").exists()


def test_classify_reads_the_output_neurons():
    spec = random_spec(np.random.default_rng(2), n_hidden=6, n_outputs=3)
    record = simulate(spec, np.zeros((2, 3, 16), np.int64))
    spikes = np.zeros((2, 3, 3), np.uint8)
    spikes[0, :, 2] = 1
    spikes[1, 0, 1] = 1
    spikes[1, 1:, 0] = 1
    vmem = np.zeros((2, 3, 3), np.int16)
    vmem[0, 0, 1] = 5
    vmem[1, 2, 2] = 5
    record = replace(record, out_spikes=spikes, vmem_out=vmem)
    assert classify(record, "spike_count").tolist() == [2, 0]
    assert classify(record, "spike_count", lengths=np.array([3, 1])).tolist() == [2, 1]
    assert classify(record, "vmem_last", lengths=np.array([1, 3])).tolist() == [1, 2]
