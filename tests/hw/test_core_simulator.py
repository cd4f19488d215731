"""The core-level simulator against the naive reference (property tests) and the
network-level simulator (spike for spike), and Brian2 as an independent cross-check."""

import copy

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from reference.naive_truenorth import naive_run

from rnn2snn.constrain import input_levels, readout_logits
from rnn2snn.targets.truenorth.config_io import config_from_dict, config_to_dict
from rnn2snn.targets.truenorth.placement import decode_counts, encode_inputs, place
from rnn2snn.targets.truenorth.simulator import run_cores
from rnn2snn.targets.truenorth.verify import verify


@st.composite
def small_networks(draw):
    """Random 1–2 core configurations (JSON form) and input port spikes."""
    n_cores = draw(st.integers(1, 2))
    shapes = [(draw(st.integers(1, 6)), draw(st.integers(1, 5))) for _ in range(n_cores)]
    cores = []
    for c, (n_axons, n_neurons) in enumerate(shapes):
        neurons = []
        for _ in range(n_neurons):
            target = draw(st.one_of(st.none(), st.tuples(
                st.integers(0, n_cores - 1), st.integers(0, 10**6), st.integers(1, 15))))
            if target is not None:
                tc = target[0]
                target = {"core": tc, "axon": target[1] % shapes[tc][0], "delay": target[2]}
            neurons.append({
                "weights": draw(st.lists(st.integers(-255, 255), min_size=4, max_size=4)),
                "threshold": draw(st.integers(1, 400)),
                "neg_threshold": draw(st.integers(0, 400)),
                "leak": draw(st.integers(-20, 20)),
                "leak_reversal": draw(st.integers(0, 1)),
                "reset_mode": draw(st.integers(0, 2)),
                "reset_value": draw(st.integers(-50, 50)),
                "neg_saturate": draw(st.integers(0, 1)),
                "threshold_mask": 0, "stochastic_leak": 0, "stochastic_synapse": [0, 0, 0, 0],
                "target": target,
            })
        crossbar = ["".join(draw(st.sampled_from("01")) for _ in range(n_neurons))
                    for _ in range(n_axons)]
        cores.append({"index": c, "axons": [{"type": draw(st.integers(0, 3))} for _ in range(n_axons)],
                      "crossbar": crossbar, "neurons": neurons})
    n_ports = draw(st.integers(1, 4))
    inputs = []
    for _ in range(n_ports):
        c = draw(st.integers(0, n_cores - 1))
        inputs.append({"core": c, "axon": draw(st.integers(0, shapes[c][0] - 1))})
    outputs = [{"core": 0, "neuron": 0}]
    ticks = draw(st.integers(1, 40))
    spikes = draw(st.lists(st.lists(st.booleans(), min_size=n_ports, max_size=n_ports),
                           min_size=ticks, max_size=ticks))
    cfg = {"format": "rnn2snn-truenorth", "version": 2, "cores": cores, "inputs": inputs,
           "outputs": outputs, "ports": None}
    return cfg, spikes


@settings(max_examples=150, deadline=None)
@given(small_networks())
def test_core_simulator_matches_naive_reference(net):
    cfg_dict, spikes = net
    cfg = config_from_dict(cfg_dict)
    run = run_cores(cfg, np.array(spikes, dtype=bool)[None], record=True, record_potentials=True)
    raster, potentials = naive_run(cfg_dict, spikes)
    for c in range(len(cfg.cores)):
        assert run.rasters[c][0].tolist() == [tick[c] for tick in raster]
        assert run.potentials[c][0].tolist() == [tick[c] for tick in potentials]


def test_stochastic_modes_are_seeded_and_used(small_run):
    d = copy.deepcopy(config_to_dict(place(small_run.snn)))
    for n in d["cores"][0]["neurons"]:
        n["stochastic_synapse"] = [1, 1, 0, 0]
        n["threshold_mask"] = 3
    cfg = config_from_dict(d)
    x = input_levels(small_run.model, small_run.test.subset(np.arange(5)))
    inp = encode_inputs(cfg, x)
    runs = [run_cores(cfg, inp, rng=np.random.default_rng(7)).outputs for _ in range(2)]
    assert np.array_equal(runs[0], runs[1])
    det = run_cores(place(small_run.snn), inp).outputs
    assert not np.array_equal(runs[0], det)
    with pytest.raises(ValueError, match="rng"):
        run_cores(cfg, inp)


def test_core_level_equals_network_level_on_a_slice(small_run):
    test = small_run.test.subset(np.arange(120))
    x = input_levels(small_run.model, test)
    result = verify(small_run.snn, place(small_run.snn), x, test.lengths)
    assert result.ok and result.mismatches == 0 and result.spikes > 1000
    assert result.spikes_compared > 100 * 80 * 15


def test_verify_catches_a_changed_threshold(small_run):
    d = config_to_dict(place(small_run.snn))
    d["cores"][0]["neurons"][3]["threshold"] += 1
    test = small_run.test.subset(np.arange(60))
    result = verify(small_run.snn, config_from_dict(d), input_levels(small_run.model, test),
                    test.lengths)
    assert not result.ok and result.mismatches > 0


def test_brian2_build_gives_identical_spikes_on_50_questions(small_run):
    from reference.brian2_build import run_brian2

    cfg = place(small_run.snn)
    test = small_run.test.subset(np.arange(50))
    x = input_levels(small_run.model, test)
    inp = encode_inputs(cfg, x)
    ours = run_cores(cfg, inp, record=True)
    brian = run_brian2(config_to_dict(cfg), inp)
    assert brian.sum() > 1000
    assert np.array_equal(brian, ours.rasters[0])
    counts_b = decode_counts(cfg, brian[:, :, [p.index for p in cfg.outputs]], test.lengths)
    assert np.array_equal(counts_b, decode_counts(cfg, ours.outputs, test.lengths))
    pred_b = readout_logits(small_run.model, counts_b, test.lengths).argmax(1)
    pred = readout_logits(small_run.model, decode_counts(cfg, ours.outputs, test.lengths),
                          test.lengths).argmax(1)
    assert np.array_equal(pred_b, pred)


def test_multi_core_layer_is_placed_and_simulated_exactly(trec):
    """A block-sparse layer over 4 cores: spikes cross cores through the routing, and the
    core-level simulation still equals the network-level one spike for spike."""
    from dataclasses import replace

    from conftest import SMALL

    from rnn2snn.model.train import TrainConfig
    from rnn2snn.pipeline import run_pipeline

    train, test = trec
    cfg = replace(SMALL, proj_dim=32, hidden_dim=32, cores=4, train=TrainConfig(epochs=2),
                  finetune=TrainConfig(epochs=1), spiking_finetune=TrainConfig(epochs=0))
    run = run_pipeline(train.subset(range(800)), test.subset(range(60)), cfg, progress=False,
                       log=lambda *_: None)
    assert run.resources.cores == 4
    config = place(run.snn)
    assert len(config.cores) == 4
    assert all(c.n_axons <= 256 and c.n_neurons <= 256 for c in config.cores)
    targets = {int(t) for c in config.cores for t in c.target_core if t >= 0}
    assert len(targets) > 1  # spikes do travel between cores
    mask = run.model.constraints.mask.numpy()
    assert mask.sum(axis=1).max() <= 64
    x = input_levels(run.model, run.test)
    result = verify(run.snn, config, x, run.test.lengths)
    assert result.ok and result.spikes > 0
    back = config_from_dict(config_to_dict(config))
    assert verify(run.snn, back, x, run.test.lengths).ok
