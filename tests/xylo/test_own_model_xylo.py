"""A user's own torch model through ``rnn2snn.convert_model(target="xylo-…")``: its weights start the
chain, the stages start with ``given``, the limits refuse before training, a loss is a warning.

Tiny models and a few epochs: these tests check the plumbing and the arithmetic, not accuracy.
"""

from __future__ import annotations

import numpy as np
import pytest
import torch
from extras import needs
from torch import nn

import rnn2snn
from rnn2snn.checks import ParameterError, ParameterLimitError
from rnn2snn.cli import main
from rnn2snn.config import PipelineConfig, TrainConfig
from rnn2snn.data.sequences import FeatureSequences
from rnn2snn.data.text import Encoded
from rnn2snn.guard import chain_warning, drop_points, stage_label
from rnn2snn.model.from_torch import read_torch_model
from rnn2snn.pipeline.xylo_model import elman_weights
from rnn2snn.targets.xylo.convert import XyloDynamics, rasters
from rnn2snn.targets.xylo.features import FeatureSet, RateFeatureXylo, feature_rasters, normalisation
from rnn2snn.targets.xylo.method import XyloSettings
from rnn2snn.targets.xylo.model import load_xylo_model, save_xylo_model
from rnn2snn.targets.xylo.simulate import classify, simulate
from rnn2snn.targets.xylo.spec import validate
from rnn2snn.targets.xylo.start import feature_start, token_start
from rnn2snn.targets.xylo.train import RateXylo

QUICK = XyloSettings(epochs=2, ft_epochs=1, target_counts=(8.0,))
STAGES = ["given", "float", "quantised", "spiking_before_finetune", "spiking"]
VOCAB = ["<pad>", "<unk>", *(f"w{i}" for i in range(2, 30))]
CLASSES = ["a", "b", "c"]


class Tokens(nn.Module):
    """Embedding → (Linear + ReLU) → nn.RNN(relu) → Linear, the state after the last token."""

    def __init__(self, hidden=12, classes=3, emb=8, proj=0, layers=1):
        super().__init__()
        self.emb = nn.Embedding(30, emb)
        self.proj = nn.Sequential(nn.Linear(emb, proj), nn.ReLU()) if proj else None
        self.rnn = nn.RNN(proj or emb, hidden, num_layers=layers, nonlinearity="relu", batch_first=True)
        self.out = nn.Linear(hidden, classes)

    def forward(self, x, lengths):
        v = self.emb(x)
        v = v if self.proj is None else self.proj(v)
        h, _ = self.rnn(v)
        return self.out(h[torch.arange(len(lengths)), lengths - 1])


class Frames(nn.Module):
    """Frames (B, L, 3) → (Linear + ReLU) → nn.RNN(relu) → Linear, the state after the last frame."""

    def __init__(self, hidden=10, proj=6):
        super().__init__()
        self.proj = nn.Sequential(nn.Linear(3, proj), nn.ReLU()) if proj else None
        self.rnn = nn.RNN(proj or 3, hidden, nonlinearity="relu", batch_first=True)
        self.out = nn.Linear(hidden, 2)

    def forward(self, x, lengths):
        h, _ = self.rnn(x if self.proj is None else self.proj(x))
        return self.out(h[torch.arange(len(lengths)), lengths - 1])


def token_data(n, seed):
    """The label's token (1 + label) is the last: a task the model learns in a few hundred steps."""
    rng = np.random.default_rng(seed)
    lengths, labels = rng.integers(2, 7, n), rng.integers(0, 3, n)
    x = rng.integers(4, 30, (n, 6))
    x[np.arange(n), lengths - 1] = labels + 2
    x[np.arange(6)[None, :] >= lengths[:, None]] = 0
    return x, lengths, labels


def frame_data(n, seed):
    """Is the first channel's mean over the sequence above 0?"""
    rng = np.random.default_rng(seed)
    lengths = rng.integers(3, 10, n)
    valid = np.arange(10)[None, :, None] < lengths[:, None, None]
    x = rng.normal(size=(n, 10, 3)).astype(np.float32) * valid
    return x, lengths, (x[:, :, 0].sum(1) / lengths > 0).astype(np.int64)


def trained(model, data, steps=150):
    torch.manual_seed(0)
    opt = torch.optim.Adam(model.parameters(), 1e-2)
    x, lengths, labels = (torch.as_tensor(a) for a in data)
    for _ in range(steps):
        loss = nn.functional.cross_entropy(model(x, lengths), labels)
        opt.zero_grad()
        loss.backward()
        opt.step()
    return model.eval()


def accuracy(model, data):
    x, lengths, labels = data
    with torch.no_grad():
        return float((model(torch.as_tensor(x), torch.as_tensor(lengths)).argmax(1).numpy() == labels).mean())


