import json

from rnn2snn.cli import main


def test_reproduce_on_generic_files_and_predict(tmp_path, trec, capsys):
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
    code = main(["reproduce", "--train", str(tr), "--test", str(te), "--out", str(out),
                 "--preset", "tiny", "--quiet", "--seed", "1"])
    assert code == 0
    res = json.loads((out / "results.json").read_text())
    assert [s["name"] for s in res["stages"]][-1] == "spiking"
    assert res["classes"] == ["HUM", "LOC", "NUM"] and res["seed"] == 1
    for f in ("report.md", "accuracy_by_stage.png", "raster.png", "model/config.json"):
        assert (out / f).is_file()
    assert "| spiking |" in (out / "report.md").read_text()
    capsys.readouterr()
    assert main(["predict", "--model", str(out / "model"), "Who", "was", "Lincoln", "?"]) == 0
    printed = capsys.readouterr().out
    assert "class: " in printed and "spike counts" in printed


def test_bad_data_line_exits_with_file_and_line(tmp_path, capsys):
    tr = tmp_path / "train.txt"
    tr.write_text("A some text\nB\n")
    code = main(["reproduce", "--train", str(tr), "--test", str(tr), "--out", str(tmp_path)])
    assert code == 2
    assert "train.txt:2" in capsys.readouterr().err


def test_refused_hardware_parameters_exit_cleanly(tmp_path, capsys, trec_dir):
    code = main(["reproduce", "--data-dir", str(trec_dir), "--out", str(tmp_path),
                 "--delay", "16"])
    assert code == 2 and "delay=16" in capsys.readouterr().err
    code = main(["reproduce", "--data-dir", str(trec_dir), "--out", str(tmp_path),
                 "--ticks-per-word", "10"])
    assert code == 2 and "levels − 1" in capsys.readouterr().err


def test_predict_with_missing_model(tmp_path, capsys):
    assert main(["predict", "--model", str(tmp_path / "none"), "hi"]) == 2
    assert "no such folder" in capsys.readouterr().err


def test_export_and_verify_commands(small_run, tmp_path, capsys, trec_dir):
    from rnn2snn.export import save_model

    r = small_run
    model = save_model(tmp_path / "model", r.model, r.vocab, r.classes, r.config.spiking)
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
