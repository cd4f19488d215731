"""Xylo on the command line: limits refused before training, a tiny run end to end, verify, export, predict.

The run is tiny (a few TREC classes, 8 hidden neurons, ``--preset tiny``): these tests check
the plumbing (the folder, the figures it records, xylosim agreeing), not accuracy.
"""

from __future__ import annotations

import json

import numpy as np
import pytest
from extras import needs

from rnn2snn.cli import main


def _write(path, texts, labels, keep=None):
    path.write_text("".join(f"{lab} {' '.join(t)}\n" for t, lab in zip(texts, labels, strict=True)
                            if keep is None or lab in keep), encoding="utf-8")
    return path


@pytest.fixture(scope="module")
def files(trec, tmp_path_factory):
    """A 3-class generic train/test pair made of real TREC questions."""
    train, test = trec
    folder = tmp_path_factory.mktemp("xylo_data")
    keep = {"HUM", "LOC", "NUM"}
    return (_write(folder / "train.txt", train.texts[:600], train.labels[:600], keep),
            _write(folder / "test.txt", test.texts[:120], test.labels[:120], keep))


@pytest.fixture(scope="module")
def run(files, tmp_path_factory):
    """One tiny Xylo run: its folder."""
    train, test = files
    out = tmp_path_factory.mktemp("xylo_run") / "run"
    code = main(["reproduce", "--target", "xylo-audio2", "--train", str(train), "--test", str(test),
                 "--preset", "tiny", "--hidden-dim", "8", "--quiet", "--out", str(out)])
    assert code == 0
    return out


@pytest.fixture
def no_training(monkeypatch):
    """Fail the test if the Xylo chain starts: refusals must come before it."""
    import rnn2snn.pipeline.xylo

    def refuse(*args, **kwargs):
        raise AssertionError("training started")

    monkeypatch.setattr(rnn2snn.pipeline.xylo, "run_xylo", refuse)


@pytest.mark.parametrize("target, flags, words", [
    ("xylo-audio2", ["--proj-dim", "17"], ["proj_dim=17 (--proj-dim)", "16 input channels"]),
    ("xylo-audio2", ["--hidden-dim", "1001"], ["hidden_dim=1001 (--hidden-dim)", "1000 hidden neurons"]),
    ("xylo-audio2", ["--hidden-dim", "65"], ["hidden_dim=65 (--hidden-dim)", "fan-out limit is 64",
                                             "at most 64"]),
    ("xylo-imu", ["--hidden-dim", "497"], ["hidden_dim=497", "496 hidden neurons"]),
    ("xylo-imu", ["--hidden-dim", "179"], ["recurrent memory holds 31,744", "at most 178"]),
    ("xylo-audio2", ["--labels", "fine"], ["50 classes", "8 output neurons", "--labels coarse"]),
    ("xylo-audio2", ["--cores", "4"], ["--cores: not a setting of the xylo-audio2 target", "--hidden-dim"]),
    ("xylo-audio2", ["--preset", "best"], ["--preset best", "--preset xylo-audio2, xylo-best or tiny"]),
])
def test_refused_before_training_naming_the_limit(target, flags, words, no_training, tmp_path, capsys):
    out = tmp_path / "run"
    assert main(["reproduce", "--target", target, *flags, "--quiet", "--out", str(out)]) == 2
    err = capsys.readouterr().err
    for w in words:
        assert w in err, (w, err)
    assert not (out / "results.json").exists()


@pytest.mark.parametrize("target, n_classes, limit", [("xylo-audio2", 9, 8), ("xylo-imu", 17, 16)])
def test_more_classes_than_output_neurons_refused_before_training(target, n_classes, limit, no_training,
                                                                  tmp_path, capsys):
    lines = "".join(f"C{k} word{k} other{k}\n" for k in range(n_classes) for _ in range(3))
    train, test = tmp_path / "train.txt", tmp_path / "test.txt"
    train.write_text(lines)
    test.write_text(lines)
    assert main(["reproduce", "--target", target, "--train", str(train), "--test", str(test), "--quiet",
                 "--out", str(tmp_path / "run")]) == 2
    err = capsys.readouterr().err
    assert f"{n_classes} classes" in err and f"{limit} output neurons" in err


def test_the_pipeline_refuses_a_xylo_target_and_truenorth_is_unchanged():
    from types import SimpleNamespace

    from rnn2snn.checks import ParameterError
    from rnn2snn.program.constraints import TRUENORTH
    from rnn2snn.targets import constraints_of, get_target, runs_pipeline
    from rnn2snn.targets.xylo.spec import XyloSpec

    assert constraints_of(SimpleNamespace(target="truenorth")) is TRUENORTH
    assert runs_pipeline("truenorth") and runs_pipeline("nir") and not runs_pipeline("xylo-imu")
    for name in ("xylo-audio2", "xylo-imu"):
        assert get_target(name).name == name and get_target(name).program_type is XyloSpec
        with pytest.raises(ParameterError, match="its own train-and-constrain chain"):
            constraints_of(SimpleNamespace(target=name))