@pytest.fixture(scope="module")
def token_run():
    torch.manual_seed(0)
    train, test = token_data(300, 0), token_data(100, 1)
    model = trained(Tokens(), train)
    lines = []
    result = rnn2snn.convert_model(model, train, test, pooling="last", target="xylo-imu", classes=CLASSES,
                                   vocab=VOCAB, settings=QUICK, progress=False, log=lines.append)
    return model, train, test, result, lines


def test_a_token_model_converts_for_xylo_imu(token_run):
    model, _, test, result, lines = token_run
    assert [s.name for s in result.stages] == STAGES
    assert result.given.test == accuracy(model, test) > 0.9  # measured by the model's own forward
    assert any(line.strip().startswith("given: val") for line in lines)
    spec = validate(result.spec)
    assert spec.chip == "xylo-imu" and spec.n_hidden == 12 and spec.n_outputs == 3
    assert spec.classes == tuple(CLASSES) and result.vocab == tuple(VOCAB)
    # the spiking stage is what the spec gives in our simulator of the chip
    tail = result.conversion.settings.dynamics.tail_ticks
    counts, read = rasters(spec, test[0], test[1], tail)
    predicted = classify(simulate(spec, counts), spec.readout, read)
    assert float((predicted == test[2]).mean()) == result.stage("spiking").test
    assert any("W_hh → the recurrent weights" in line for line in result.start.carried)


def test_the_token_start_is_the_users_network(token_run):
    """Each word's input drive, recurrent weights, biases and readout are the model's (scaled)."""
    model, train, _, _, _ = token_run
    fit = Encoded(*(np.asarray(a) for a in train))
    w = elman_weights(read_torch_model(model, "last"), fit)
    start, report = token_start(w, fit)
    rate = RateXylo(30, 12, 3, XyloDynamics(ticks_per_step=2), vectors=w.embedding)
    start(rate)
    a = report.hidden_scale
    assert 0 < a <= 1
    with torch.no_grad():
        assert np.allclose(rate.w_rec.numpy(), model.rnn.weight_hh_l0.double().numpy().T)
        bias = (model.rnn.bias_ih_l0 + model.rnn.bias_hh_l0).double().numpy()
        assert np.allclose(rate.bias.numpy(), a * bias)
        tokens = torch.arange(2, 30)
        events = rate.table(tokens)  # (V, k, 16), 0..15
        assert events.max() < 15  # so no event count was capped: the drive must be exact
        drive = events @ rate.w_in  # (V, k, H), the same on each of a word's ticks
        want = a * model.emb.weight[2:].double() @ model.rnn.weight_ih_l0.double().T
        assert np.allclose(drive.numpy(), want.numpy()[:, None, :], atol=1e-9)
        ticks = train[1].mean() * 2 + 1
        assert np.allclose(rate.w_out.numpy(), model.out.weight.double().numpy().T / (a * ticks))


def test_the_feature_start_is_the_users_projection():
    torch.manual_seed(0)
    train = frame_data(200, 0)
    model = trained(Frames(), train, steps=60)
    fit = FeatureSet(*train)
    w = elman_weights(read_torch_model(model, "last"), FeatureSequences(*train))
    start, report = feature_start(w, fit)
    mean, std = normalisation(fit)
    rate = RateFeatureXylo(3, 10, 2, XyloDynamics(), mean, std, "xylo-imu")
    start(rate)
    x = fit.features[fit.lengths[:, None] > np.arange(10)[None, :]]
    with torch.no_grad():
        enc = rate.encoder
        z = ((torch.as_tensor(x) - enc.mean) / enc.std) @ enc.weight + enc.bias  # before the rounding
        ok = (z < 15).all(1)  # frames no channel of which is capped
        drive = z.clamp(min=0) @ rate.w_in
        proj = torch.relu(torch.as_tensor(x, dtype=torch.float64) @ model.proj[0].weight.double().T
                          + model.proj[0].bias.double())
        want = report.hidden_scale * proj @ model.rnn.weight_ih_l0.double().T
    assert ok.float().mean() > 0.9
    assert np.allclose(drive[ok].numpy(), want[ok].numpy(), atol=1e-8)
    assert "exact: its 6 units are the channels" in report.carried[0]


@pytest.mark.parametrize("proj", [6, 0])
def test_a_feature_model_converts_for_xylo_imu(proj):
    torch.manual_seed(0)
    train, test = frame_data(200, 0), frame_data(60, 1)
    model = trained(Frames(proj=proj), train, steps=60)
    result = rnn2snn.convert_model(model, train, test, pooling="last", target="xylo-imu", settings=QUICK,
                                   progress=False)
    assert [s.name for s in result.stages] == STAGES
    assert result.given.test == accuracy(model, test)
    spec = validate(result.spec)
    assert spec.feature_weights.shape == (3, 16) and spec.n_hidden == 10
    counts, read = feature_rasters(spec, test[0], test[1], result.conversion.settings.dynamics.tail_ticks)
    predicted = classify(simulate(spec, counts), spec.readout, read)
    assert float((predicted == test[2]).mean()) == result.stage("spiking").test
    with pytest.raises(ParameterError, match="save_spec"):  # no vocabulary: no program folder
        _ = result.model


