"""NIR export (rnn2snn.targets.nir.export) and Norse running it (rnn2snn.targets.nir.norse)."""

from __future__ import annotations

import importlib
import subprocess
import sys
import warnings
from dataclasses import replace

import numpy as np
import pytest
from extras import need

from rnn2snn.errors import Rnn2SnnError
from rnn2snn.program.network import SpikingConfig, SpikingRNN, simulate, split_weights
from rnn2snn.program.neuron import NeuronParams
from rnn2snn.targets.nir.export import (
    NirExportWarning,
    nir_differences,
    nir_exact_neurons,
    to_nir,
    with_nir_neurons,
    write_nir,
)

nir = need("nir")

STANDARD = {"Input", "Linear", "IF", "Output"}


def _net(weights, threshold, config, neurons=None) -> SpikingRNN:
    weights = np.asarray(weights)
    h = weights.shape[0]
    if neurons is None:  # as rnn2snn.program.network.convert makes them
        neurons = NeuronParams.make(h, threshold=threshold, neg_threshold=threshold)
    return SpikingRNN(bits=split_weights(weights), neurons=neurons, config=config,
                      n_inputs=weights.shape[1] - h)


def _random_net(rng, p=12, h=10, config=SpikingConfig(), exact=True) -> SpikingRNN:
    w = rng.integers(-8, 8, size=(h, p + h)) * (rng.random((h, p + h)) < 0.5)
    net = _net(w, 12, config)
    return with_nir_neurons(net) if exact else net


def _random_inputs(rng, n=9, steps=6, p=12):
    x = rng.integers(0, 16, size=(n, steps, p))
    lengths = rng.integers(1, steps + 1, size=n)
    lengths[0] = steps
    return x, lengths


def _has_cycle_through(edges, node) -> bool:
    succ = {}
    for a, b in edges:
        succ.setdefault(a, []).append(b)
    seen, stack = set(), list(succ.get(node, []))
    while stack:
        n = stack.pop()
        if n == node:
            return True
        if n not in seen:
            seen.add(n)
            stack.extend(succ.get(n, []))
    return False


def test_written_file_reads_back_as_standard_nodes_with_a_cycle(tmp_path):
    net = _random_net(np.random.default_rng(0))
    path = write_nir(net, tmp_path / "g.nir", exact=True)
    assert [p.name for p in tmp_path.iterdir()] == ["g.nir"]  # atomic: no temporary left
    g = nir.read(path)
    assert {type(n).__name__ for n in g.nodes.values()} <= STANDARD
    assert _has_cycle_through(g.edges, "neurons")
    assert g.nodes["neurons"].v_threshold.tolist() == [11.5] * 10  # α − ½
    assert np.array_equal(g.nodes["w_rec"].weight, np.tensordot([1, 2, 4, -8], net.bits, 1)[:, 12:])
    relays = [k for k in g.nodes if k.startswith("relay_")]
    assert len(relays) == net.config.delay  # one relay per tick of delay
    assert int(g.metadata["ticks_per_word"]) == 15 and int(g.metadata["recurrent_delay_ticks"]) == 15


def test_truenorth_exact_program_is_refused_when_exact_and_warned_otherwise():
    net = _random_net(np.random.default_rng(1), exact=False)
    with pytest.raises(Rnn2SnnError, match=r"negative floor −β=−12 \(saturating negative threshold\)"):
        to_nir(net, exact=True)
    with pytest.raises(Rnn2SnnError, match="linear reset"):
        to_nir(net, exact=True)
    with pytest.warns(NirExportWarning, match="linear reset .* negative floor"):
        g = to_nir(net, exact=False)
    assert {type(n).__name__ for n in g.nodes.values()} <= STANDARD
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        to_nir(with_nir_neurons(net), exact=True)  # nothing to warn about
    assert nir_differences(nir_exact_neurons(12, 4)) == []


need("norse")
norse_run = importlib.import_module("rnn2snn.targets.nir.norse")  # imports norse


@pytest.mark.parametrize("d", [1, 2, 15])
def test_recurrent_spike_arrives_d_ticks_later_in_norse(d):
    # One neuron: one input spike fires it at tick 0; its own spike (weight 7 ≥ α = 5)
    # comes back every d ticks.
    cfg = SpikingConfig(delay=d, neg_delay=d)
    net = with_nir_neurons(_net([[7, 7]], 5, cfg))
    x = np.zeros((1, 3, 1), dtype=np.int64)
    x[0, 0, 0] = 1
    _, raster = norse_run.run_norse(to_nir(net, exact=True), x, [3], record=True)
    assert np.flatnonzero(raster[0, :, 0]).tolist() == list(range(0, 45, d))