def test_the_run_folder(run):
    results = json.loads((run / "results.json").read_text())
    names = [s["name"] for s in results["stages"]]
    assert names == ["float", "quantised", "spiking_before_finetune", "spiking"]
    assert all(0 <= s["test_accuracy"] <= 1 and 0 <= s["val_accuracy"] <= 1 for s in results["stages"])
    par = results["parameters"]
    for key in ("dash_syn", "dash_mem", "weight_shift_in", "weight_shift_rec", "weight_shift_out",
                "threshold", "ticks_per_step", "readout", "readout_rule", "target_counts"):
        assert key in par
    assert results["chip"]["name"] == "xylo-audio2" and results["program"]["hidden"] == 8
    assert results["program"]["outputs"] == 3 == len(results["classes"])
    assert results["energy"]["energy_per_question_uj"] > 0
    # the spiking stage's test accuracy is what the saved spec gives in our simulator
    assert results["spiking_test_rerun"] == pytest.approx(names and results["stages"][-1]["test_accuracy"])
    report = (run / "report.md").read_text()
    for text in ("| spiking |", "µJ per question", "Bos & Muir 2024", "dash_syn", "weight_shift_rec"):
        assert text in report
    from rnn2snn.targets.xylo.model import load_xylo_model

    model = load_xylo_model(run / "model")
    assert model.spec.n_hidden == 8 and model.vocab[:2] == ("<pad>", "<unk>")


@needs("xylosim")
@needs("rockpool")
def test_the_run_compares_with_xylosim_and_verify_finds_no_mismatch(run, files, capsys):
    results = json.loads((run / "results.json").read_text())
    assert results["xylosim"]["total_mismatches"] == 0 and results["xylosim"]["values_compared"] > 0
    train, test = files
    capsys.readouterr()
    assert main(["verify", "--model", str(run / "model"), "--train", str(train), "--test", str(test)]) == 0
    out = capsys.readouterr().out
    assert "mismatches: 0" in out and f"questions: {results['xylosim']['examples']}" in out


@needs("xylosim")
@needs("rockpool")
def test_verify_fails_on_a_mismatch(run, files, tmp_path, capsys, monkeypatch):
    import rnn2snn.targets.xylo.simulate as simulate

    train, test = files
    real = simulate.tick

    def off_by_one(core, state, counts):  # our simulator made wrong: Vmem one unit high
        from dataclasses import replace

        new = real(core, state, counts)
        return replace(new, vmem=new.vmem + 1)

    monkeypatch.setattr(simulate, "tick", off_by_one)
    assert main(["verify", "--model", str(run / "model"), "--train", str(train), "--test", str(test),
                 "--limit", "3"]) == 1
    assert "mismatches: 0" not in capsys.readouterr().out


@needs("xylosim")
@needs("rockpool")
def test_an_exported_spec_runs_in_xylosim_from_specification(run, files, tmp_path, capsys):
    from rnn2snn.data.text import Vocabulary, encode, read_labeled_file
    from rnn2snn.targets.xylo.convert import rasters
    from rnn2snn.targets.xylo.model import load_xylo_model
    from rnn2snn.targets.xylo.simulate import classify, simulate
    from rnn2snn.targets.xylo.spec import load_xylosim_kwargs
    from rnn2snn.targets.xylo.xylosim_run import xylosim_class

    out = tmp_path / "spec.npz"
    assert main(["export", "--model", str(run / "model"), "--format", "xylo", "--out", str(out)]) == 0
    assert "Xylo spec for xylo-audio2" in capsys.readouterr().out
    model = load_xylo_model(run / "model")
    test = encode(read_labeled_file(files[1], "utf-8"), Vocabulary(list(model.vocab)), list(model.classes))
    counts, read = rasters(model.spec, test.tokens[:20], test.lengths[:20], model.tail_ticks)
    ours = simulate(model.spec, counts)
    sim = xylosim_class("xylo-audio2").from_specification(**load_xylosim_kwargs(out))
    classes = classify(ours, model.spec.readout, read)
    for b in range(len(counts)):
        sim.reset_state()
        spikes, _, rec = sim(counts[b], record=True)
        assert np.array_equal(np.asarray(spikes), ours.out_spikes[b])
        assert np.array_equal(np.asarray(rec["Vmem_out"]), ours.vmem_out[b])  # what the readout reads
        assert np.asarray(rec["Vmem_out"])[read[b] - 1].argmax() == classes[b]


def test_export_refuses_an_unrelated_file_and_the_wrong_format(run, tmp_path, capsys):
    other = tmp_path / "notes.npz"
    other.write_bytes(b"not ours")
    assert main(["export", "--model", str(run / "model"), "--format", "xylo", "--out", str(other)]) == 2
    assert "not a Xylo spec written by rnn2snn export" in capsys.readouterr().err
    assert other.read_bytes() == b"not ours"
    assert main(["export", "--model", str(run / "model"), "--format", "truenorth",
                 "--out", str(tmp_path / "t.json")]) == 2
    assert "--format xylo" in capsys.readouterr().err
    again = tmp_path / "again.npz"
    assert main(["export", "--model", str(run / "model"), "--out", str(again)]) == 0  # the default format
    assert main(["export", "--model", str(run / "model"), "--out", str(again)]) == 0  # an earlier export


