"""Cores are a budget, not a surprise: the layout's cores are known (or bounded) before
training, printed, and a layout over ``max_cores`` is refused before any work, naming the
count and what reduces it."""

from dataclasses import replace

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from torch import nn

from rnn2snn import cli
from rnn2snn.checks import ParameterLimitError, check_pipeline_config, core_plan, cores_message
from rnn2snn.config import PipelineConfig
from rnn2snn.constrain.steps import block_fan_in_mask, fan_in_mask
from rnn2snn.errors import Rnn2SnnError
from rnn2snn.presets import PRESETS
from rnn2snn.sweep import check_points, parse_grid
from rnn2snn.targets.truenorth.resources import count_resources, plan_cores

PAPER = PipelineConfig()


def _own_vectors(config: PipelineConfig) -> PipelineConfig:
    """``config`` with learned word vectors: the cores do not depend on them, and the packaged
    GloVe needs the [vectors] extra, which the README's test command does not install."""
    return replace(config, vectors=None, keep_vector_words=False)


BEST = _own_vectors(PRESETS["best"])
WIDE = replace(PAPER, proj_dim=200, hidden_dim=48)  # the wide projection


class Trained(Rnn2SnnError):
    """Raised where training would start: reaching it means nothing refused the run before."""


def _refusal(config, model=None) -> str:
    with pytest.raises(ParameterLimitError) as err:
        check_pipeline_config(config, model)
    assert err.value.parameter == "max_cores"
    return str(err.value)


def test_wide_projection_is_refused_naming_the_count_and_every_knob():
    message = _refusal(replace(WIDE, max_cores=8))
    assert message.startswith("max_cores=8: the layout may take up to 48 cores, more than 8")
    assert "keeps its own 64 strongest of 248 sources" in message
    # the knobs, each with the value that fits the budget
    assert "cores=8 or fewer" in message
    assert "proj_dim=16 or fewer (now proj_dim + hidden_dim = 200 + 48 = 248 sources" in message
    assert "max_fan_in=10 or lower" in message  # 256 // (4 × 10) = 6 ≥ 48 / 8 a core
    assert "hidden_dim=8 or fewer" in message


def test_each_suggested_value_really_fits_the_budget():
    for fixed in (replace(WIDE, cores=8), replace(WIDE, max_fan_in=10), replace(WIDE, hidden_dim=8),
                  replace(WIDE, proj_dim=16)):
        plan = core_plan(fixed)
        assert plan.high <= 8, (fixed, plan)
        check_pipeline_config(replace(fixed, max_cores=8))


def test_ensembles_and_blocks_count_all_their_cores():
    best = BEST  # 3 members × 16 cores
    assert core_plan(best).describe().startswith("48 cores (3 ensemble members × 16")
    message = _refusal(replace(best, max_cores=32))
    assert "the layout takes 48 cores, more than 32" in message
    assert "ensemble=2 or fewer members (now 3)" in message
    assert "with each member on 10 cores: cores=10 or fewer (now 16" in message
    message = _refusal(replace(PAPER, ensemble=3, max_cores=2))
    assert "takes 3 cores" in message and "ensemble=2" in message


def test_a_budget_that_fits_passes_and_one_less_is_refused_for_every_preset():
    for name, config in PRESETS.items():
        config = _own_vectors(config)
        plan = core_plan(config)
        assert plan.exact, name  # the presets all have a count known before training
        check_pipeline_config(replace(config, max_cores=plan.high))
        if plan.high > 1:
            _refusal(replace(config, max_cores=plan.high - 1))
    assert core_plan(PAPER).count() == "1 core"


@pytest.mark.parametrize("value, message", [
    (0, "max_cores=0 must be ≥ 1"),
    (2.5, "max_cores=2.5 must be a whole number"),
    (True, "max_cores=True must be a whole number"),
])
def test_bad_budgets_are_refused(value, message):
    with pytest.raises(Rnn2SnnError, match=message.replace("(", r"\(").replace(")", r"\)")):
        check_pipeline_config(replace(PAPER, max_cores=value))


@settings(max_examples=60, deadline=None)
@given(h=st.integers(1, 51), sources=st.integers(0, 300), fan_in=st.integers(1, 64),
       every_type=st.booleans(), seed=st.integers(0, 2 ** 16))
def test_the_plan_bounds_the_count_the_fan_in_step_gives(h, sources, fan_in, every_type, seed):
    """The real resource count of any free layout lies inside the plan made before training."""
    rng = np.random.default_rng(seed)
    mask = fan_in_mask(torch.from_numpy(rng.normal(size=(h, sources + h))), fan_in).numpy()
    types = np.ones((4, *mask.shape), bool) if every_type else rng.random((4, *mask.shape)) < 0.5
    cores = count_resources(types & mask[None], sources).cores
    plan = plan_cores(sources, (h,), fan_in)
    assert plan.low <= cores <= plan.high