@pytest.fixture
def no_training(monkeypatch):
    """Fail the test if anything is measured or trained: refusals come first."""
    import rnn2snn.pipeline.xylo_model as xm

    def refuse(*args, **kwargs):
        raise AssertionError("the refusal came after the work started")

    for name in ("given_accuracy", "convert_for_xylo", "convert_features_for_xylo"):
        monkeypatch.setattr(xm, name, refuse)


@pytest.mark.parametrize("make, target, words", [
    (lambda: Tokens(classes=9), "xylo-audio2",
     "target='xylo-audio2': the model has 9 classes; the xylo-audio2 target (SYNS61201) has 8 output "
     "neurons"),
    (lambda: Tokens(classes=17), "xylo-imu",
     "the model has 17 classes; the xylo-imu target (SYNS63300) has 16"),
    (lambda: Tokens(hidden=1001), "xylo-audio2", "the model has 1001 hidden neurons; the xylo-audio2 target "
                                                 "(SYNS61201) has 1000 hidden neurons"),
    (lambda: Tokens(hidden=65), "xylo-audio2", "fan-out limit is 64 targets a neuron: at most 64"),
    (lambda: Tokens(hidden=180), "xylo-imu", "the model has 180 hidden neurons; the Xylo chain trains a "
                                             "dense recurrent layer and on the xylo-imu target (SYNS63300) "
                                             "its recurrent memory holds 31,744"),
    (lambda: Frames(hidden=179), "xylo-imu", "recurrent memory holds 31,744"),
    (lambda: Tokens(layers=2), "xylo-imu", "the model has 2 stacked recurrent layers; Xylo has one hidden "
                                           "population"),
])
def test_limits_are_refused_before_training(make, target, words, no_training):
    torch.manual_seed(0)
    model = make()
    data = (frame_data(40, 0), frame_data(10, 1)) if isinstance(model, Frames) else \
        (token_data(40, 0), token_data(10, 1))
    with pytest.raises(ParameterLimitError) as err:
        rnn2snn.convert_model(model, *data, pooling="last", target=target, progress=False)
    assert words in str(err.value) and err.value.parameter == "target"


def test_settings_of_the_other_chain_are_refused(no_training):
    model, data = Tokens(), (token_data(40, 0), token_data(10, 1))
    quick = PipelineConfig(train=TrainConfig(epochs=1))
    with pytest.raises(ParameterError, match="config.train: a setting of the TrueNorth-class chain"):
        rnn2snn.convert_model(model, *data, pooling="last", target="xylo-imu", config=quick, progress=False)
    with pytest.raises(ParameterError, match="settings: the Xylo chain's"):
        rnn2snn.convert_model(model, *data, pooling="last", settings=QUICK, progress=False)
    with pytest.raises(ParameterError, match="settings.hidden=5: the model has 12 hidden neurons"):
        rnn2snn.convert_model(model, *data, pooling="last", target="xylo-imu",
                              settings=XyloSettings(hidden=5), progress=False)


def test_more_refusals_before_training(no_training):
    """A misspelt target is named even with settings; config's TrueNorth-only fields and settings
    the chain cannot run are refused, each naming the field."""
    model, data = Tokens(), (token_data(40, 0), token_data(10, 1))
    with pytest.raises(ParameterError, match="target must be one of .*got 'xylo-audio3'"):
        rnn2snn.convert_model(model, *data, pooling="last", target="xylo-audio3", settings=QUICK,
                              progress=False)
    for field, value in (("dropout", 0.7), ("readout", "max"), ("min_count", 5)):
        with pytest.raises(ParameterError, match=f"config.{field}: a setting of the TrueNorth-class chain"):
            rnn2snn.convert_model(model, *data, pooling="last", target="xylo-imu", progress=False,
                                  config=PipelineConfig(**{field: value}))
    for bad, words in ((XyloSettings(target_counts=()), "settings.target_counts=(): give at least one"),
                       (XyloSettings(target_counts=(-1.0,)), "settings.target_counts=(-1.0,)"),
                       (XyloSettings(lr=-1.0), "settings.lr=-1.0: must be > 0"),
                       (XyloSettings(members=5), "settings.members=5: must be ≥ 1 and divide the "
                                                 "model's 12")):
        with pytest.raises(ParameterError, match=words.replace("(", r"\(").replace(")", r"\)")):
            rnn2snn.convert_model(model, *data, pooling="last", target="xylo-audio2", settings=bad,
                                  progress=False)


