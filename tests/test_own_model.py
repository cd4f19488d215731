"""A user's own plain torch models: read exactly, refused outside the family, converted and
verified spike for spike (stacked layers, biases, real-valued inputs)."""

from dataclasses import replace

import numpy as np
import pytest
import torch
from torch import nn

import rnn2snn
from rnn2snn.config import PipelineConfig, TrainConfig
from rnn2snn.constrain.steps import input_levels, to_integer
from rnn2snn.model.from_torch import UnsupportedModelError, read_torch_model
from rnn2snn.program import load_program, run_integer, save_program, simulate_program
from rnn2snn.targets.truenorth.verify import verify_program

QUICK = PipelineConfig(train=TrainConfig(epochs=1), finetune=TrainConfig(epochs=1),
                       spiking_finetune=TrainConfig(epochs=1, lr=5e-4))


class Net(nn.Module):
    """Embedding or features → optional Linear+ReLU → nn.RNN stack → Linear, last-step readout."""

    def __init__(self, tokens=True, proj=True, layers=2, bias=True, stacked_modules=False):
        super().__init__()
        self.emb = nn.Embedding(40, 8) if tokens else None
        self.proj = nn.Sequential(nn.Linear(8, 6), nn.ReLU()) if proj else None
        width = 6 if proj else 8
        if stacked_modules:
            self.rnn = nn.ModuleList([nn.RNN(width, 5, nonlinearity="relu", batch_first=True, bias=bias),
                                      nn.RNN(5, 4, nonlinearity="relu", batch_first=True, bias=bias)])
            out = 4
        else:
            self.rnn = nn.ModuleList([nn.RNN(width, 5, num_layers=layers, nonlinearity="relu",
                                             batch_first=True, bias=bias)])
            out = 5
        self.out = nn.Linear(out, 3)

    def forward(self, x, lengths):
        v = self.emb(x) if self.emb is not None else x
        if self.proj is not None:
            v = self.proj(v)
        for rnn in self.rnn:
            v, _ = rnn(v)
        return self.out(v[torch.arange(len(lengths)), lengths - 1])


@pytest.mark.parametrize("kw", [dict(), dict(layers=1), dict(proj=False), dict(tokens=False),
                                dict(tokens=False, proj=False, bias=False), dict(stacked_modules=True)])
def test_read_model_computes_what_the_users_model_computes(kw):
    torch.manual_seed(0)
    user = Net(**kw).eval()
    x = torch.randint(1, 40, (5, 7)) if kw.get("tokens", True) else torch.randn(5, 7, 8)
    lengths = torch.tensor([7, 3, 5, 1, 2])
    ours = read_torch_model(user, "last").eval()
    assert torch.allclose(user(x, lengths), ours(x, lengths), atol=1e-5)


@pytest.mark.parametrize("module, message", [
    (nn.LSTM(4, 4, batch_first=True), "LSTM gates"),
    (nn.GRU(4, 4, batch_first=True), "GRU gates"),
    (nn.RNN(4, 4, batch_first=True), "nonlinearity='tanh'"),
    (nn.RNN(4, 2, nonlinearity="relu", bidirectional=True), "bidirectional"),
    (nn.Conv1d(4, 4, 3), "Conv1d.*not a supported layer"),
])
def test_models_outside_the_family_are_refused_naming_the_module(module, message):
    model = nn.Sequential(nn.Linear(4, 4), nn.ReLU(), module, nn.Linear(4, 2))
    with pytest.raises(UnsupportedModelError, match=message) as err:
        read_torch_model(model, "mean")
    assert "Supported:" in str(err.value) and "'2'" in str(err.value)


def _data(n, tokens=True, seed=0):
    rng = np.random.default_rng(seed)
    lengths = rng.integers(2, 9, n)
    labels = rng.integers(0, 3, n)
    if tokens:  # the label's token appears somewhere: a learnable task
        x = rng.integers(4, 40, (n, 8))
        x[np.arange(n), rng.integers(0, lengths)] = labels + 1
        x[np.arange(8)[None, :] >= lengths[:, None]] = 0
    else:
        x = rng.normal(size=(n, 8, 8)).astype(np.float32)
        x[:, :, 0] += labels[:, None] * 1.5
        x[np.arange(8)[None, :] >= lengths[:, None]] = 0
    return x, lengths, labels


