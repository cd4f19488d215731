"""Stages that never hide a loss: the user's model as given, each row measured right after its
own step, no retraining that hands back a worse model, and the loss guard's remedies and warnings
(rnn2snn.guard). Small synthetic data, a few epochs."""

import copy
import functools
import json
from dataclasses import replace

import numpy as np
import pytest
import torch
from torch import nn

import rnn2snn
from rnn2snn.config import PipelineConfig, TrainConfig
from rnn2snn.data.sequences import as_sequences
from rnn2snn.guard import DROP_POINTS, MIN_VAL_EXAMPLES, RunWarning
from rnn2snn.model.from_torch import read_torch_model
from rnn2snn.model.train import accuracy, train
from rnn2snn.pipeline import STAGES
from rnn2snn.program.network import SpikingConfig
from rnn2snn.report.markdown import render_report
from rnn2snn.targets.truenorth.power import constants_table
from rnn2snn.threads import fixed_threads

QUICK = PipelineConfig(train=TrainConfig(epochs=3), finetune=TrainConfig(epochs=2),
                       spiking_finetune=TrainConfig(epochs=1, lr=5e-4))


class Net(nn.Module):
    """Embedding → Linear+ReLU → nn.RNN → Linear on the last step."""

    def __init__(self, hidden=12):
        super().__init__()
        self.emb = nn.Embedding(40, 8)
        self.proj = nn.Sequential(nn.Linear(8, 8), nn.ReLU())
        self.rnn = nn.RNN(8, hidden, nonlinearity="relu", batch_first=True)
        self.out = nn.Linear(hidden, 3)

    def forward(self, x, lengths):
        v, _ = self.rnn(self.proj(self.emb(x)))
        return self.out(v[torch.arange(len(lengths)), lengths - 1])


def _data(n, seed):
    """The label's token (1, 2 or 3) appears somewhere in the sequence: learnable."""
    rng = np.random.default_rng(seed)
    lengths = rng.integers(2, 9, n)
    labels = rng.integers(0, 3, n)
    x = rng.integers(4, 40, (n, 8))
    x[np.arange(n), rng.integers(0, lengths)] = labels + 1
    x[np.arange(8)[None, :] >= lengths[:, None]] = 0
    return x, lengths, labels


TRAIN, TEST, VAL = _data(300, 0), _data(100, 1), _data(60, 2)


@functools.cache
def _trained_by_hand():
    """A user's model trained the plain torch way: its weights and its validation accuracy."""
    torch.manual_seed(0)
    model = Net()
    opt = torch.optim.Adam(model.parameters(), lr=1e-2)
    x, lengths, labels = (torch.from_numpy(a) for a in TRAIN)
    with fixed_threads():
        for _ in range(15):
            for b in range(0, len(x), 32):
                opt.zero_grad()
                loss = nn.functional.cross_entropy(model(x[b:b + 32], lengths[b:b + 32]), labels[b:b + 32])
                loss.backward()
                opt.step()
    model.eval()
    with torch.no_grad():
        vx, vl, vy = (torch.from_numpy(a) for a in VAL)
        return copy.deepcopy(model.state_dict()), float((model(vx, vl).argmax(1) == vy).float().mean())


def _by_hand():
    weights, x = _trained_by_hand()
    model = Net()
    model.load_state_dict(weights)
    return model.eval(), x


def _convert(model, config, **kw):
    return rnn2snn.convert_model(model, TRAIN, TEST, pooling="last", val_data=VAL, config=config,
                                 progress=False, **kw)


@pytest.fixture(scope="module")
def user_run():
    """A hand-trained model through a float stage whose learning rate only does harm."""
    model, x = _by_hand()
    harmful = replace(QUICK, train=TrainConfig(epochs=3, lr=5.0))
    return x, _convert(model, harmful)


@pytest.fixture(scope="module")
def bad_timing_run():
    """A conversion forced onto a recurrent delay of 1 tick: recurrent spikes land in the
    same word's window, not the next's — a large spiking loss."""
    torch.manual_seed(0)
    config = replace(QUICK, train=TrainConfig(epochs=15), spiking=SpikingConfig(delay=1, neg_delay=1))
    return _convert(Net(), config)