@pytest.mark.parametrize("config", [
    SpikingConfig(),
    SpikingConfig(delay=3, neg_delay=7, input_schedule="early", neg_input_schedule="spread",
                  flush_ticks=2),
    SpikingConfig(delay=1, neg_delay=1, input_schedule="spread", neg_input_schedule="spread"),
])
def test_norse_equals_rnn2snn_spike_for_spike_with_nir_exact_neurons(config, tmp_path):
    rng = np.random.default_rng(2)
    net = _random_net(rng, config=config)
    x, lengths = _random_inputs(rng)
    ours = simulate(net, x, lengths, record=True)
    path = write_nir(net, tmp_path / "g.nir", exact=True)
    counts, raster = norse_run.run_norse(path, x, lengths, record=True)  # timing from metadata
    assert ours.raster.any() and ours.raster.sum() > 50
    assert np.array_equal(raster, ours.raster)
    assert np.array_equal(counts, ours.counts)
    # The delay is not a detail this network ignores:
    wrong = replace(net, config=replace(config, delay=config.delay % 15 + 1))
    assert not np.array_equal(simulate(wrong, x, lengths, record=True).raster, ours.raster)


def test_norse_reads_the_truenorth_program_with_reset_to_zero_and_no_floor():
    rng = np.random.default_rng(3)
    net = _random_net(rng, exact=False)
    x, lengths = _random_inputs(rng)
    with pytest.warns(NirExportWarning):
        g = to_nir(net)
    counts = norse_run.run_norse(g, x, lengths)
    assert np.array_equal(counts, simulate(with_nir_neurons(net), x, lengths).counts)
    assert not np.array_equal(counts, simulate(net, x, lengths).counts)


def test_trained_model_slice_spike_for_spike(small_run):
    from rnn2snn.constrain.steps import input_levels

    r = small_run
    n = 30
    x = input_levels(r.model, r.test)[:n]
    lengths = r.test.lengths[:n] + getattr(r.model.config, "lag", 0)
    net = with_nir_neurons(r.snn)
    ours = simulate(net, x, lengths, record=True)
    counts, raster = norse_run.run_norse(to_nir(net, exact=True), x, lengths, record=True)
    assert ours.raster.sum() > 100
    assert np.array_equal(raster, ours.raster)
    assert np.array_equal(counts, ours.counts)


def test_missing_norse_is_a_clear_error(monkeypatch):
    monkeypatch.setitem(sys.modules, "norse", None)
    monkeypatch.setitem(sys.modules, "norse.torch", None)
    net = _random_net(np.random.default_rng(4))
    with pytest.raises(Rnn2SnnError, match=r"pip install -e '\.\[crosscheck\]'"):
        norse_run.run_norse(to_nir(net, exact=True), np.zeros((1, 1, 12), int), [1])


def test_importing_rnn2snn_does_not_import_nir_or_norse():
    code = ("import sys, rnn2snn, rnn2snn.targets.nir; "
            "bad = [m for m in ('nir', 'norse', 'nirtorch') if m in sys.modules]; "
            "assert not bad, bad")
    subprocess.run([sys.executable, "-c", code], check=True)


def test_crosscheck_benchmark_on_a_slice(small_run):
    import importlib.util
    from pathlib import Path

    from rnn2snn.constrain.steps import input_levels, readout_logits

    path = Path(__file__).resolve().parents[2] / "benchmarks" / "crosscheck.py"
    spec = importlib.util.spec_from_file_location("crosscheck", path)
    crosscheck = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(crosscheck)
    r, n = small_run, 30
    x = input_levels(r.model, r.test)[:n]
    words = r.test.lengths[:n]
    out = crosscheck.norse_crosscheck(r.snn, x, words + getattr(r.model.config, "lag", 0),
                                      lambda c: readout_logits(r.model, c, words), r.test.labels[:n])
    assert out["questions"] == n and not out["norse_program_exact"]
    assert any("negative floor" in c for c in out["norse_changes"])
    assert 0.5 <= out["norse_prediction_agreement"] <= 1 and 0 < out["norse_window_exact"] <= 1
    exact = out["nir_neurons"]
    assert exact["spike_for_spike"] and exact["ticks"]["mismatches"] == 0
    assert exact["norse_on_program_export_equal"]  # Norse reads the program with NIR-exact neurons
    assert out["norse_difference_causes"]["both (NIR-exact neurons)"]["window_exact"] == \
        out["norse_window_exact"]


def test_readme_norse_snippet_runs_on_an_exported_program(small_run, tmp_path, monkeypatch):
    """The README's ```py block (Norse reading the export) runs as written."""
    import re
    from pathlib import Path

    from rnn2snn.cli import main
    from rnn2snn.program import save_program

    readme = (Path(__file__).resolve().parents[2] / "README.md").read_text(encoding="utf-8")
    (snippet,) = re.findall(r"```py\n(.*?)```", readme, flags=re.S)
    model = save_program(small_run.program, tmp_path / "model")
    monkeypatch.chdir(tmp_path)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        assert main(["export", "--model", str(model), "--format", "nir", "--out", "g.nir"]) == 0
    scope: dict = {}
    exec(compile(snippet, "README.md ```py block", "exec"), scope)
    assert scope["counts"].shape == (4, small_run.program.n_hidden)
    assert float(scope["counts"].sum()) > 0
