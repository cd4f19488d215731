import json
import os
import time

import pytest
import torch

from rnn2snn.cli import build_parser, main


def test_reproduce_on_generic_files_and_predict(tmp_path, trec, capsys, monkeypatch):
    train, test = trec
    # A generic file with 3 classes, written from real TREC questions
    keep = {"HUM", "LOC", "NUM"}
    tr = tmp_path / "train.txt"
    te = tmp_path / "test.txt"
    tr.write_text("".join(f"{lab} {' '.join(t)}\n" for t, lab in zip(train.texts[:900],
                                                                     train.labels[:900], strict=False)
                          if lab in keep))
    te.write_text("".join(f"{lab} {' '.join(t)}\n" for t, lab in zip(test.texts, test.labels, strict=False)
                          if lab in keep))
    out = tmp_path / "run"
    import rnn2snn.pipeline

    captured, threads = [], []
    run = rnn2snn.pipeline.run_pipeline

    def recorded(*args, **kwargs):
        threads.append(torch.get_num_threads())
        captured.append(run(*args, **kwargs))
        return captured[-1]

    monkeypatch.setattr(rnn2snn.pipeline, "run_pipeline", recorded)
    torch.set_num_threads(2)
    code = main(["reproduce", "--train", str(tr), "--test", str(te), "--out", str(out),
                 "--preset", "tiny", "--quiet", "--seed", "1", "--threads", "2"])
    assert code == 0
    # figures independent of --threads: the pipeline always runs with one PyTorch thread
    assert threads == [1] and torch.get_num_threads() == 2
    printed = capsys.readouterr().out
    assert "spiking test accuracy" in printed and "Diehl" not in printed  # not TREC's 6 classes
    res = json.loads((out / "results.json").read_text())
    assert [s["name"] for s in res["stages"]][-1] == "spiking"
    assert res["classes"] == ["HUM", "LOC", "NUM"] and res["seed"] == 1
    for f in ("report.md", "accuracy_by_stage.png", "raster.png", "model/program.json"):
        assert (out / f).is_file()
    assert "| spiking |" in (out / "report.md").read_text()
    _write_run_is_atomic(captured[0], out, monkeypatch)
    capsys.readouterr()
    assert main(["predict", "--model", str(out / "model"), "Who", "was", "Lincoln", "?"]) == 0
    printed = capsys.readouterr().out
    assert "class: " in printed and "spike counts" in printed


def test_bad_data_line_exits_with_file_and_line(tmp_path, capsys):
    tr = tmp_path / "train.txt"
    tr.write_text("A some text\nB\n")
    code = main(["reproduce", "--train", str(tr), "--test", str(tr), "--out", str(tmp_path / "run")])
    assert code == 2
    assert "train.txt:2" in capsys.readouterr().err
    assert not (tmp_path / "run").exists()


def test_refused_hardware_parameters_exit_cleanly(tmp_path, capsys, trec_dir):
    code = main(["reproduce", "--data-dir", str(trec_dir), "--out", str(tmp_path),
                 "--delay", "16"])
    assert code == 2 and "delay=16" in capsys.readouterr().err
    code = main(["reproduce", "--data-dir", str(trec_dir), "--out", str(tmp_path),
                 "--ticks-per-word", "10"])
    assert code == 2 and "levels − 1" in capsys.readouterr().err


def test_predict_with_missing_model(tmp_path, capsys):
    assert main(["predict", "--model", str(tmp_path / "none"), "hi"]) == 2
    err = capsys.readouterr().err
    assert "no such" in err and "folder" in err


def test_export_and_verify_commands(small_run, tmp_path, capsys, trec_dir):
    from rnn2snn.program import save_program

    model = save_program(small_run.program, tmp_path / "model")
    out = tmp_path / "tn.json"
    assert main(["export", "--model", str(model), "--format", "truenorth", "--out", str(out)]) == 0
    assert "1 core(s)" in capsys.readouterr().out
    args = ["verify", "--model", str(model), "--data-dir", str(trec_dir), "--limit", "40"]
    assert main(args + ["--config", str(out)]) == 0
    printed = capsys.readouterr().out
    assert "questions: 40" in printed and "mismatches: 0" in printed
    data = json.loads(out.read_text())
    data["cores"][0]["neurons"][0]["threshold"] += 3
    out.write_text(json.dumps(data))
    assert main(args + ["--config", str(out)]) == 1
    assert "mismatches: 0" not in capsys.readouterr().out
    data["cores"][0]["neurons"][0]["target"] = {"core": 0, "axon": 0, "delay": 0}
    out.write_text(json.dumps(data))
    assert main(args + ["--config", str(out)]) == 2
    assert "delay=0" in capsys.readouterr().err


