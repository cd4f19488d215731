"""The converted program: built from the trained model, saved, loaded, validated, run without torch."""

import json
import subprocess
import sys

import numpy as np
import pytest

from rnn2snn.errors import ModelFileError
from rnn2snn.predict import predict_texts
from rnn2snn.program import load_program, run_integer, save_program, simulate_program
from rnn2snn.program.io import ARRAYS_FILE, JSON_FILE


@pytest.fixture()
def saved(small_run, tmp_path):
    return save_program(small_run.program, tmp_path / "model")


def test_roundtrip_gives_the_same_spikes_and_predictions(small_run, saved):
    loaded = load_program(saved)
    test = small_run.test.subset(range(100))
    a = simulate_program(small_run.program, test.inputs, test.lengths)
    b = simulate_program(loaded, test.inputs, test.lengths)
    assert np.array_equal(a.counts, b.counts) and np.array_equal(a.logits, b.logits)
    assert loaded.classes == tuple(small_run.classes)
    assert loaded.provenance["stages"]["spiking"]["test"] == small_run.stage("spiking").test_accuracy


def test_program_reproduces_the_pipelines_spiking_and_integer_figures(small_run):
    p, test = small_run.program, small_run.test
    spk = simulate_program(p, test.inputs, test.lengths)
    assert float((spk.predictions == test.labels).mean()) == small_run.stage("spiking").test_accuracy
    integer = run_integer(p, test.inputs, test.lengths)
    assert float((integer.predictions == test.labels).mean()) == small_run.conversion["test_integer_accuracy"]


def test_predict_answers_each_question_and_warns(saved, small_run):
    out = predict_texts(saved, ["Who wrote Hamlet ?", "How many feet are in a mile ?", "", "qqzx vvbnm"])
    assert len(out) == 4 and all(p.label in small_run.classes for p in out)
    assert not out[0].warnings
    assert any("empty" in w for w in out[2].warnings)
    assert out[3].unknown == ("qqzx", "vvbnm") and any("vocabulary" in w for w in out[3].warnings)
    assert len(out[0].spike_counts) == small_run.program.layers[-1].n_hidden


def test_predict_and_program_never_import_torch(saved):
    code = ("import sys; from rnn2snn.predict import predict_texts; "
            f"predict_texts({str(saved)!r}, ['What is the capital of Peru ?']); "
            "from rnn2snn.cli import main; "
            f"main(['predict', '--model', {str(saved)!r}, 'Who wrote Hamlet ?']); "
            "assert 'torch' not in sys.modules, 'torch was imported'")
    subprocess.run([sys.executable, "-c", code], check=True, capture_output=True)


def _edit(saved, change):
    path = saved / JSON_FILE
    tree = json.loads(path.read_text())
    change(tree)
    path.write_text(json.dumps(tree))


@pytest.mark.parametrize("change, message", [
    (lambda t: t["layers"][0].update(threshold="15"), r"layers\[0\]\.threshold: expected an integer"),
    (lambda t: t["layers"][0].update(threshold=0), r"threshold.*≥ 1"),
    (lambda t: t["layers"][0].update(carry_residual="no"), r"carry_residual: expected true or false"),
    (lambda t: t.update(classes="ABCDEF"), r"classes: expected a list"),
    (lambda t: t["timing"].update(input_schedule="sideways"), r"input_schedule"),
    (lambda t: t["timing"].update(ticks_per_word="15"), r"timing\.ticks_per_word: expected an integer"),
    (lambda t: t["layers"][0].update(colour="red"), r"layers\[0\]\.colour: unknown field"),
    (lambda t: t.update(version=99), r"version: 99"),
    (lambda t: t["readout"].update(pooling="median"), r"pooling"),
])
def test_hand_edited_program_json_is_refused_naming_the_field(saved, change, message):
    _edit(saved, change)
    with pytest.raises(ModelFileError, match=message):
        load_program(saved)


def test_corrupt_or_missing_files_are_refused(saved, tmp_path):
    (saved / JSON_FILE).write_text("{not json")
    with pytest.raises(ModelFileError, match="not valid JSON"):
        load_program(saved)
    with pytest.raises(ModelFileError, match="no such program folder"):
        load_program(tmp_path / "nope")


def test_changed_arrays_are_refused(saved):
    f = saved / ARRAYS_FILE
    f.write_bytes(f.read_bytes()[:1000])
    with pytest.raises(ModelFileError, match="sha256"):
        load_program(saved)


def test_saving_replaces_a_program_as_a_whole_and_refuses_other_folders(small_run, tmp_path):
    target = save_program(small_run.program, tmp_path / "p")
    save_program(small_run.program, target)  # replaces the old one
    assert sorted(x.name for x in target.iterdir()) == sorted([JSON_FILE, ARRAYS_FILE])
    assert [x.name for x in tmp_path.iterdir()] == ["p"]  # no temporary folder left behind
    other = tmp_path / "other"
    other.mkdir()
    (other / "notes.txt").write_text("mine")
    with pytest.raises(ModelFileError, match="something other than a program"):
        save_program(small_run.program, other)
    (tmp_path / "file").write_text("x")
    with pytest.raises(ModelFileError, match="not a folder"):
        save_program(small_run.program, tmp_path / "file")


def test_carried_membrane_survives_the_roundtrip(saved):
    assert load_program(saved).network().carry_residual