@pytest.mark.parametrize("tokens", [True, False])
def test_two_layer_stacked_rnn_converts_and_verifies_spike_for_spike(tokens, tmp_path):
    torch.manual_seed(0)
    user = Net(tokens=tokens, proj=tokens, layers=2, bias=True)
    result = rnn2snn.convert_model(user, _data(300, tokens), _data(60, tokens, seed=1), pooling="last",
                                   config=QUICK, progress=False, log=lambda *_: None)
    program = result.program
    assert len(program.layers) == 2 and program.lag == 1 and program.bias_layers == (0, 1)
    # the integer network the program describes is the fake-quantised model, step for step
    model, test = result.model, result.test
    net = to_integer(model)
    assert np.array_equal(program.network().weights, net.weights)
    x = input_levels(model, test)
    with torch.no_grad():
        logits, act = model(torch.from_numpy(test.inputs), torch.from_numpy(test.lengths),
                            return_activity=True)
    integer = run_integer(program, test.inputs, test.lengths)
    assert np.array_equal(integer.sources, x)
    assert np.array_equal(integer.counts, act.numpy().astype(np.int64))
    assert np.array_equal(integer.predictions, logits.numpy().argmax(1))
    # two layers on cores of their own; the exported configuration spikes as the network-level one
    assert result.resources.cores == 2
    check = verify_program(program, test.inputs, test.lengths)
    assert check.ok and check.mismatches == 0 and check.spikes > 0
    # and the saved program gives the same spikes
    loaded = load_program(save_program(program, tmp_path / "p"))
    a = simulate_program(loaded, test.inputs, test.lengths)
    assert np.array_equal(a.counts, simulate_program(program, test.inputs, test.lengths).counts)


def test_user_data_of_the_wrong_kind_is_refused_before_training():
    user = Net(tokens=True)
    with pytest.raises(rnn2snn_error(), match="reads token ids"):
        rnn2snn.convert_model(user, _data(20, tokens=False), _data(20, tokens=False), pooling="last",
                              config=QUICK, progress=False)
    with pytest.raises(rnn2snn_error(), match="pooling"):
        rnn2snn.convert_model(user, _data(20), _data(20), pooling="median", config=QUICK, progress=False)
    with pytest.raises(rnn2snn_error(), match="labels must lie"):
        x, n, y = _data(20)
        rnn2snn.convert_model(user, (x, n, y + 5), _data(20), pooling="last", config=QUICK, progress=False)
    with pytest.raises(rnn2snn_error(), match="classes"):
        rnn2snn.convert_model(user, _data(20), _data(20), pooling="last", classes=["a"],
                              config=replace(QUICK), progress=False)


def rnn2snn_error():
    from rnn2snn.errors import Rnn2SnnError

    return Rnn2SnnError


def test_stacked_layers_keep_at_most_64_sources_a_layer_and_fit_their_cores():
    """Layer 0 reads 60 + 20 + 1 sources; pruned to the 64 its neurons weigh most (one core,
    ≤ 256 axons), and each layer is one core group."""
    from rnn2snn.constrain.steps import limit_fan_in

    torch.manual_seed(0)
    user = nn.Sequential(nn.Linear(8, 60), nn.ReLU(),
                         nn.RNN(60, 20, num_layers=2, nonlinearity="relu", batch_first=True),
                         nn.Linear(20, 3))
    model = read_torch_model(user, "last")
    before = model.recurrent.detach().abs() * model.structure
    limit_fan_in(model, 64)
    allowed = model.allowed()
    for rows in model.config.layer_slices():
        sources = allowed[rows].any(0)
        assert int(sources.sum()) == min(64, int(model.structure[rows].any(0).sum()))
        kept = before[rows].sum(0)[sources].min()
        dropped = before[rows].sum(0)[model.structure[rows].any(0) & ~sources]
        assert dropped.numel() == 0 or kept >= dropped.max()  # the strongest sources are kept
    assert model.constraints.groups == [list(range(0, 20)), list(range(20, 40))]


def test_stacked_layers_too_wide_for_a_core_are_refused_before_training():
    from rnn2snn.errors import HardwareLimitError

    user = nn.Sequential(nn.Linear(8, 6), nn.ReLU(),
                         nn.RNN(6, 40, num_layers=2, nonlinearity="relu", batch_first=True), nn.Linear(40, 3))
    with pytest.raises(HardwareLimitError, match=r"layer 0 \(40 neurons\).*at most 28"):
        read_torch_model(user, "last")