def test_given_row_is_the_users_model_and_float_never_worse(user_run):
    x, result = user_run
    assert x > 0.9  # a model worth keeping (observed 1.000)
    given, float_ = result.stage("given"), result.stage("float")
    assert given.val_accuracy == x
    assert float_.val_accuracy >= x
    # lr 5.0 wrecks every epoch: the float stage keeps the user's weights, and says so
    assert float_.kept_start and float_.val_accuracy == given.val_accuracy
    assert float_.test_accuracy == given.test_accuracy
    assert [s.name for s in result.stages] == list(STAGES)
    assert json.loads(json.dumps(result.to_json()))["stages"][1]["kept_start"] is True
    float_row = next(r for r in render_report(result.to_json(), constants_table()).splitlines()
                     if r.startswith("| float |"))
    assert "kept its starting weights" in float_row


def test_train_counts_the_incoming_weights_as_epoch_0():
    user, x = _by_hand()
    model = read_torch_model(user, "last")
    val = as_sequences(VAL, "val")
    assert accuracy(model, val) == x
    before = copy.deepcopy(model.state_dict())
    res = train(model, as_sequences(TRAIN, "train"), val, TrainConfig(epochs=10, lr=5.0, patience=2),
                progress=False)
    assert res.kept_start and res.best_epoch == 0 and res.best_val_accuracy == x
    assert accuracy(model, val) == x
    assert all(torch.equal(before[k], v) for k, v in model.state_dict().items())
    # patience counts from epoch 0: epochs 1 and 2 fail to beat it, then training stops
    assert [h["epoch"] for h in res.history] == [0, 1, 2]


def test_a_retraining_after_a_constraint_keeps_its_best_retrained_epoch():
    """Without ``start_is_candidate`` (the retraining after each constraint step) the start
    is not a candidate: its validation score is the previous stage's maximum over epochs,
    biased upward by that choice (README, "Stages that never hide a loss")."""
    user, x = _by_hand()
    model = read_torch_model(user, "last")
    val = as_sequences(VAL, "val")
    res = train(model, as_sequences(TRAIN, "train"), val, TrainConfig(epochs=4, lr=5.0, patience=2),
                progress=False, start_is_candidate=False)
    assert res.best_epoch >= 1 and not res.kept_start
    assert res.best_val_accuracy == max(h["val_accuracy"] for h in res.history[1:])
    assert accuracy(model, val) == res.best_val_accuracy
    # epoch 0 is still measured, so the row after it can be compared with the start
    assert res.history[0]["val_accuracy"] == x


def test_activities_row_is_the_integer_network_before_the_spiking_finetune(user_run):
    _, result = user_run
    before = result.conversion["before_spiking_finetune"]
    act, pre = result.stage("activities"), result.stage("spiking_before_finetune")
    assert act.test_accuracy == before["test_integer_accuracy"]
    assert act.val_accuracy == before["val_integer_accuracy"]
    assert (pre.val_accuracy, pre.test_accuracy) == (before["val_spiking_accuracy"],
                                                     before["test_spiking_accuracy"])
    # the conversion loss is the delivered program's: its integer network vs its spiking run
    conv = result.to_json()["conversion"]
    assert conv["loss_points"] == pytest.approx(
        100 * (conv["test_integer_accuracy"] - result.stage("spiking").test_accuracy))
    # the spiking fine-tune never returns worse on validation than it started
    assert result.stage("spiking").val_accuracy >= pre.val_accuracy


def test_large_spiking_loss_triggers_the_remedy_search_and_a_warning(bad_timing_run):
    result = bad_timing_run
    act, pre = result.stage("activities"), result.stage("spiking_before_finetune")
    assert 100 * (act.val_accuracy - pre.val_accuracy) > 10 * DROP_POINTS  # observed 98.3 → 70.0
    spiking = [w for w in result.warnings if w.kind == "accuracy_drop" and w.stage == "spiking"]
    assert len(spiking) == 1
    w = spiking[0]
    assert isinstance(w, RunWarning)
    names = [r.name for r in w.remedies]
    assert any("input schedule" in n for n in names)
    assert any("delay 15" in n for n in names)  # the delay the design needs
    assert any("spiking fine-tune" in n for n in names)
    for r in w.remedies:  # each remedy's figure is in the message
        assert f"{r.name} → {r.val_accuracy:.3f}" in w.message
    kept = [r for r in w.remedies if r.kept]
    assert len(kept) == 1 and kept[0].val_accuracy == result.stage("spiking").val_accuracy
    assert result.program.timing.delay == 15  # the kept remedy is what the program holds
    assert result.stage("spiking").val_accuracy > pre.val_accuracy + 0.1  # observed 0.700 → 0.983
    assert w.diagnosis is not None and 0 <= w.diagnosis.prediction_differs_share <= 1
    assert "differ on" in w.message and "You can change" in w.message
    out = json.loads(json.dumps(result.to_json()))["warnings"]
    assert out[-1]["remedies"][0]["name"] == names[0] and out[-1]["diagnosis"]["mechanism"]
    report = render_report(result.to_json() | {"command": ""}, constants_table())
    assert "## Warnings" in report and "| remedy tried | validation accuracy | kept |" in report