def test_members_split_a_wide_model_and_say_what_of_w_hh_they_drop():
    """128 neurons on Audio 2 (fan-out 64): refused dense, accepted as 2 members of 64; the
    recurrent weights between the members are reported as not carried."""
    torch.manual_seed(0)
    train, test = token_data(60, 0), token_data(20, 1)
    model = Tokens(hidden=128)
    with pytest.raises(ParameterLimitError, match="fan-out limit is 64"):
        rnn2snn.convert_model(model, train, test, pooling="last", target="xylo-audio2", settings=QUICK,
                              progress=False)
    two = XyloSettings(members=2, epochs=1, ft_epochs=1, target_counts=(8.0,))
    result = rnn2snn.convert_model(model, train, test, pooling="last", target="xylo-audio2", settings=two,
                                   progress=False)
    w = result.spec.weights_rec[:, :, 0]
    assert not w[:64, 64:].any() and not w[64:, :64].any()
    lost = int(np.count_nonzero(model.rnn.weight_hh_l0.detach().numpy()[:64, 64:])) * 2
    (line,) = [x for x in result.start.not_carried if x.startswith("W_hh between the 2 members")]
    assert f"{lost} of the model's 16384 non-zero" in line
    assert any(x.startswith("pooling='last'") for x in result.start.not_carried)


def test_a_result_worse_than_given_is_a_warning_naming_the_step():
    """No training at all (0 epochs) after the model: the chip's neuron loses, and says where."""
    torch.manual_seed(0)
    train, test = token_data(300, 0), token_data(100, 1)
    model = trained(Tokens(), train)
    lines = []
    result = rnn2snn.convert_model(model, train, test, pooling="last", target="xylo-audio2", progress=False,
                                   settings=XyloSettings(epochs=0, ft_epochs=0, target_counts=(8.0,)),
                                   log=lines.append)
    given, spiking = result.given.val, result.stage("spiking").val
    assert drop_points(given, spiking) > 2  # the case this test is about
    drops = [w for w in result.warnings if w.kind == "accuracy_drop"]
    assert len(drops) == 1
    w = drops[0]
    steps = list(zip(result.stages, result.stages[1:], strict=False))
    worst = max(steps, key=lambda p: drop_points(p[0].val, p[1].val))[1].name
    assert w.stage == worst and (w.val_before, w.val_after) == (given, spiking)
    assert w.message.startswith(f"given → spiking: validation accuracy {given:.3f} → {spiking:.3f}")
    assert f"most of it at {stage_label(worst)}" in w.message and "You can change:" in w.message
    assert f"warning: {w.message}" in lines


def test_the_chain_warning_names_the_step_that_lost_most():
    rows = [("given", 0.90), ("float", 0.85), ("quantised", 0.84), ("spiking_before_finetune", 0.80),
            ("spiking", 0.81)]
    w = chain_warning(rows, {"float": ("more epochs",)})
    assert w.stage == "float" and w.advice == ("more epochs",)
    assert "9.0 points lost" in w.message and "most of it at float (5.0 points)" in w.message
    assert "spiking (before fine-tune) +4.0" in w.message and "spiking -1.0" in w.message
    assert chain_warning([("given", 0.90), ("float", 0.89), ("spiking", 0.885)], {}) is None


def test_a_saved_token_program_exports_and_predicts(token_run, tmp_path, capsys):
    _, _, _, result, _ = token_run
    folder = save_xylo_model(result.model, tmp_path / "model")
    loaded = load_xylo_model(folder)
    assert loaded.vocab == tuple(VOCAB) and np.array_equal(loaded.spec.weights_rec, result.spec.weights_rec)
    assert main(["export", "--model", str(folder), "--format", "xylo", "--out", str(tmp_path / "s.npz")]) == 0
    assert "Xylo spec for xylo-imu" in capsys.readouterr().out
    (p,) = rnn2snn.predict_texts(folder, ["w5 w7 w3"])
    assert p.label in CLASSES and p.tokens == ("w5", "w7", "w3")


@needs("xylosim")
@needs("rockpool")
def test_a_saved_token_program_verifies_in_xylosim(token_run, tmp_path, capsys):
    _, train, test, result, _ = token_run
    folder = save_xylo_model(result.model, tmp_path / "model")

    def write(path, data):
        x, lengths, labels = data
        path.write_text("".join(f"{CLASSES[y]} {' '.join(VOCAB[t] for t in row[:n])}\n"
                                for row, n, y in zip(x, lengths, labels, strict=True)))
        return str(path)

    args = ["--train", write(tmp_path / "train.txt", train), "--test", write(tmp_path / "test.txt", test)]
    assert main(["verify", "--model", str(folder), *args, "--limit", "20"]) == 0
    assert "mismatches: 0" in capsys.readouterr().out