def test_predict_reads_the_class_from_the_chip(run, files):
    from rnn2snn.predict import predict_texts

    texts = ["who wrote hamlet ?", "where is the eiffel tower ?", ""]
    answers = predict_texts(run / "model", texts)
    classes = json.loads((run / "results.json").read_text())["classes"]
    assert [a.text for a in answers] == texts and all(a.label in classes for a in answers)
    for a in answers:
        assert a.label == max(a.scores, key=lambda c: (a.scores[c], -classes.index(c)))
        assert len(a.spike_counts) == 8
    assert answers[2].warnings


def test_chip_config_needs_samna_and_says_so():
    from importlib.util import find_spec

    if find_spec("samna") is not None:
        pytest.skip("samna is installed here: the refusal is for machines without it")
    from xylo_cases import random_spec

    from rnn2snn.targets.xylo.target import chip_config
    from rnn2snn.targets.xylo.xylosim_run import XylosimUnavailableError

    with pytest.raises(XylosimUnavailableError, match="samna"):
        chip_config(random_spec(np.random.default_rng(0), n_hidden=4, n_outputs=2))


def test_verify_without_xylosim_names_the_install(run, files, monkeypatch, capsys):
    import rnn2snn.targets.xylo.xylosim_run as xr

    def missing(chip="xylo-audio2"):
        raise xr.XylosimUnavailableError(f"running xylosim needs rockpool 3.1.0 and xylosim 0.1.3 (no module "
                                         f"named 'xylosim'); install them with: {xr.INSTALL}")

    monkeypatch.setattr(xr, "xylosim_class", missing)
    train, test = files
    assert main(["verify", "--model", str(run / "model"), "--train", str(train), "--test", str(test)]) == 2
    assert 'pip install -e ".[xylo]"' in capsys.readouterr().err


@needs("xylosim")
@needs("rockpool")
@pytest.mark.parametrize("chip, synapses, n_outputs", [("xylo-audio2", 2, 8), ("xylo-imu", 1, 16)])
def test_the_target_export_loads_in_xylosim_with_our_output_spikes(chip, synapses, n_outputs, tmp_path):
    """Output neurons that do spike (the run above reads Vmem): random specs, the target's own export."""
    from xylo_cases import random_spec

    from rnn2snn.errors import HardwareLimitError
    from rnn2snn.targets import get_target
    from rnn2snn.targets.xylo.simulate import simulate
    from rnn2snn.targets.xylo.spec import load_xylosim_kwargs, validate
    from rnn2snn.targets.xylo.xylosim_run import xylosim_class

    rng = np.random.default_rng(7)
    spikes = 0
    for k in range(4):
        spec = random_spec(rng, n_hidden=12, n_outputs=n_outputs, synapses=synapses, chip=chip)
        try:
            validate(spec)
        except HardwareLimitError:
            continue  # random_spec draws past the chip's ranges too; export only takes what fits
        path = get_target(chip).export(spec, tmp_path / f"{k}.npz", True, "").path
        counts = rng.integers(0, 16, (2, 20, 16))
        ours = simulate(spec, counts, record=False)
        sim = xylosim_class(chip).from_specification(**load_xylosim_kwargs(path))
        for b in range(len(counts)):
            sim.reset_state()
            theirs, _, _ = sim(counts[b], record=False)
            assert np.array_equal(np.asarray(theirs), ours.out_spikes[b])
        spikes += int(ours.out_spikes.sum())
    assert spikes > 0


def test_ticks_per_word_sets_the_chip_ticks_a_word(files, tmp_path):
    train, test = files
    out = tmp_path / "run"
    assert main(["reproduce", "--target", "xylo-imu", "--train", str(train), "--test", str(test),
                 "--preset", "tiny", "--hidden-dim", "4", "--ticks-per-word", "2", "--quiet",
                 "--out", str(out)]) == 0
    results = json.loads((out / "results.json").read_text())
    assert results["parameters"]["ticks_per_step"] == 2 and results["chip"]["name"] == "xylo-imu"


def test_the_command_line_names_every_xylo_preset_and_a_truenorth_run_refuses_them(tmp_path, capsys):
    from rnn2snn.cli import main
    from rnn2snn.targets.xylo.limits import PRESET_NAMES
    from rnn2snn.targets.xylo.method import XYLO_PRESETS

    assert PRESET_NAMES == tuple(XYLO_PRESETS)
    assert main(["reproduce", "--preset", "xylo-best", "--out", str(tmp_path / "r"), "--quiet"]) == 2
    assert "--preset xylo-best is a Xylo configuration: add --target xylo-audio2" in capsys.readouterr().err
    assert not (tmp_path / "r").exists()
