"""The pipeline for real on a slice of TREC: stages, integer network, conversion."""

import numpy as np
import pytest
import torch

from rnn2snn.constrain import input_levels, readout_logits, to_integer
from rnn2snn.pipeline import STAGES


def integer_activity(model, net, data):
    x = input_levels(model, data)
    return x, net.run(x, data.lengths + model.config.lag)


def test_stages_in_order_and_sane(small_run):
    names = [s.name for s in small_run.stages]
    assert tuple(names) == STAGES[1:]  # trained from scratch: no "given" row
    # Bounds with their margins: observed (2000 training questions, seed 0) float 0.708,
    # fan_in 0.732, weights 0.740, activities 0.732, spiking 0.730.
    for s in small_run.stages:
        assert 0.67 < s.test_accuracy <= 1.0
    assert small_run.stage("spiking").test_accuracy > 0.70  # observed 0.730


def test_integer_network_equals_fake_quantised_model_on_every_test_question(small_run):
    model, test = small_run.model, small_run.test
    net = to_integer(model)
    assert net.w_in.dtype == np.int64 and net.weights.min() >= -8 and net.weights.max() <= 7
    x, act = integer_activity(model, net, test)
    prog = small_run.program.network()
    assert np.array_equal(prog.weights, net.weights) and np.array_equal(prog.threshold, net.threshold)
    with torch.no_grad():
        logits, fq_act = model(torch.from_numpy(test.tokens), torch.from_numpy(test.lengths),
                               return_activity=True)
    assert np.array_equal(act, fq_act.numpy().astype(np.int64))
    int_logits = readout_logits(model, act, test.lengths)
    assert np.array_equal(int_logits.argmax(1), logits.numpy().argmax(1))
    acc = float((int_logits.argmax(1) == test.labels).mean())
    # the model after the spiking fine-tune is the program's integer network
    assert acc == small_run.conversion["test_integer_accuracy"]


def test_input_levels_are_integer_levels(small_run):
    x = input_levels(small_run.model, small_run.test)
    assert x.min() >= 0 and x.max() <= 15
    assert x.max() > 0


def test_conversion_is_close_and_reported(small_run):
    res = small_run.to_json()
    conv = res["conversion"]
    assert conv["exact_share"] > 0.80  # observed 0.841
    assert conv["prediction_differs_share"] < 0.03  # observed 0.008
    assert abs(conv["loss_points"]) < 1.5  # observed +0.2
    # the program's own loss: its integer network against its spiking run
    assert conv["loss_points"] == pytest.approx(
        100 * (conv["test_integer_accuracy"] - small_run.stage("spiking").test_accuracy))
    causes = {row["cause"] for row in conv["ablation"]}
    assert {"negative potential carried across windows", "order of inputs within a window",
            "recurrent delay vs. window"} <= causes


def test_results_json_schema(small_run):
    res = small_run.to_json()
    assert [s["name"] for s in res["stages"]] == list(STAGES[1:])
    hw = res["hardware"]
    assert hw["cores"] == 1 and hw["axons"] <= 256 and hw["neurons"] <= 256
    assert isinstance(hw["ticks_per_word"], int) and isinstance(hw["delay"], int)
    assert hw["power_uw"] == pytest.approx(70e-3 / 4096 * 1e6)  # one core's share of 70 mW
    assert hw["cores_placed"] == hw["cores"] and hw["active_cores"] == 1
    # activity-based estimate: static power of one core plus the events' energy
    static = 42e3 / 4096  # µW, one core
    assert static + 0.5 < hw["power_uw_activity"] < static + 1.5  # observed static + 0.93
    assert 4000 < hw["synaptic_events_per_word"] < 8000  # observed 5,972
    assert hw["synaptic_events_per_word"] > 0
    assert isinstance(res["seed"], int) and isinstance(res["wall_seconds"], float)


def test_same_seed_same_result(trec):
    from dataclasses import replace

    from conftest import SMALL

    from rnn2snn.model.train import TrainConfig
    from rnn2snn.pipeline import run_pipeline

    train, test = trec
    cfg = replace(SMALL, train=TrainConfig(epochs=1), finetune=TrainConfig(epochs=1))
    runs = [run_pipeline(train.subset(range(600)), test.subset(range(100)), cfg,
                         progress=False, log=lambda *_: None) for _ in range(2)]
    a, b = (r.to_json() for r in runs)
    for key in ("stages",):
        assert [s["test_accuracy"] for s in a[key]] == [s["test_accuracy"] for s in b[key]]
    assert np.array_equal(runs[0].integer.weights, runs[1].integer.weights)


def test_carried_membrane_closes_most_of_the_gap(small_run):
    """The integer network carries the leftover potential (as the chip does); against one
    that clears it each word the spike counts agree far less often."""
    conv = small_run.to_json()["conversion"]
    assert small_run.integer.carry_residual
    cleared = conv["integer_net_cleared_each_word"]
    assert conv["exact_share"] > cleared["exact_share"] + 0.10  # observed 0.841 against 0.704
    assert conv["prediction_differs_share"] <= cleared["prediction_differs_share"]


def test_input_schedule_is_the_one_agreeing_best_on_validation(small_run):
    conv = small_run.to_json()["conversion"]
    agreement = conv["input_schedule_val_agreement"]
    assert set(agreement) == {"early", "spread"}
    assert agreement[conv["input_schedule"]] == max(agreement.values())
    assert small_run.snn.config.input_schedule == conv["input_schedule"]


def test_max_readout_reads_integer_activities_as_the_model_does(small_run):
    from copy import deepcopy
    from dataclasses import replace

    model = deepcopy(small_run.model)
    model.config = replace(model.config, readout="max")
    test = small_run.test
    _, act = integer_activity(model, to_integer(model), test)
    with torch.no_grad():
        logits = model(torch.from_numpy(test.tokens), torch.from_numpy(test.lengths))
    assert np.allclose(readout_logits(model, act, test.lengths), logits.numpy(), atol=1e-5)