def _write_run_is_atomic(result, out, monkeypatch):
    """An interrupt while a run is written leaves the previous run whole; a rerun replaces it whole."""
    import rnn2snn.report as report

    def files():
        return {p.relative_to(out): p.read_bytes() for p in out.rglob("*") if p.is_file()}

    before = files()
    real = report.plot_raster

    def interrupted(*args, **kwargs):  # after the model and two plots are written
        raise KeyboardInterrupt

    monkeypatch.setattr(report, "plot_raster", interrupted)
    with pytest.raises(KeyboardInterrupt):
        report.write_run(result, out, "interrupted")
    assert files() == before
    monkeypatch.setattr(report, "plot_raster", real)
    (out / "stale.txt").write_text("from before")
    report.write_run(result, out, "again")
    assert json.loads((out / "results.json").read_text())["command"] == "again"
    assert not (out / "stale.txt").exists() and (out / "model").is_dir()
    assert [p.name for p in out.parent.iterdir() if p.name.startswith(".")] == []


@pytest.fixture
def files(tmp_path):
    tr, te = tmp_path / "train.txt", tmp_path / "test.txt"
    tr.write_text("".join(f"{'AB'[i % 2]} what is word {i % 5} ?\n" for i in range(40)))
    te.write_text("A what is word 1 ?\nB what is word 2 ?\n")
    return tr, te


def _no_training(*args, **kwargs):
    raise AssertionError("training started")


# Each bad value: exit code 2, a message naming the parameter, no training, no output folder.
BAD_CLI = [
    (["--cores", "0"], "cores=0 (--cores) must be in 1…16: each core holds at least one of the "
                       "hidden_dim=16 recurrent neurons"),
    (["--max-fan-in", "0"], "max_fan_in=0 (--max-fan-in) must be in 1…64"),
    (["--max-fan-in", "100"], "max_fan_in=100 (--max-fan-in) must be in 1…64: a core has 256 axons "
                              "and each source needs up to 4"),
    (["--hidden-dim", "0"], "hidden_dim=0 (--hidden-dim) must be ≥ 1"),
    (["--hidden-dim", "64"], "hidden_dim=64 (--hidden-dim) without cores: on one core each recurrent "
                             "neuron needs up to 5 copies"),
    (["--proj-dim", "0"], "proj_dim=0 (--proj-dim) must be ≥ 1"),
    (["--embed-dim", "0"], "embed_dim=0 (--embed-dim) must be ≥ 1"),
    (["--seed", "-1"], "seed=-1 (--seed) must be in 0…4294967295"),
    (["--min-count", "0"], "min_count=0 (--min-count) must be ≥ 1"),
    (["--ticks-per-word", "20"], "ticks_per_word=20 (--ticks-per-word) is over 15, the longest axonal "
                                 "delay (1…15 ticks): a recurrent spike must land in the next word's "
                                 "window"),
    (["--ticks-per-word", "10"], "levels − 1"),
    (["--delay", "16"], "delay=16 (--delay) must be in 1…15"),
    (["--delay", "0"], "delay=0 (--delay) must be in 1…15"),
    (["--vectors", "/no/such/file.txt"], "vectors='/no/such/file.txt' (--vectors): no such file"),
    (["--out", "/dev/null"], "--out /dev/null exists and is not a folder"),
    (["--out", "{tmp}/train.txt"], "train.txt exists and is not a folder"),
    (["--out", "{tmp}/train.txt/run"], "train.txt is a file, not a folder"),
    (["--out", "{tmp}"], "is a folder that holds other files and no results.json"),
    (["--out", "/proc/rnn2snn-run"], "cannot create folders in /proc"),
    (["--out", "{tmp}/{long}"], "File name too long"),
    (["--encoding", "klingon"], "'klingon' (--encoding) is unknown"),
    (["--labels", "fine"], "--labels chooses TREC's label set"),
    (["--data-dir", "{tmp}"], "--data-dir names TREC's folder; it does not go with --train/--test"),
    (["--min-count", "1000"], "min_count=1000 (--min-count) keeps no word: the most frequent "
                              "training word occurs"),
]


@pytest.mark.parametrize(("extra", "message"), BAD_CLI, ids=[" ".join(e) for e, _ in BAD_CLI])
def test_bad_values_fail_before_training(extra, message, files, tmp_path, capsys, monkeypatch):
    import rnn2snn.pipeline

    monkeypatch.setattr(rnn2snn.pipeline, "run_pipeline", _no_training)
    tr, te = files
    out = tmp_path / "run"
    extra = [e.format(tmp=tmp_path, long="x" * 300) for e in extra]
    start = time.perf_counter()
    code = main(["reproduce", "--train", str(tr), "--test", str(te), "--out", str(out), *extra])
    seconds = time.perf_counter() - start
    err = capsys.readouterr().err
    assert code == 2, err
    assert err.startswith("rnn2snn: error: ") and message in err
    assert len(err.splitlines()) == 1  # one line, no traceback
    assert seconds < 5
    assert sorted(p.name for p in tmp_path.iterdir()) == ["test.txt", "train.txt"]