def test_no_warning_without_a_loss(user_run):
    _, result = user_run
    assert not [w for w in result.warnings if w.kind == "accuracy_drop"], \
        [w.message for w in result.warnings]


def test_small_validation_is_warned_with_the_choices_resting_on_it():
    torch.manual_seed(0)
    small_val = tuple(a[:20] for a in VAL)
    result = rnn2snn.convert_model(Net(), TRAIN, TEST, pooling="last", val_data=small_val,
                                   config=QUICK, progress=False)
    (w,) = [w for w in result.warnings if w.kind == "small_validation"]
    assert "val_data" in w.message and "has 20 examples" in w.message
    assert f"≥ {MIN_VAL_EXAMPLES} examples" in w.message
    for choice in ("epoch", "input schedule", "spiking fine-tune"):
        assert choice in w.message


def test_progress_false_prints_nothing(capsys):
    torch.manual_seed(0)
    config = replace(QUICK, spiking=SpikingConfig(delay=1, neg_delay=1))  # warnings too
    result = rnn2snn.convert_model(Net(), TRAIN, TEST, pooling="last", val_data=tuple(a[:20] for a in VAL),
                                   config=config, progress=False)
    assert result.warnings
    captured = capsys.readouterr()
    assert captured.out == "" and captured.err == ""


def test_report_compares_with_the_paper_only_for_trec_coarse_and_says_kept_start(user_run):
    _, result = user_run
    results = result.to_json()
    other = render_report(results, constants_table())
    assert "74.0%" not in other and "| Diehl et al. 2016 |" not in other  # (a power constant cites it)
    trec = render_report(results, constants_table(), paper=True)
    assert "| Diehl et al. 2016 |" in trec and "74.0% (on chip)" in trec
    assert "| spiking (before fine-tune) |" in other
    results["conversion"]["spiking_finetune"] = {"epochs_run": 1, "best_epoch": 0, "kept_start": True}
    assert "The fine-tune kept its starting weights" in render_report(results, constants_table())


def test_epochs_compare_by_accuracy_then_loss():
    """A saturated validation split (1.000 at every epoch) still lets a retraining move on,
    by a lower validation loss; a lower accuracy never wins, whatever its loss."""
    from rnn2snn.model.train import better, score

    labels = np.array([0, 1])
    sure = score(np.array([[4.0, 0.0], [0.0, 4.0]]), labels)
    unsure = score(np.array([[1.0, 0.0], [0.0, 1.0]]), labels)
    assert sure[0] == unsure[0] == 1.0 and sure[1] < unsure[1]
    assert better(sure, unsure) and not better(unsure, sure) and not better(sure, sure)
    wrong = score(np.array([[9.0, 0.0], [9.0, 0.0]]), labels)
    assert wrong[0] == 0.5 and not better((wrong[0], 0.0), unsure)


def test_a_constraint_step_that_loses_gets_more_retraining_and_a_warning():
    """Two sources per neuron cost the model several validation points: the guard retrains
    (twice the epochs), keeps the result only if better, and warns with the figures."""
    model, _ = _by_hand()
    result = _convert(model, replace(QUICK, max_fan_in=2))
    (w,) = [w for w in result.warnings if w.stage == "fan_in"]
    assert w.kind == "accuracy_drop" and w.val_before == result.stage("float").val_accuracy
    assert w.val_after == result.stage("fan_in").val_accuracy
    assert 100 * (w.val_before - w.val_after) > DROP_POINTS  # observed 1.000 → 0.933
    (r,) = w.remedies
    assert r.name == "retraining 4 more epochs" and f"→ {r.val_accuracy:.3f}" in w.message
    assert "max_fan_in" in w.message