def test_a_block_layout_takes_exactly_its_cores():
    w = torch.from_numpy(np.random.default_rng(0).normal(size=(64, 64 + 64)))
    mask, groups = block_fan_in_mask(w, 64, 4, 64)
    bits = np.ones((4, *mask.shape), bool) & mask.numpy()[None]
    assert count_resources(bits, 64, groups).cores == plan_cores(64, (64,), 64, cores=4).high == 4


class RawRNN(nn.Module):
    """100 raw input channels (no projection) → nn.RNN → Linear: the issue's 35-core case."""

    def __init__(self, channels=100, hidden=32, layers=1):
        super().__init__()
        self.rnn = nn.RNN(channels, hidden, num_layers=layers, nonlinearity="relu", batch_first=True)
        self.out = nn.Linear(hidden, 2)

    def forward(self, x, lengths):
        v, _ = self.rnn(x)
        return self.out(v[torch.arange(len(lengths)), lengths - 1])


def _features(n=40, channels=100, seed=0):
    rng = np.random.default_rng(seed)
    return (rng.normal(size=(n, 6, channels)).astype(np.float32), np.full(n, 6),
            np.arange(n) % 2)


def test_a_users_model_is_counted_from_its_own_sources_and_refused_before_training(monkeypatch):
    import rnn2snn.pipeline as pipeline

    def trained(*args, **kwargs):
        raise Trained("training started")

    monkeypatch.setattr(pipeline, "constrain_and_convert", trained)
    torch.manual_seed(0)
    data = _features()
    with pytest.raises(ParameterLimitError) as err:
        pipeline.convert_model(RawRNN(), data, data, pooling="last",
                               config=replace(PAPER, max_cores=4), progress=False)
    message = str(err.value)
    assert "may take up to 32 cores, more than 4" in message
    assert "233 sources (200 input units (100 input channels, each split into its positive and " \
           "negative part) + 1 bias input + 32 recurrent neurons)" in message
    lines = []
    with pytest.raises(Trained):  # no budget: the count is logged, then training starts
        pipeline.convert_model(RawRNN(), data, data, pooling="last", config=PAPER, log=lines.append)
    assert lines and lines[0].startswith("cores: 1 to 32 cores (known only after the fan-in step")
    assert lines[0].endswith("no max_cores budget set")


def test_stacked_layers_take_a_core_each_and_refuse_cores():
    torch.manual_seed(0)
    from rnn2snn.model.from_torch import read_torch_model

    model = read_torch_model(RawRNN(channels=4, hidden=8, layers=3), "last").config
    assert core_plan(PAPER, model).describe().startswith("3 cores (3 stacked recurrent layers")
    message = _refusal(replace(PAPER, max_cores=2), model)
    assert "To fit 2: 2 stacked recurrent layers or fewer (now 3)" in message
    with pytest.raises(Rnn2SnnError, match="stacked layers, which take one core each: leave cores unset"):
        check_pipeline_config(replace(PAPER, cores=2), model)


def test_run_pipeline_logs_the_count_before_training(monkeypatch, trec):
    import rnn2snn.pipeline as pipeline

    def trained(*args, **kwargs):
        raise Trained("training started")

    monkeypatch.setattr(pipeline, "_run_pipeline", trained)
    lines = []
    with pytest.raises(Trained):
        pipeline.run_pipeline(*trec, BEST, log=lines.append)
    assert lines == [cores_message(BEST)]
    assert lines[0].startswith("cores: 48 cores (3 ensemble members × 16")
    with pytest.raises(ParameterLimitError):
        pipeline.run_pipeline(*trec, replace(PAPER, ensemble=2, max_cores=1), log=lines.append)


def test_reproduce_prints_the_count_and_refuses_over_budget_before_training(monkeypatch, capsys, tmp_path):
    import rnn2snn.pipeline as pipeline

    def trained(*args, **kwargs):
        raise Trained("training started")

    monkeypatch.setattr(pipeline, "_run_pipeline", trained)
    out = tmp_path / "run"
    assert cli.main(["reproduce", "--out", str(out), "--proj-dim", "200", "--max-cores", "8"]) == 2
    err = capsys.readouterr().err
    assert "rnn2snn: error: max_cores=8 (--max-cores): the layout may take up to 16 cores" in err
    assert "cores=8 or fewer" in err and not out.exists()
    assert cli.main(["reproduce", "--out", str(out), "--cores", "4", "--hidden-dim", "64",
                     "--proj-dim", "64"]) == 2
    captured = capsys.readouterr()
    assert "training started" in captured.err  # the run got as far as training …
    assert ("cores: 4 cores (the 64 recurrent neurons spread over 4 cores by the cores setting); "
            "no max_cores budget set") in captured.out  # … and printed its cores before


def test_sweep_grid_takes_a_budget_and_refuses_a_point_over_it():
    grid = parse_grid(["hidden_dim=8,16", "max_cores=1"])
    assert grid["max_cores"] == [1]
    check_points(grid, PAPER)
    point = r"grid point \{'ensemble': 2, 'max_cores': 1\}: max_cores=1"
    with pytest.raises(ParameterLimitError, match=point):
        check_points(parse_grid(["ensemble=1,2", "max_cores=1"]), PAPER)
