import json

import numpy as np
import pytest

from rnn2snn.errors import ModelFileError
from rnn2snn.export import load_model, save_model
from rnn2snn.pipeline import spiking_predictions
from rnn2snn.predict import predict_question
from rnn2snn.spiking.network import convert


@pytest.fixture()
def saved(small_run, tmp_path):
    r = small_run
    return save_model(tmp_path / "model", r.model, r.vocab, r.classes, r.config.spiking)


def test_roundtrip_gives_the_same_spiking_predictions(small_run, saved):
    loaded = load_model(saved)
    test = small_run.test.subset(range(100))
    a, _ = spiking_predictions(small_run.model, small_run.snn, test)
    b, _ = spiking_predictions(loaded.model, convert(loaded.integer(), loaded.spiking), test)
    assert np.array_equal(a, b)
    assert loaded.classes == small_run.classes


def test_predict_question_and_odd_questions(saved, small_run):
    out = predict_question(saved, "What is the capital of Peru ?")
    assert out["class"] in small_run.classes
    assert len(out["spike_counts"]) == small_run.config.hidden_dim
    for q in ("", "   ", "qqzx vvbnm"):
        assert predict_question(saved, q)["class"] in small_run.classes


def test_truncated_weights_are_refused(saved):
    f = saved / "model.safetensors"
    f.write_bytes(f.read_bytes()[:1000])
    with pytest.raises(ModelFileError, match="does not match the sha256"):
        load_model(saved)


def test_weights_from_another_model_are_refused(saved, tmp_path, small_run):
    cfg = json.loads((saved / "config.json").read_text())
    # a consistent digest, but weights of a different shape: refused on loading
    import torch
    from safetensors.torch import save_file

    save_file({"recurrent": torch.zeros(3, 3)}, str(saved / "model.safetensors"))
    import hashlib
    cfg["sha256"]["model.safetensors"] = hashlib.sha256(
        (saved / "model.safetensors").read_bytes()).hexdigest()
    (saved / "config.json").write_text(json.dumps(cfg))
    with pytest.raises(ModelFileError, match="does not fit config.json"):
        load_model(saved)


def test_bad_config_is_refused(saved):
    (saved / "config.json").write_text("{not json")
    with pytest.raises(ModelFileError, match="not valid JSON"):
        load_model(saved)
    (saved / "config.json").write_text(json.dumps({"format": "rnn2snn-model", "version": 99}))
    with pytest.raises(ModelFileError, match="version 99"):
        load_model(saved)
    with pytest.raises(ModelFileError, match="no such folder"):
        load_model(saved / "nope")


def test_carried_membrane_survives_the_roundtrip(small_run, saved):
    loaded = load_model(saved)
    assert loaded.model.constraints.carry_residual is True
    assert loaded.integer().carry_residual