def test_one_class_is_refused(tmp_path, capsys, monkeypatch):
    import rnn2snn.pipeline

    monkeypatch.setattr(rnn2snn.pipeline, "run_pipeline", _no_training)
    tr = tmp_path / "train.txt"
    tr.write_text("".join(f"A question number {i}\n" for i in range(20)))
    code = main(["reproduce", "--train", str(tr), "--test", str(tr), "--out", str(tmp_path / "run")])
    err = capsys.readouterr().err
    assert code == 2 and "train.txt" in err and "a classifier needs at least" in err
    assert not (tmp_path / "run").exists()


def test_min_count_mapping_most_words_to_unk_warns(files, tmp_path, capsys, monkeypatch):
    import rnn2snn.pipeline

    monkeypatch.setattr(rnn2snn.pipeline, "run_pipeline", _no_training)
    tr, te = files  # "what", "is", "word", "?" occur 36 times each in the fit split, digits ≤ 8
    tr.write_text("".join(f"{'AB'[i % 2]} what w{i} v{i} u{i} t{i}\n" for i in range(40)))
    with pytest.raises(AssertionError, match="training started"):
        main(["reproduce", "--train", str(tr), "--test", str(te), "--out", str(tmp_path / "run")])
    err = capsys.readouterr().err
    assert "rnn2snn: warning: min_count=2 (--min-count) maps 80.0 % of the training words" in err


def test_summary_compares_with_the_paper_only_on_trec_coarse():
    from rnn2snn.cli import _is_trec_coarse

    parse = build_parser().parse_args
    assert _is_trec_coarse(parse(["reproduce"]))
    assert not _is_trec_coarse(parse(["reproduce", "--labels", "fine"]))
    assert not _is_trec_coarse(parse(["reproduce", "--train", "a", "--test", "b"]))


def test_version_and_help(capsys):
    from importlib import metadata

    with pytest.raises(SystemExit) as info:
        main(["--version"])
    assert info.value.code == 0
    assert capsys.readouterr().out.strip() == f"rnn2snn {metadata.version('rnn2snn')}"
    parser = build_parser()
    reproduce = parser._subparsers._group_actions[0].choices["reproduce"]
    text = " ".join(reproduce.format_help().split())
    for name in ("paper", "best-1core", "4core", "16core", "tiny"):
        assert f"{name}: " in text
    assert "(default: the preset's: 16 in paper, tiny; 32 in best-1core" in text
    for action in reproduce._actions:
        if action.dest != "help" and action.help != "==SUPPRESS==":
            assert action.help and "default" in action.help, action.dest


def test_verify_limit_must_be_positive(capsys):
    with pytest.raises(SystemExit) as info:
        main(["verify", "--model", "m", "--limit", "-5"])
    assert info.value.code == 2
    assert "argument --limit: must be ≥ 1, got -5" in capsys.readouterr().err


SWEEP_BAD = [
    (["--grid", "hidden_dim=abc"], "--grid 'hidden_dim=abc': hidden_dim value 'abc' is not a whole "
                                   "number"),
    (["--grid", "dropout=lots"], "dropout value 'lots' is not a number"),
    (["--grid", "unknown=1"], "--grid 'unknown=1': unknown parameter 'unknown'; known parameters: "
                              "activity_levels, carry_residual"),
    (["--grid", "hidden_dim=16,0"], "grid point {'hidden_dim': 0}: hidden_dim=0 (--hidden-dim) must "
                                    "be ≥ 1"),
    (["--grid", "delay=15,16"], "grid point {'delay': 16}: delay=16 (--delay) must be in 1…15"),
    (["--grid", "cores=none,0"], "grid point {'cores': 0}: cores=0 (--cores) must be in 1…16"),
    (["--grid", "seed=0", "--out", "/dev/null"], "--out /dev/null exists and is not a folder"),
    (["--grid", "min_count=2,1000"], "min_count=1000 (--min-count) keeps no word"),
    (["--grid", "seed=0", "--grid", "seed=1"], "seed is given twice"),
]


@pytest.mark.parametrize(("extra", "message"), SWEEP_BAD, ids=[" ".join(e) for e, _ in SWEEP_BAD])
def test_bad_sweeps_fail_before_the_first_run(extra, message, files, tmp_path, capsys, monkeypatch):
    import rnn2snn.sweep

    monkeypatch.setattr(rnn2snn.sweep, "run_sweep", _no_training)
    tr, te = files
    code = main(["sweep", "--train", str(tr), "--test", str(te), "--out", str(tmp_path / "sw"),
                 *extra])
    err = capsys.readouterr().err
    assert code == 2, err
    assert err.startswith("rnn2snn: error: ") and message in err
    assert not (tmp_path / "sw").exists()


def test_no_temporary_folders_left_after_a_refusal(files, tmp_path, capsys):
    tr, te = files
    before = set(os.listdir(tmp_path))
    assert main(["reproduce", "--train", str(tr), "--test", str(te), "--out", str(tmp_path),
                 "--quiet"]) == 2
    assert set(os.listdir(tmp_path)) == before
